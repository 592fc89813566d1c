import { sha256 } from '../../lambda/shared/crypto';
import { ISSUER, lambdaContext, proxyEvent, RESOURCE } from '../support/harness';
import { AuthorizeFixture, authorizationParams, errorResponse, header, newVerifier, type Result, returnLink, setCookies, UserAgent } from '../support/authorize-fixture';
import { EXACT_MATCH_MUTANTS, LOOPBACK_MUTANTS } from '../support/redirect-uris';

/** GET /authorize: validation order, redirect rules and refusals (catalogue B, C, J; AS-7, AS-10, AS-11, AS-17). */

const fixture = new AuthorizeFixture();
let loopbackClient: { clientId: string; redirectUri: string };

beforeAll(async () => {
  await fixture.start();
  loopbackClient = await fixture.register();
}, 60_000);
afterAll(() => fixture.stop());
beforeEach(() => fixture.audit.clear());

const agent = () => new UserAgent(fixture);

/** A raw query string, so tests can repeat or mangle parameters. */
const rawAuthorize = (query: string) => agent().get(`${ISSUER}/authorize?${query}`);

function rejections(reason?: string) {
  return fixture.audit.named('authorize.rejected').filter((event) => reason === undefined || event.reason === reason);
}

/** A refusal as an HTML page: no Location, no redirect of any kind (AS-11). */
function expectPage(result: Result, status = 400) {
  expect(result.statusCode).toBe(status);
  expect(header(result, 'location')).toBeUndefined();
  expect(header(result, 'content-type')).toBe('text/html; charset=utf-8');
}

const interstitialLink = (result: Result): string => returnLink(result)!;

/**
 * An error response (AS-7, REV-03): a 400 page, never a redirect, whose link goes to the exact redirect
 * URI with `error` and `iss` and the client's state unless suspect.
 */
function expectErrorRedirect(result: Result, redirectUri: string, error: string, state: string | null = 'client-state-123') {
  const query = errorResponse(result, redirectUri);
  expect(query.getAll('error')).toEqual([error]);
  expect(query.getAll('iss')).toEqual([ISSUER]);
  expect(query.get('state')).toBe(state);
  expect(query.get('code')).toBeNull();
  return query;
}

/** Runs a request that must not write anything (catalogue "∅"). */
async function withoutWriting(request: () => Promise<Result>): Promise<Result> {
  const before = await fixture.flowState();
  const result = await request();
  expect(await fixture.flowState()).toBe(before);
  return result;
}

const consentRedirect = (result: Result) => {
  expect(result.statusCode).toBe(303);
  expect(header(result, 'location')).toMatch(new RegExp(`^${ISSUER}/consent\\?request=[A-Za-z0-9_-]{43}$`));
};

describe('client and redirect URI: validated before any redirect (AS-11)', () => {
  test('AZR-01 AS-11 an unknown or missing client_id gets a 400 page, nothing stored', async () => {
    const { query } = authorizationParams('unknown-client-id-00000', 'https://evil.example/cb');
    expectPage(await withoutWriting(() => agent().authorize(query)));
    const { client_id: _omitted, ...withoutClient } = query;
    expectPage(await withoutWriting(() => agent().authorize(withoutClient)));
    expectPage(await withoutWriting(() => agent().authorize({ ...query, client_id: 'x'.repeat(5000) })));
    expect(rejections('unknown_client')).toHaveLength(3);
  });

  test('AZR-02 an unregistered redirect_uri (registered path plus a suffix) gets a 400 page', async () => {
    const { query } = authorizationParams(loopbackClient.clientId, `${loopbackClient.redirectUri}/evil`);
    const result = await withoutWriting(() => agent().authorize(query));
    expectPage(result);
    expect(result.body).not.toContain('/evil');
    expect(rejections('redirect_mismatch')).toHaveLength(1);
  });

  test('AZR-03 AS-10 every exact-match mutant of a registered https URI gets a 400 page', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['https://client.example/cb'] });
    for (const mutant of EXACT_MATCH_MUTANTS) {
      const result = await withoutWriting(() => agent().authorize(authorizationParams(clientId, mutant).query));
      expect([mutant, result.statusCode, header(result, 'location')]).toEqual([mutant, 400, undefined]);
    }
    consentRedirect(await agent().authorize(authorizationParams(clientId, 'https://client.example/cb').query));
  });

  test('AZR-04 a registered query must match exactly; the error redirect keeps it', async () => {
    const registered = 'https://c.example/cb?foo=bar';
    const { clientId } = await fixture.register({ redirect_uris: [registered] });
    consentRedirect(await agent().authorize(authorizationParams(clientId, registered).query));
    for (const mutant of ['https://c.example/cb?foo=bara', 'https://c.example/cb?foo=bar&bar=foo', 'https://c.example/cb?foo', 'https://c.example/cb']) {
      expectPage(await withoutWriting(() => agent().authorize(authorizationParams(clientId, mutant).query)));
    }
    const refused = await agent().authorize(authorizationParams(clientId, registered, { response_type: 'token' }).query);
    expect(interstitialLink(refused).startsWith(`${registered}&error=unsupported_response_type`)).toBe(true);
    expect(new URL(interstitialLink(refused)).searchParams.getAll('foo')).toEqual(['bar']);
  });

  test('AZR-05 without redirect_uri (two registered) the request gets a 400 page', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['https://client.example/one', 'https://client.example/two'] });
    const { redirect_uri: _omitted, ...query } = authorizationParams(clientId, 'unused').query;
    expectPage(await withoutWriting(() => agent().authorize(query)));
    expect(rejections('redirect_uri_missing')).toHaveLength(1);
  });

  test('AZR-06 AS-10 a loopback redirect URI matches on any port, and only on the port', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['http://127.0.0.1/cb'] });
    consentRedirect(await agent().authorize(authorizationParams(clientId, 'http://127.0.0.1:51004/cb').query));
    consentRedirect(await agent().authorize(authorizationParams(clientId, 'http://127.0.0.1/cb').query));
    for (const mutant of LOOPBACK_MUTANTS) {
      const result = await withoutWriting(() => agent().authorize(authorizationParams(clientId, mutant).query));
      expect([mutant, result.statusCode]).toEqual([mutant, 400]);
    }
  });

  test('AZR-07 userinfo smuggling a foreign host past a loopback URI gets a 400 page', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['http://127.0.0.1/cb'] });
    for (const attack of ['http://localhost:80@evil.example/cb', 'http://127.0.0.1:8080@evil.example/cb']) {
      const result = await withoutWriting(() => agent().authorize(authorizationParams(clientId, attack).query));
      expectPage(result);
      expect(result.body).not.toContain('evil.example');
    }
    expect(rejections('userinfo')).toHaveLength(2);
  });

  test('AZR-08 traversal and double-encoding get a 400 page', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['https://client.example/cb'] });
    const attacks = [
      'https://client.example/cb/%2e%2e/evil',
      'https://client.example/cb/%252E%252E/',
      'https://client.example/cb%2F%2E%2E%2F',
      'https://client.example/cb/..%2Fevil',
    ];
    for (const attack of attacks) expectPage(await withoutWriting(() => agent().authorize(authorizationParams(clientId, attack).query)));
  });

  test('AZR-09 a repeated client_id or redirect_uri gets a page; other repeats are redirected without state', async () => {
    const { query } = authorizationParams(loopbackClient.clientId, loopbackClient.redirectUri);
    const base = new URLSearchParams(query).toString();
    expectPage(await withoutWriting(() => rawAuthorize(`${base}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`)));
    expectPage(await withoutWriting(() => rawAuthorize(`${base}&client_id=other`)));
    for (const repeated of ['state=second', 'scope=mcp%3Aadmin', `code_challenge=${newVerifier().challenge}`]) {
      const result = await withoutWriting(() => rawAuthorize(`${base}&${repeated}`));
      expectErrorRedirect(result, loopbackClient.redirectUri, 'invalid_request', null);
    }
    expect(rejections().map((event) => event.reason)).toEqual([
      'duplicate_redirect_uri',
      'duplicate_client_id',
      'duplicate_state',
      'duplicate_scope',
      'duplicate_code_challenge',
    ]);
  });

  test('ROB-05 Unicode variants of a registered URI are different URIs (no normalisation)', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['https://client.example/%C3%A4'] });
    expectPage(await withoutWriting(() => agent().authorize(authorizationParams(clientId, 'https://client.example/\u00e4').query)));
    // Registration refuses raw Unicode; a record that holds it anyway (an older policy) still matches byte for byte only.
    const stored = await seedClient(['https://client.example/caf\u00e9']);
    for (const variant of ['https://client.example/cafe\u0301', 'https://client.example/caf\u200d\u00e9', 'https://client.example\uff0fcaf\u00e9', 'https://client.example/caf%C3%A9']) {
      expectPage(await withoutWriting(() => agent().authorize(authorizationParams(stored, variant).query)));
    }
    consentRedirect(await agent().authorize(authorizationParams(stored, 'https://client.example/caf\u00e9').query));
  });

  test('ROB-06 an IDN and its punycode are different redirect URIs', async () => {
    const { clientId } = await fixture.register({ redirect_uris: ['https://xn--exmple-cua.com/cb'] });
    expectPage(await withoutWriting(() => agent().authorize(authorizationParams(clientId, 'https://ex\u00e4mple.com/cb').query)));
    const unicode = await seedClient(['https://ex\u00e4mple.com/cb']);
    expectPage(await withoutWriting(() => agent().authorize(authorizationParams(unicode, 'https://xn--exmple-cua.com/cb').query)));
  });

  test('ROB-07 CR/LF in redirect_uri gets a page; in state it is percent-encoded, never a header', async () => {
    const injected = `${loopbackClient.redirectUri}\r\nSet-Cookie: x=1`;
    expectPage(await withoutWriting(() => agent().authorize(authorizationParams(loopbackClient.clientId, injected).query)));
    const state = '\r\nSet-Cookie: x=1';
    const result = await agent().authorize(authorizationParams(loopbackClient.clientId, loopbackClient.redirectUri, { state, code_challenge_method: 'plain' }).query);
    expectErrorRedirect(result, loopbackClient.redirectUri, 'invalid_request', state);
    expect(interstitialLink(result)).not.toMatch(/[\r\n]/);
    expect(interstitialLink(result)).toContain('state=%0D%0ASet-Cookie%3A+x%3D1');
    expect(setCookies(result)).toEqual([]);
  });
});

/** A client record written directly, for shapes registration (rightly) refuses. */
async function seedClient(redirectUris: string[]): Promise<string> {
  const clientId = sha256(redirectUris.join(' ')).slice(0, 22);
  await fixture.backend.stores().clients.create({
    clientId,
    metadata: { redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] },
    createdAt: fixture.clock.now,
  });
  return clientId;
}

describe('after the redirect URI: errors go back to the client with state and iss (AS-7), through the interstitial (REV-03)', () => {
  const params = (overrides: Record<string, string | undefined>) => authorizationParams(loopbackClient.clientId, loopbackClient.redirectUri, overrides).query;
  const refuse = async (overrides: Record<string, string | undefined>, error: string, reason: string) => {
    const result = await withoutWriting(() => agent().authorize(params(overrides)));
    expectErrorRedirect(result, loopbackClient.redirectUri, error);
    expect(rejections(reason)).toHaveLength(1);
    fixture.audit.clear();
  };

  test('AZR-10 an empty code_challenge counts as omitted', async () => {
    await refuse({ code_challenge: '' }, 'invalid_request', 'pkce_missing');
  });

  test('AZR-11 an unknown extra parameter is ignored', async () => {
    consentRedirect(await agent().authorize({ ...params({}), extra: 'foobar' }));
  });

  test('AZR-12 response_type missing, token or hybrid is refused with state and iss', async () => {
    await refuse({ response_type: undefined }, 'invalid_request', 'response_type_missing');
    for (const responseType of ['token', 'code id_token', 'code token']) {
      await refuse({ response_type: responseType }, 'unsupported_response_type', 'unsupported_response_type');
    }
  });

  test('response_mode other than query is refused', async () => {
    await refuse({ response_mode: 'fragment' }, 'invalid_request', 'response_mode_unsupported');
  });

  test('PKCE-01 AS-1 a request without code_challenge is refused, no code and nothing stored', async () => {
    await refuse({ code_challenge: undefined }, 'invalid_request', 'pkce_missing');
  });

  test('PKCE-02 code_challenge_method=plain is refused', async () => {
    await refuse({ code_challenge_method: 'plain' }, 'invalid_request', 'pkce_plain');
  });

  test('PKCE-03 a challenge without a method (plain by default) is refused', async () => {
    await refuse({ code_challenge_method: undefined }, 'invalid_request', 'pkce_method_missing');
  });

  test('PKCE-04 methods other than exactly S256 are refused', async () => {
    for (const method of ['S512', 's256', 'SHA256']) await refuse({ code_challenge_method: method }, 'invalid_request', 'pkce_method_unsupported');
  });

  test('PKCE-05 challenges outside the RFC 7636 ABNF are refused', async () => {
    const valid = newVerifier().challenge;
    const malformed = ['a'.repeat(42), 'a'.repeat(129), `${valid.slice(0, 42)}+`, `${valid.slice(0, 42)}/`, `${valid.slice(0, 42)}=`, `${valid.slice(0, 42)} `, `${valid.slice(0, 42)}\u00e9`];
    for (const challenge of malformed) await refuse({ code_challenge: challenge }, 'invalid_request', 'pkce_malformed');
    consentRedirect(await agent().authorize(params({ code_challenge: 'a'.repeat(128) })));
  });

  test('PKCE-10 a challenge reused across three requests by one client is reported; the flow proceeds', async () => {
    const challenge = newVerifier().challenge;
    for (let i = 0; i < 3; i++) consentRedirect(await agent().authorize(params({ code_challenge: challenge })));
    const reported = fixture.audit.named('security.pkce_constant_challenge');
    expect(reported).toHaveLength(1);
    expect(reported[0]).toMatchObject({ client_id: loopbackClient.clientId, uses: 3 });
    expect(JSON.stringify(reported)).not.toContain(challenge);
    // Another client using the same value is counted on its own.
    const other = await fixture.register();
    consentRedirect(await agent().authorize(authorizationParams(other.clientId, other.redirectUri, { code_challenge: challenge }).query));
    expect(fixture.audit.named('security.pkce_constant_challenge')).toHaveLength(1);
  });

  test('RES-01 RES-02 AS-17 resource absent means the MCP resource; an unknown or second resource is invalid_target', async () => {
    const result = await agent().authorize(params({ resource: undefined }));
    consentRedirect(result);
    const handle = new URL(header(result, 'location')!).searchParams.get('request')!;
    const pending = await fixture.stores.pendingAuthorizations.get(sha256(handle), fixture.clock.now);
    expect(pending!.request.resource).toBe(RESOURCE);
    await refuse({ resource: 'https://other.example/mcp' }, 'invalid_target', 'unknown_resource');
    const twice = await withoutWriting(() => rawAuthorize(`${new URLSearchParams(params({}))}&resource=${encodeURIComponent(RESOURCE)}`));
    expectErrorRedirect(twice, loopbackClient.redirectUri, 'invalid_target', null);
  });

  test('AZR-14 a 2 kB state with markup and CR/LF is echoed byte for byte; an 8 kB state is refused', async () => {
    const state = `"<>&'\r\n${'s'.repeat(2048)}`;
    const echoed = await agent().authorize(params({ state, response_type: 'token' }));
    expectErrorRedirect(echoed, loopbackClient.redirectUri, 'unsupported_response_type', state);
    expect(interstitialLink(echoed)).not.toMatch(/[\r\n<>"]/);
    const tooLong = await withoutWriting(() => agent().authorize(params({ state: 'x'.repeat(8192) })));
    expectErrorRedirect(tooLong, loopbackClient.redirectUri, 'invalid_request', null);
    expect(rejections('state_too_long')).toHaveLength(1);
  });

  test('AZR-15 scope order and spacing do not matter; tokens outside the grammar are invalid_scope', async () => {
    for (const scope of ['mcp:tools mcp:admin', '  mcp:admin   mcp:tools ']) {
      const result = await agent().authorize(params({ scope }));
      consentRedirect(result);
      const handle = new URL(header(result, 'location')!).searchParams.get('request')!;
      expect((await fixture.stores.pendingAuthorizations.get(sha256(handle), fixture.clock.now))!.request.scope).toBe('mcp:admin mcp:tools');
    }
    for (const scope of ['mcp:tools "quoted"', 'back\\slash', 'bell\u0007']) {
      const result = await withoutWriting(() => agent().authorize(params({ scope })));
      expectPage(result);
      expect(result.body).toContain('error=invalid_scope');
    }
    expect(rejections('scope_grammar')).toHaveLength(3);
  });

  test('C-6 a client\'s registered scope does not cap a user\'s step-up: the union is asked for at consent', async () => {
    const registeredNarrow = await fixture.register({ scope: 'mcp:tools' });
    const result = await agent().authorize(authorizationParams(registeredNarrow.clientId, registeredNarrow.redirectUri, { scope: 'mcp:admin mcp:tools offline_access' }).query);
    consentRedirect(result);
    const handle = new URL(header(result, 'location')!).searchParams.get('request')!;
    expect((await fixture.stores.pendingAuthorizations.get(sha256(handle), fixture.clock.now))!.request.scope).toBe('mcp:admin mcp:tools offline_access');
  });
});

describe('phishing and cross-origin use', () => {
  test('AZR-13 an unknown scope from a registered phishing client is not auto-redirected: an interstitial links back', async () => {
    const evil = await fixture.register({ redirect_uris: ['https://evil.example/cb'], client_name: 'Totally legit' });
    const upstreamCalls = fixture.idp.requests.length;
    const result = await withoutWriting(() => agent().authorize(authorizationParams(evil.clientId, evil.redirectUri, { scope: 'bogus' }).query));
    expectPage(result);
    expect(result.body).toContain('<strong id="redirect-host">evil.example</strong>');
    const link = new URL(interstitialLink(result));
    expect(`${link.origin}${link.pathname}`).toBe('https://evil.example/cb');
    expect(Object.fromEntries(link.searchParams)).toMatchObject({ error: 'invalid_scope', state: 'client-state-123', iss: ISSUER });
    expect(fixture.idp.requests.length).toBe(upstreamCalls);
    expect(rejections('unknown_scope')).toEqual([expect.objectContaining({ client_id: evil.clientId, error: 'invalid_scope' })]);
  });

  test('REV-03 a self-registered phishing client gets no automatic redirect for any error: each is the interstitial naming the destination', async () => {
    const evil = await fixture.register({ redirect_uris: ['https://evil.example/phish'], client_name: 'Totally legit' });
    const cases: Array<[Record<string, string | undefined>, string]> = [
      [{ response_type: 'token' }, 'unsupported_response_type'],
      [{ code_challenge: undefined }, 'invalid_request'],
      [{ code_challenge_method: 'plain' }, 'invalid_request'],
      [{ resource: 'https://other.example/mcp' }, 'invalid_target'],
      [{ response_mode: 'form_post' }, 'invalid_request'],
      [{ scope: 'bogus' }, 'invalid_scope'],
    ];
    for (const [overrides, error] of cases) {
      const result = await withoutWriting(() => agent().authorize(authorizationParams(evil.clientId, evil.redirectUri, overrides).query));
      expectPage(result);
      expect(result.body).toContain('<strong id="redirect-host">evil.example</strong>');
      expect(new URL(interstitialLink(result)).searchParams.get('error')).toBe(error);
    }
    // A client-credentials-only record (as an earlier version could store it) is refused the same way.
    const machineOnly = sha256('machine-only').slice(0, 22);
    await fixture.backend.stores().clients.create({
      clientId: machineOnly,
      metadata: { redirect_uris: ['https://evil.example/phish'], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'], response_types: [] },
      createdAt: fixture.clock.now,
    });
    const refused = await withoutWriting(() => agent().authorize(authorizationParams(machineOnly, 'https://evil.example/phish').query));
    expectPage(refused);
    expect(new URL(interstitialLink(refused)).searchParams.get('error')).toBe('unauthorized_client');
  });

  test('REV-07 a private-use redirect is named by its scheme and whole URI, never by the authority the registrant chose', async () => {
    const app = await fixture.register({ redirect_uris: ['com.attacker.app://claude.ai/cb'] });
    const refused = await withoutWriting(() => agent().authorize(authorizationParams(app.clientId, app.redirectUri, { response_type: 'token' }).query));
    expectPage(refused);
    expect(refused.body).toContain('handles <strong id="redirect-host">com.attacker.app:</strong> addresses (<code>com.attacker.app://claude.ai/cb</code>)');
    expect(refused.body).not.toMatch(/<strong[^>]*>claude\.ai<\/strong>/);
    expect(refused.body).toContain('Return to com.attacker.app:</a>');
  });

  test('AZR-17 no CORS on /authorize: an Origin gets no Access-Control-Allow-Origin, POST and OPTIONS get 405', async () => {
    const { query } = authorizationParams(loopbackClient.clientId, loopbackClient.redirectUri);
    const withOrigin = await agent().authorize(query, { origin: 'https://evil.example' });
    consentRedirect(withOrigin);
    expect(header(withOrigin, 'access-control-allow-origin')).toBeUndefined();
    for (const method of ['POST', 'OPTIONS']) {
      const result = await fixture.authorizeHandler(
        proxyEvent({ method, path: '/authorize', headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' }, query }),
        lambdaContext,
      );
      expect(result.statusCode).toBe(405);
      expect(header(result, 'allow')).toBe('GET');
      expect(header(result, 'access-control-allow-origin')).toBeUndefined();
    }
  });
});
