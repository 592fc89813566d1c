import * as jose from 'jose';
import { OidcUpstream } from '../../lambda/authorize/upstream';
import { UPSTREAM_USERS } from '../../local/upstream-idp';
import { ISSUER } from '../support/harness';
import { AuthorizeFixture, authorizationParams, CALLBACK_URL, header, locationQuery, type Result, setCookies, UPSTREAM_CLIENT_ID, UserAgent } from '../support/authorize-fixture';

/** GET /callback from the upstream provider (catalogue G UPS-*, J ROB-09; AS-21). */

const fixture = new AuthorizeFixture();
let client: { clientId: string; redirectUri: string };

beforeAll(() => fixture.start(), 60_000);
afterAll(() => fixture.stop());
// Each test has its own client, so the codes it finds are its own.
beforeEach(async () => {
  client = await fixture.register();
  fixture.audit.clear();
  fixture.idp.hooks.tokenResponse = undefined;
  fixture.idp.hooks.tokenDelayMs = undefined;
});

/** Runs the flow up to the upstream's redirect back to us; returns the callback URL (not yet visited). */
async function upToCallback(agent: UserAgent, target = client, username = 'alice') {
  const consent = await agent.openConsent(await agent.authorize(authorizationParams(target.clientId, target.redirectUri).query));
  const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
  const upstreamUrl = header(approved, 'location')!;
  return { upstreamUrl, callbackUrl: await agent.signIn(upstreamUrl, username) };
}

function withParameter(url: string, name: string, value: string | undefined): string {
  const parsed = new URL(url);
  if (value === undefined) parsed.searchParams.delete(name);
  else parsed.searchParams.set(name, value);
  return parsed.href;
}

async function codesFor(clientId: string) {
  return (await fixture.items('codes')).filter((item) => item.clientId === clientId);
}

function expectPage(result: Result) {
  expect(result.statusCode).toBe(400);
  expect(header(result, 'location')).toBeUndefined();
}

describe('the upstream state (AS-21)', () => {
  test('AS-21 the upstream request carries a fresh random state, a nonce and PKCE S256, after consent only', async () => {
    const agent = new UserAgent(fixture);
    const states = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const consent = await agent.openConsent(await agent.authorize(authorizationParams(client.clientId, client.redirectUri).query));
      const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
      const upstream = new URL(header(approved, 'location')!);
      expect(`${upstream.origin}${upstream.pathname}`).toBe(`${fixture.idp.issuer}/auth`);
      const query = Object.fromEntries(upstream.searchParams);
      expect(query).toMatchObject({ response_type: 'code', client_id: UPSTREAM_CLIENT_ID, redirect_uri: CALLBACK_URL, code_challenge_method: 'S256' });
      expect(query.scope.split(' ')).toContain('openid');
      for (const value of [query.state, query.nonce, query.code_challenge]) expect(value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // The client's own state never travels upstream.
      expect(upstream.href).not.toContain('client-state-123');
      states.add(query.state);
    }
    expect(states.size).toBe(2);
  });

  test('UPS-01 a callback with the state missing, unknown, or from another browser (no or a forged cookie) gets a 400 page and no code', async () => {
    const agent = new UserAgent(fixture);
    const { callbackUrl } = await upToCallback(agent);
    const state = new URL(callbackUrl).searchParams.get('state')!;
    const oneCharacterOff = `${state.slice(0, -1)}${state.endsWith('A') ? 'B' : 'A'}`;
    expectPage(await agent.get(withParameter(callbackUrl, 'state', undefined)));
    expectPage(await agent.get(withParameter(callbackUrl, 'state', oneCharacterOff)));
    expectPage(await new UserAgent(fixture).get(callbackUrl));
    const forged = new UserAgent(fixture);
    const signInCookie = [...agent.cookies.keys()].find((name) => name.startsWith('__Host-mcp-signin-'))!;
    forged.cookies.set(signInCookie, 'A'.repeat(43));
    expectPage(await forged.get(callbackUrl));
    expect(fixture.audit.named('upstream.callback_rejected').map((e) => e.reason)).toEqual(['state_missing', 'state_unknown', 'cookie_mismatch', 'cookie_mismatch']);
    expect(await codesFor(client.clientId)).toEqual([]);
    // None of that spent the real browser's sign-in.
    expect((await agent.get(callbackUrl)).statusCode).toBe(303);
  });

  test('UPS-01 the state of another flow (another client) in the same browser cannot carry this flow\'s upstream code', async () => {
    const agent = new UserAgent(fixture);
    const other = await fixture.register({ redirect_uris: ['https://other.example/cb'] });
    const first = await upToCallback(agent);
    const second = await upToCallback(agent, other);
    const swapped = withParameter(first.callbackUrl, 'state', new URL(second.callbackUrl).searchParams.get('state')!);
    expectPage(await agent.get(swapped));
    expect(await codesFor(other.clientId)).toEqual([]);
    expect(fixture.audit.named('upstream.error')).toEqual([expect.objectContaining({ reason: 'token_endpoint_invalid_grant' })]);
  });

  test('UPS-02 a replayed state and code get a 400 page: the state is single-use', async () => {
    const agent = new UserAgent(fixture);
    const { callbackUrl } = await upToCallback(agent);
    expect((await agent.get(callbackUrl)).statusCode).toBe(303);
    expectPage(await agent.get(callbackUrl));
    expect(fixture.audit.named('upstream.callback_rejected')).toEqual([expect.objectContaining({ reason: 'state_unknown' })]);
    expect(await codesFor(client.clientId)).toHaveLength(1);
  });

  test('AS-21 an upstream state expires after 10 minutes', async () => {
    const agent = new UserAgent(fixture);
    const { callbackUrl } = await upToCallback(agent);
    fixture.clock.advance(601);
    expectPage(await agent.get(callbackUrl));
    expect(fixture.audit.named('upstream.callback_rejected')).toEqual([expect.objectContaining({ reason: 'state_unknown' })]);
  });
});

describe('upstream failures', () => {
  test('UPS-04 an upstream error reaches the client as access_denied with our own description; upstream text is never reflected', async () => {
    const agent = new UserAgent(fixture);
    const consent = await agent.openConsent(await agent.authorize(authorizationParams(client.clientId, client.redirectUri).query));
    const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    const hostile = '<script>alert(document.cookie)</script>';
    const callbackUrl = await agent.cancelSignIn(header(approved, 'location')!, hostile);
    expect(new URL(callbackUrl).searchParams.get('error_description')).toBe(hostile);
    const result = await agent.get(callbackUrl);
    expect(result.statusCode).toBe(303);
    expect(Object.fromEntries(locationQuery(result))).toEqual({
      error: 'access_denied',
      error_description: 'The user or the identity provider denied the request.',
      state: 'client-state-123',
      iss: ISSUER,
    });
    expect(fixture.audit.named('upstream.error')).toEqual([expect.objectContaining({ reason: 'access_denied', client_id: client.clientId })]);
    expect(fixture.audit.lines.join('\n')).not.toContain('script');
    expect(await codesFor(client.clientId)).toEqual([]);
  });

  test('UPS-05 an ID token with a wrong iss, aud, nonce, alg or signature, or expired, fails sign-in with a page', async () => {
    const forger = await jose.generateKeyPair('RS256');
    const now = Math.floor(Date.now() / 1000);
    const tamperings: Array<[string, (claims: jose.JWTPayload) => Promise<string>]> = [
      ['iss_mismatch', (c) => fixture.idp.signIdToken({ ...c, iss: 'https://evil.example' })],
      ['aud_mismatch', (c) => fixture.idp.signIdToken({ ...c, aud: 'someone-else' })],
      ['nonce_missing', (c) => fixture.idp.signIdToken({ ...c, nonce: undefined })],
      ['nonce_mismatch', (c) => fixture.idp.signIdToken({ ...c, nonce: 'replayed-nonce' })],
      ['alg', (c) => fixture.idp.signIdToken(c, { alg: 'none' })],
      ['expired', (c) => fixture.idp.signIdToken({ ...c, iat: now - 7200, exp: now - 3600 })],
      ['signature', (c) => new jose.SignJWT(c).setProtectedHeader({ alg: 'RS256', kid: 'upstream-test-key' }).sign(forger.privateKey)],
    ];
    for (const [reason, forge] of tamperings) {
      fixture.audit.clear();
      fixture.idp.hooks.tokenResponse = async (body) => ({ ...body, id_token: await forge(jose.decodeJwt(String(body.id_token))) });
      const agent = new UserAgent(fixture);
      const { callbackUrl } = await upToCallback(agent);
      const result = await agent.get(callbackUrl);
      expect([reason, result.statusCode, header(result, 'location')]).toEqual([reason, 400, undefined]);
      expect(fixture.audit.named('upstream.id_token_invalid')).toEqual([expect.objectContaining({ reason, client_id: client.clientId })]);
      expect(fixture.audit.named('authorize.code_issued')).toEqual([]);
    }
    expect(await codesFor(client.clientId)).toEqual([]);
  });

  test('UPS-05 a callback whose RFC 9207 iss is not the upstream issuer is refused (mix-up)', async () => {
    const agent = new UserAgent(fixture);
    const { callbackUrl } = await upToCallback(agent);
    expect(new URL(callbackUrl).searchParams.get('iss')).toBe(fixture.idp.issuer);
    for (const iss of ['https://evil.example', undefined]) {
      fixture.audit.clear();
      const again = await upToCallback(agent);
      expectPage(await agent.get(withParameter(again.callbackUrl, 'iss', iss)));
      expect(fixture.audit.named('upstream.id_token_invalid')).toEqual([expect.objectContaining({ reason: 'callback_iss' })]);
    }
    expect(await codesFor(client.clientId)).toEqual([]);
  });

  test('ROB-09 a hanging upstream token endpoint ends within the upstream budget with temporarily_unavailable, nothing issued', async () => {
    const handler = fixture.buildAuthorize({ upstreamTimeoutMs: 400 });
    const agent = new UserAgent(fixture, handler);
    const { callbackUrl } = await upToCallback(agent);
    fixture.idp.hooks.tokenDelayMs = 5_000;
    const consentsBefore = (await fixture.items('consents')).length;
    const started = Date.now();
    const result = await agent.get(callbackUrl);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.statusCode).toBe(303);
    expect(Object.fromEntries(locationQuery(result))).toMatchObject({ error: 'temporarily_unavailable', state: 'client-state-123', iss: ISSUER });
    expect(fixture.audit.named('upstream.timeout')).toEqual([expect.objectContaining({ client_id: client.clientId })]);
    expect(await codesFor(client.clientId)).toEqual([]);
    expect((await fixture.items('consents')).length).toBe(consentsBefore);
  });

  test('ROB-09 an unreachable upstream at approval is a 503 page and leaves the pending authorization for a retry', async () => {
    const working = fixture.buildAuthorize();
    const broken = fixture.buildAuthorize({
      upstream: new OidcUpstream({
        config: { ...fixture.config.upstream, issuer: 'http://127.0.0.1:9' },
        redirectUri: CALLBACK_URL,
        secret: async () => undefined,
      }),
    });
    const agent = new UserAgent(fixture, broken);
    const consent = await agent.openConsent(await agent.authorize(authorizationParams(client.clientId, client.redirectUri).query));
    const refused = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    expect(refused.statusCode).toBe(503);
    expect(header(refused, 'location')).toBeUndefined();
    expect(fixture.audit.named('upstream.unavailable')).toEqual([expect.objectContaining({ reason: 'network' })]);
    const retry = new UserAgent(fixture, working);
    for (const [name, value] of agent.cookies) retry.cookies.set(name, value);
    const approved = await retry.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    expect(header(approved, 'location')!.startsWith(`${fixture.idp.issuer}/auth?`)).toBe(true);
  });
});

describe('REV-02 no user looks like a machine client', () => {
  const mimic = new AuthorizeFixture();
  beforeAll(
    () =>
      mimic.start({}, { users: { ...UPSTREAM_USERS, impostor: { sub: 'machine.batch', password: 'impostor-password', name: 'Impostor', email: 'impostor@example.test' } } }),
    60_000,
  );
  afterAll(() => mimic.stop());

  test('REV-02 MRS-10 an upstream account whose sub is a machine client id (machine.<name>) is refused at the callback: no code, no sign-in session', async () => {
    // The real time, so the ID token would be good for a session (its exp is set from the real clock).
    mimic.clock.now = Math.floor(Date.now() / 1000);
    const target = await mimic.register();
    const agent = new UserAgent(mimic);
    const consent = await agent.openConsent(await agent.authorize(authorizationParams(target.clientId, target.redirectUri).query));
    const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    const callbackUrl = await agent.signIn(header(approved, 'location')!, 'impostor', 'impostor-password');
    const result = await agent.get(callbackUrl);
    expect(result.statusCode).toBe(400);
    expect(header(result, 'location')).toBeUndefined();
    expect(mimic.audit.named('upstream.callback_rejected').map((event) => event.reason)).toEqual(['machine_subject']);
    expect(mimic.audit.named('authorize.code_issued')).toHaveLength(0);
    expect(setCookies(result).filter((cookie) => cookie.startsWith('__Host-mcp-session-'))).toEqual([]);
    expect((await mimic.items('pending')).filter((item) => String(item.pk).startsWith('session#'))).toEqual([]);
  });
});
