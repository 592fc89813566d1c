import { DeleteItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { sha256 } from '../../lambda/shared/crypto';
import { ISSUER } from '../support/harness';
import { AuthorizeFixture, authorizationParams, header, locationQuery, type Result, runFlow, setCookies, UserAgent } from '../support/authorize-fixture';

/** The consent page and its decision (catalogue G; AS-18, AS-19, AS-20, AZR-18; remembered consent: docs/SECURITY.md section 2.6). */

const fixture = new AuthorizeFixture();
let client: { clientId: string; redirectUri: string };

beforeAll(async () => {
  await fixture.start();
  client = await fixture.register({ client_name: 'Claude Code' });
}, 60_000);
afterAll(() => fixture.stop());
beforeEach(() => fixture.audit.clear());

const params = (overrides: Record<string, string | undefined> = {}, target = client) => authorizationParams(target.clientId, target.redirectUri, overrides);

async function consentFor(agent: UserAgent, overrides: Record<string, string | undefined> = {}, target = client) {
  return agent.openConsent(await agent.authorize(params(overrides, target).query));
}

function expectSecurityHeaders(result: Result) {
  const csp = header(result, 'content-security-policy')!;
  expect(csp).toContain("frame-ancestors 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(csp).toContain("default-src 'none'");
  expect(header(result, 'x-frame-options')).toBe('DENY');
  expect(header(result, 'referrer-policy')).toBe('no-referrer');
  expect(header(result, 'cache-control')).toBe('no-store');
  expect(header(result, 'access-control-allow-origin')).toBeUndefined();
}

/** The HTML loads nothing and links nowhere but to this server (CONS-01). */
function expectSelfContained(html: string) {
  expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b/i);
  expect(html).not.toMatch(/\bsrc=/i);
  for (const [, url] of html.matchAll(/(?:href|action)="([^"]*)"/g)) expect(url.startsWith(`${ISSUER}/`)).toBe(true);
}

function parseCookie(setCookie: string) {
  const [pair, ...attributes] = setCookie.split(';').map((part) => part.trim());
  const name = pair.slice(0, pair.indexOf('='));
  return { name, value: pair.slice(name.length + 1), attributes };
}

/** AS-20 / CONS-06: every cookie of the flow has exactly these attributes. */
function expectHostCookie(setCookie: string, prefix: string) {
  const { name, value, attributes } = parseCookie(setCookie);
  expect(name.startsWith(prefix)).toBe(true);
  expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(attributes).toEqual(expect.arrayContaining(['Path=/', 'Secure', 'HttpOnly', 'SameSite=Lax']));
  expect(attributes.some((attribute) => /^domain=/i.test(attribute))).toBe(false);
  return { name, value };
}

describe('the consent page', () => {
  test('AS-19 CONS-01 names the client, its redirect host and every scope with its description, and cannot be framed', async () => {
    const agent = new UserAgent(fixture);
    const { page } = await consentFor(agent, { scope: 'mcp:tools mcp:admin offline_access' });
    expectSecurityHeaders(page);
    expectSelfContained(page.body);
    expect(page.body).toContain('Allow <bdi class="client">Claude Code</bdi> to access mcp.example.test?');
    expect(page.body).toContain('<strong id="redirect-host">127.0.0.1</strong>');
    expect(page.body).toContain('<code>mcp:admin</code>: Use the administrative tools of this MCP server');
    expect(page.body).toContain('<code>mcp:tools</code>: Use the tools of this MCP server');
    expect(page.body).toContain('<code>offline_access</code>: Stay connected without signing in again (a refresh token)');
    expect(page.body).toContain('<button type="submit" name="decision" value="approve">');
    expect(page.body).toContain('<button type="submit" name="decision" value="deny">');
    expect(page.body).toContain('registered itself');
    expect(page.body).toContain('localhost');
  });

  test('CONS-01 error pages and redirects carry the same headers', async () => {
    const agent = new UserAgent(fixture);
    const errorPage = await agent.authorize(authorizationParams('unknown-client-000000000', 'https://x.example/cb').query);
    expect(errorPage.statusCode).toBe(400);
    expectSecurityHeaders(errorPage);
    expectSelfContained(errorPage.body);
    const redirect = await agent.authorize(params().query);
    expect(redirect.statusCode).toBe(303);
    expectSecurityHeaders(redirect);
  });

  test('CONS-05 hostile client names are escaped and defused, redirect hosts shown in punycode, warnings shown', async () => {
    const cases: Array<{ name: string; redirect: string; expectName: string; expectHost: string; absent: string[] }> = [
      { name: '<img src=x onerror=alert(1)>', redirect: 'https://app.example/cb', expectName: '&lt;img src=x onerror=alert(1)&gt;', expectHost: 'app.example', absent: ['<img'] },
      { name: '\u202Egnp.exe', redirect: 'https://app.example/cb', expectName: '\uFFFDgnp.exe', expectHost: 'app.example', absent: ['\u202E'] },
      { name: '\u200B\u200D', redirect: 'https://app.example/cb', expectName: 'An unnamed application', expectHost: 'app.example', absent: ['\u200B'] },
      { name: 'N'.repeat(5000), redirect: 'https://app.example/cb', expectName: `${'N'.repeat(120)}…`, expectHost: 'app.example', absent: ['N'.repeat(121)] },
      // Cyrillic а: a homograph of apple.com, stored raw (registration would only accept it in punycode).
      { name: 'Apple', redirect: 'https://\u0430pple.com/cb', expectName: 'Apple', expectHost: 'xn--pple-43d.com', absent: ['\u0430pple'] },
    ];
    for (const [index, example] of cases.entries()) {
      const clientId = `hostile-client-${index}`.padEnd(22, '0');
      await fixture.backend.stores().clients.create({
        clientId,
        metadata: { client_name: example.name, redirect_uris: [example.redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] },
        createdAt: fixture.clock.now,
      });
      const { page } = await consentFor(new UserAgent(fixture), {}, { clientId, redirectUri: example.redirect });
      expect(page.body).toContain(`<bdi class="client">${example.expectName}</bdi>`);
      expect(page.body).toContain(`<strong id="redirect-host">${example.expectHost}</strong>`);
      expect(page.body).toContain('registered itself');
      expect(page.body).not.toContain('on this computer (localhost)');
      for (const absent of example.absent) expect(page.body).not.toContain(absent);
    }
  });

  test('REV-07 the consent page names a private-use redirect by its scheme and full URI, not by the authority in it', async () => {
    for (const [index, redirect] of ['com.attacker.app://claude.ai/cb', 'cursor://anysphere.cursor-mcp/oauth/callback'].entries()) {
      const scheme = redirect.slice(0, redirect.indexOf(':'));
      // Stored directly: `cursor` needs the operator's EXTRA_REDIRECT_SCHEMES at registration.
      const clientId = `private-use-client-${index}`.padEnd(22, '0');
      await fixture.backend.stores().clients.create({
        clientId,
        metadata: { redirect_uris: [redirect], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] },
        createdAt: fixture.clock.now,
      });
      const { page } = await consentFor(new UserAgent(fixture), {}, { clientId, redirectUri: redirect });
      expect(page.body).toContain(`sent to the application on your device that handles <strong id="redirect-host">${scheme}:</strong> addresses (<code>${redirect}</code>)`);
      expect(page.body).not.toMatch(/<strong id="redirect-host">(claude\.ai|anysphere\.cursor-mcp)<\/strong>/);
    }
  });

  test('ROB-06 an internationalised redirect host registered in punycode is shown in punycode', async () => {
    const idn = await fixture.register({ redirect_uris: ['https://xn--exmple-cua.com/cb'] });
    const { page } = await consentFor(new UserAgent(fixture), {}, idn);
    expect(page.body).toContain('<strong id="redirect-host">xn--exmple-cua.com</strong>');
  });
});

describe('cookies and ordering', () => {
  test('AS-20 CONS-06 UPS-03 flow, sign-in and consent cookies are __Host-, Secure, HttpOnly, SameSite=Lax; the sign-in cookie only after approval', async () => {
    const agent = new UserAgent(fixture);
    const authorized = await agent.authorize(params().query);
    const [flowCookie, ...others] = setCookies(authorized);
    expect(others).toEqual([]);
    const flow = expectHostCookie(flowCookie, '__Host-mcp-authz-');
    expect(header(authorized, 'location')).not.toContain(flow.value);
    expect((await fixture.items('pending')).filter((item) => String(item.pk).startsWith('signin#'))).toEqual([]);

    const consent = await agent.openConsent(authorized);
    expect(setCookies(consent.page)).toEqual([]);
    const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    expect(header(approved, 'location')!.startsWith(`${fixture.idp.issuer}/auth?`)).toBe(true);
    const approvedCookies = setCookies(approved).map(parseCookie);
    expect(approvedCookies.find((c) => c.name === flow.name)!.attributes).toContain('Max-Age=0');
    const signIn = expectHostCookie(setCookies(approved).find((c) => c.startsWith('__Host-mcp-signin-'))!, '__Host-mcp-signin-');
    expect(header(approved, 'location')).not.toContain(signIn.value);

    const callback = await agent.get(await agent.signIn(header(approved, 'location')!));
    expect(callback.statusCode).toBe(303);
    expectHostCookie(setCookies(callback).find((c) => c.startsWith('__Host-mcp-consent-'))!, '__Host-mcp-consent-');
    expect(setCookies(callback).find((c) => c.startsWith(signIn.name))).toContain('Max-Age=0');
  });

  test('CONS-06 a missing or tampered flow cookie gets a 400 page on the consent page and on the decision', async () => {
    const agent = new UserAgent(fixture);
    const authorized = await agent.authorize(params().query);
    const [flowName] = [...agent.cookies.keys()];
    const consentUrl = header(authorized, 'location')!;
    const { request, csrf } = await agent.openConsent(authorized);
    for (const tampered of ['A'.repeat(43), `${agent.cookies.get(flowName)}x`, undefined]) {
      const attacker = new UserAgent(fixture);
      if (tampered !== undefined) attacker.cookies.set(flowName, tampered);
      const page = await attacker.get(consentUrl);
      expect(page.statusCode).toBe(400);
      expect(page.body).not.toContain('name="csrf"');
      const decision = await attacker.postConsent({ request, csrf, decision: 'approve' });
      expect(decision.statusCode).toBe(400);
      expect(header(decision, 'location')).toBeUndefined();
    }
    expect(fixture.audit.named('consent.csrf_failed').map((e) => e.reason)).toEqual(['cookie_mismatch', 'cookie_mismatch', 'cookie_mismatch']);
    // The real browser is unaffected.
    expect((await agent.postConsent({ request, csrf, decision: 'approve' })).statusCode).toBe(303);
  });

  test('AS-18 CONS-03 the upstream is not contacted before consent; a new client always gets the consent page', async () => {
    const agent = new UserAgent(fixture);
    await runFlow(agent, params().query);
    const before = fixture.idp.requests.length;
    const evil = await fixture.register({ client_name: 'Evil', redirect_uris: ['https://evil.example/cb'] });
    fixture.audit.clear();
    const authorized = await agent.authorize(params({}, evil).query);
    expect(header(authorized, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
    const { page } = await agent.openConsent(authorized);
    expect(page.body).toContain('<bdi class="client">Evil</bdi>');
    expect(page.body).toContain('<strong id="redirect-host">evil.example</strong>');
    expect(fixture.idp.requests.length).toBe(before);
    expect(fixture.audit.named('consent.required')).toEqual([expect.objectContaining({ reason: 'new_client', client_id: evil.clientId })]);
    expect(await fixture.items('codes')).not.toContainEqual(expect.objectContaining({ clientId: evil.clientId }));
  });
});

describe('CSRF and the decision', () => {
  test('CONS-02 a decision without the right token, cookie pairing or Origin gets a 403 page and changes nothing', async () => {
    const agent = new UserAgent(fixture);
    const { request, csrf } = await consentFor(agent);
    const otherSession = await consentFor(new UserAgent(fixture));
    const attempts: Array<[string, Record<string, string>, Record<string, string>]> = [
      ['csrf_mismatch', { request, decision: 'approve' }, {}],
      ['csrf_mismatch', { request, csrf: sha256('guess'), decision: 'approve' }, {}],
      ['csrf_mismatch', { request, csrf: otherSession.csrf, decision: 'approve' }, {}],
      ['origin_mismatch', { request, csrf, decision: 'approve' }, { origin: 'https://evil.example' }],
      ['origin_mismatch', { request, csrf, decision: 'approve' }, { origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' }],
      // A sandboxed frame posts with Origin: null, but the browser marks it cross-site.
      ['origin_null', { request, csrf, decision: 'approve' }, { origin: 'null' }],
      ['origin_null', { request, csrf, decision: 'approve' }, { origin: 'null', 'sec-fetch-site': 'cross-site' }],
      ['origin_missing', { request, csrf, decision: 'approve' }, { origin: '' }],
    ];
    const before = await fixture.flowState();
    const upstreamCalls = fixture.idp.requests.length;
    for (const [reason, fields, headers] of attempts) {
      fixture.audit.clear();
      const result = await agent.postConsent(fields, headers);
      expect([reason, result.statusCode, header(result, 'location')]).toEqual([reason, 403, undefined]);
      expect(fixture.audit.named('consent.csrf_failed')).toEqual([expect.objectContaining({ reason, client_id: client.clientId })]);
    }
    expect(await fixture.flowState()).toBe(before);
    expect(fixture.idp.requests.length).toBe(upstreamCalls);
    // What a browser sends for our own page under Referrer-Policy: no-referrer.
    const fromOurPage = await agent.postConsent({ request, csrf, decision: 'approve' }, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(fromOurPage.statusCode).toBe(303);
  });

  test('CONS-04 deny sends the browser back with access_denied, state and iss; no code; the request is spent', async () => {
    const agent = new UserAgent(fixture);
    const { request, csrf } = await consentFor(agent, { state: 'deny-state' });
    const denied = await agent.postConsent({ request, csrf, decision: 'deny' });
    expect(denied.statusCode).toBe(303);
    expect(header(denied, 'location')!.startsWith(`${client.redirectUri}?`)).toBe(true);
    expect(Object.fromEntries(locationQuery(denied))).toEqual({
      error: 'access_denied',
      error_description: 'The user denied the request.',
      state: 'deny-state',
      iss: ISSUER,
    });
    expect(fixture.audit.named('consent.denied')).toEqual([expect.objectContaining({ client_id: client.clientId })]);
    expect((await agent.postConsent({ request, csrf, decision: 'approve' })).statusCode).toBe(400);
  });

  test('a decision is single-use: of two parallel approvals exactly one continues', async () => {
    const agent = new UserAgent(fixture);
    const { request, csrf } = await consentFor(agent);
    const signIns = async () => (await fixture.items('pending')).filter((item) => String(item.pk).startsWith('signin#')).length;
    const before = await signIns();
    const results = await Promise.all([1, 2].map(() => agent.postConsent({ request, csrf, decision: 'approve' })));
    expect(results.map((r) => r.statusCode).sort()).toEqual([303, 400]);
    expect(await signIns()).toBe(before + 1);
  });

  test('a pending authorization expires after 10 minutes', async () => {
    const agent = new UserAgent(fixture);
    const authorized = await agent.authorize(params().query);
    fixture.clock.advance(601);
    const page = await agent.get(header(authorized, 'location')!);
    expect(page.statusCode).toBe(400);
    expect(fixture.audit.named('authorize.rejected')).toEqual([expect.objectContaining({ reason: 'pending_unknown' })]);
  });

  test('AZR-18 a redirect URI tampered with between authorize and decision is caught against the registry: page, no code', async () => {
    const agent = new UserAgent(fixture);
    const authorized = await agent.authorize(params().query);
    const handle = new URL(header(authorized, 'location')!).searchParams.get('request')!;
    const { request, csrf } = await agent.openConsent(authorized);
    await fixture.backend.db.send(
      new UpdateItemCommand({
        TableName: fixture.backend.tables.pending,
        Key: { pk: { S: `authz#${sha256(handle)}` } },
        UpdateExpression: 'SET #request.redirectUri = :evil',
        ExpressionAttributeNames: { '#request': 'request' },
        ExpressionAttributeValues: { ':evil': { S: 'https://evil.example/cb' } },
      }),
    );
    const codesBefore = (await fixture.items('codes')).length;
    const result = await agent.postConsent({ request, csrf, decision: 'approve' });
    expect(result.statusCode).toBe(400);
    expect(header(result, 'location')).toBeUndefined();
    expect(fixture.audit.named('authorize.rejected')).toEqual([expect.objectContaining({ reason: 'client_revalidation_failed' })]);
    expect((await fixture.items('codes')).length).toBe(codesBefore);
  });

  test('AZR-18 a client deleted during the upstream sign-in gets no code', async () => {
    const doomed = await fixture.register();
    const agent = new UserAgent(fixture);
    const { request, csrf } = await consentFor(agent, {}, doomed);
    const approved = await agent.postConsent({ request, csrf, decision: 'approve' });
    const callbackUrl = await agent.signIn(header(approved, 'location')!);
    await fixture.backend.db.send(new DeleteItemCommand({ TableName: fixture.backend.tables.clients, Key: { pk: { S: doomed.clientId } } }));
    const callback = await agent.get(callbackUrl);
    expect(callback.statusCode).toBe(400);
    expect(header(callback, 'location')).toBeUndefined();
    expect(await fixture.items('codes')).not.toContainEqual(expect.objectContaining({ clientId: doomed.clientId }));
  });
});

describe('remembered consent (per user, client, redirect URI and scope set)', () => {
  test('the same browser, user, client, redirect URI and scopes skip the consent page, straight to sign-in', async () => {
    const agent = new UserAgent(fixture);
    const target = await fixture.register({ redirect_uris: ['http://127.0.0.1/cb'] });
    await runFlow(agent, params({}, { ...target, redirectUri: 'http://127.0.0.1:40001/cb' }).query);
    fixture.audit.clear();
    // Another loopback port is the same registered redirect URI.
    const { query, verifier } = params({}, { ...target, redirectUri: 'http://127.0.0.1:40002/cb' });
    const authorized = await agent.authorize(query);
    expect(header(authorized, 'location')!.startsWith(`${fixture.idp.issuer}/auth?`)).toBe(true);
    expect(setCookies(authorized).filter((c) => c.startsWith('__Host-mcp-authz-'))).toEqual([]);
    expect(fixture.audit.named('consent.remembered')).toHaveLength(1);
    const callback = await agent.get(await agent.signIn(header(authorized, 'location')!));
    const code = locationQuery(callback).get('code')!;
    expect(header(callback, 'location')!.startsWith('http://127.0.0.1:40002/cb?code=')).toBe(true);
    const redeemed = await fixture.redeem({ code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:40002/cb', client_id: target.clientId });
    expect(redeemed.status).toBe(200);
  });

  test('a different scope set, or an expired consent, asks again', async () => {
    const agent = new UserAgent(fixture);
    const target = await fixture.register();
    await runFlow(agent, params({}, target).query);
    const widened = await agent.authorize(params({ scope: 'mcp:tools mcp:admin' }, target).query);
    expect(header(widened, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
    expect(fixture.audit.named('consent.required').pop()).toMatchObject({ reason: 'consent_changed' });
    fixture.clock.advance(fixture.config.lifetimes.rememberedConsent + 1);
    const later = await agent.authorize(params({}, target).query);
    expect(header(later, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
  });

  test('another user signing in on a browser with remembered consent is asked after sign-in, and gets their own code', async () => {
    const agent = new UserAgent(fixture);
    const target = await fixture.register();
    await runFlow(agent, params({}, target).query, 'alice');
    agent.forgetUpstreamSession();
    const { query, verifier } = params({ scope: 'mcp:tools mcp:admin' }, target);
    // Alice's consent covered only mcp:tools: give her consent for this scope set too, then switch users.
    await runFlow(agent, query, 'alice');
    agent.forgetUpstreamSession();
    fixture.audit.clear();
    const authorized = await agent.authorize(query);
    expect(header(authorized, 'location')!.startsWith(`${fixture.idp.issuer}/auth?`)).toBe(true);
    const callback = await agent.get(await agent.signIn(header(authorized, 'location')!, 'bob'));
    expect(header(callback, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
    expect(fixture.audit.named('consent.required')).toEqual([expect.objectContaining({ reason: 'other_user' })]);
    const consent = await agent.openConsent(callback);
    expect(consent.page.body).toContain('Signed in as <strong>bob</strong>');
    // Bob is not in `admins`: the page shows only what he will get.
    expect(consent.page.body).not.toContain('mcp:admin');
    const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    expect(header(approved, 'location')!.startsWith(`${target.redirectUri}?code=`)).toBe(true);
    const redeemed = await fixture.redeem({ code: locationQuery(approved).get('code')!, code_verifier: verifier, redirect_uri: target.redirectUri, client_id: target.clientId });
    expect(redeemed.json.scope).toBe('mcp:tools');
    expect(fixture.audit.named('authorize.code_issued')).toEqual([expect.objectContaining({ client_id: target.clientId, scope: 'mcp:tools' })]);
  });

  test('with CONSENT_TTL_SECONDS=0 consent is never remembered', async () => {
    const handler = fixture.buildAuthorize({ config: { ...fixture.config, lifetimes: { ...fixture.config.lifetimes, rememberedConsent: 0 } } });
    const agent = new UserAgent(fixture, handler);
    const { callback } = await runFlow(agent, params().query);
    expect(setCookies(callback).filter((c) => c.startsWith('__Host-mcp-consent-'))).toEqual([]);
    const again = await agent.authorize(params().query);
    expect(header(again, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
  });
});
