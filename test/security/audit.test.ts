import { createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { loadAuthorizerRoutes } from '../../lambda/authorizer/config';
import { keysFromJwks, pinKeys } from '../../lambda/shared/verification-keys';
import { MAX_CODE_FAILURES } from '../../lambda/shared/code-store';
import { CODE_RETRY_WINDOW_SECONDS } from '../../lambda/token/grants/authorization-code';
import { AuthorizeFixture, authorizationParams, header, locationQuery, runFlow, UserAgent } from '../support/authorize-fixture';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';
import { basicAuth, formEvent, ISSUER, lambdaContext, proxyEvent } from '../support/harness';
import { auditEventSchema } from '../support/security-probes';

/**
 * AUDIT-01: every rejection path writes exactly the expected audit events, each one valid against the
 * catalogue's schema (`event`, `reason`, `request_id`, `client_id?`, `sub_hash?`, `ip`, `ua`, `ts`).
 * AUDIT-03: the success events of one grant can be joined into its whole history.
 */

const fixture = new AuthorizeFixture();
const UA = 'audit-test-client/1.0';
const IP = '198.51.100.7';
let client: { clientId: string; redirectUri: string };

beforeAll(() => fixture.start(), 60_000);
afterAll(() => fixture.stop());
// A fresh registration each time: unused registrations expire, and some cases move the clock by days.
beforeEach(async () => {
  client = await fixture.register();
});

const stores = () => fixture.backend.stores();
const now = () => fixture.clock.now;

async function token(path: string, params: Record<string, string>, headers: Record<string, string> = {}, body?: string) {
  const event = formEvent(path, params, { 'user-agent': UA, ...headers });
  if (body !== undefined) event.body = body;
  const result = await fixture.tokenHandler(event, lambdaContext);
  return { status: result.statusCode, json: result.body ? JSON.parse(result.body) : undefined };
}

async function registerRaw(body: string, contentType = 'application/json') {
  return fixture.registerHandler(proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': contentType, 'user-agent': UA }, body }), lambdaContext);
}

async function redeemable(options: Parameters<typeof seedClient>[2] = {}) {
  const seeded = await seedClient(stores(), now(), options);
  const { code, verifier } = await seedCode(stores(), now(), seeded.client.clientId);
  return { ...seeded, params: { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: seeded.client.clientId } };
}

async function session() {
  const { params } = await redeemable();
  const issued = await token('/token', params);
  return { clientId: params.client_id, refreshToken: issued.json.refresh_token as string };
}

const refresh = (clientId: string, refreshToken: string, extra: Record<string, string> = {}) =>
  token('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });

const agent = () => new UserAgent(fixture);
const authorize = (overrides: Record<string, string | undefined>, target = client) =>
  agent().authorize(authorizationParams(target.clientId, target.redirectUri, overrides).query, { 'user-agent': UA });

/** A consent page reached in one browser, to attack its decision. */
async function consentPage() {
  const browser = agent();
  const consent = await browser.openConsent(await browser.authorize(authorizationParams(client.clientId, client.redirectUri).query));
  return { browser, ...consent };
}

/** The upstream callback URL of one flow, not yet visited. */
async function callbackUrl() {
  const browser = agent();
  const consent = await browser.openConsent(await browser.authorize(authorizationParams(client.clientId, client.redirectUri).query));
  const approved = await browser.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
  return { browser, url: await browser.signIn(header(approved, 'location')!) };
}

/** Runs `setup`, then only `reject` is audited: the events it writes are what the case checks. */
type Scenario = [string, () => Promise<() => Promise<unknown>>, Array<[string, string]>];

const TOKEN: Scenario[] = [
  ['CODE-11 grant_type missing', async () => () => token('/token', { client_id: 'x' }), [['token.rejected', 'grant_type_missing']]],
  ['CODE-11 grant_type=password', async () => () => token('/token', { grant_type: 'password', client_id: 'x' }), [['token.rejected', 'unsupported_grant_type']]],
  ['ROB-01 a JSON body', async () => () => token('/token', {}, { 'content-type': 'application/json' }, '{}'), [['token.rejected', 'unsupported_content_type']]],
  ['ROB-02 a repeated parameter', async () => () => token('/token', {}, {}, 'grant_type=a&grant_type=b'), [['token.rejected', 'duplicate_parameter']]],
  ['ROB-02 array syntax', async () => () => token('/token', {}, {}, 'scope[]=a'), [['token.rejected', 'form_array_syntax']]],
  ['ROB-04 an oversized body', async () => () => token('/token', { code: 'x'.repeat(20_000) }), [['token.rejected', 'body_too_large']]],
  ['CAUTH-05 a malformed Basic header', async () => () => token('/token', { grant_type: 'client_credentials' }, { authorization: 'Basic !!!' }), [['token.rejected', 'basic_malformed']]],
  ['client_id missing', async () => () => token('/token', { grant_type: 'authorization_code', code: 'c' }), [['token.rejected', 'client_id_missing']]],
  ['an unknown client', async () => () => token('/token', { grant_type: 'authorization_code', code: 'c', client_id: 'AAAAAAAAAAAAAAAAAAAAAA' }), [['token.rejected', 'unknown_client']]],
  [
    'CAUTH-01 a wrong secret',
    async () => {
      const { params, client: c } = await redeemable({ method: 'client_secret_basic' });
      const { client_id: _id, ...rest } = params;
      return () => token('/token', rest, { authorization: basicAuth(c.clientId, 'wrong') });
    },
    [['token.rejected', 'bad_secret']],
  ],
  [
    'CAUTH-02 Basic and client_secret together',
    async () => {
      const { params, client: c, secret } = await redeemable({ method: 'client_secret_basic' });
      return () => token('/token', { ...params, client_secret: secret! }, { authorization: basicAuth(c.clientId, secret!) });
    },
    [['token.rejected', 'multiple_client_auth']],
  ],
  [
    'CAUTH-02 two Authorization headers',
    async () => () => {
      const event = formEvent('/token', { grant_type: 'client_credentials' }, { 'user-agent': UA });
      event.multiValueHeaders.authorization = ['Basic YTpi', 'Basic YTpi'];
      return fixture.tokenHandler(event, lambdaContext);
    },
    [['token.rejected', 'duplicate_header_authorization']],
  ],
  [
    'CAUTH-03 client_secret_post for a client_secret_basic client',
    async () => {
      const { params, secret } = await redeemable({ method: 'client_secret_basic' });
      return () => token('/token', { ...params, client_secret: secret! });
    },
    [['token.rejected', 'auth_method_mismatch']],
  ],
  ['CAUTH-04 a public client sending a secret', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, client_secret: '' });
  }, [['token.rejected', 'auth_method_mismatch']]],
  [
    'CAUTH-06 a form client_id differing from Basic',
    async () => {
      const { params, client: c, secret } = await redeemable({ method: 'client_secret_basic' });
      return () => token('/token', { ...params, client_id: 'someone-else' }, { authorization: basicAuth(c.clientId, secret!) });
    },
    [['token.rejected', 'client_id_mismatch']],
  ],
  ['CODE-07 a forged code', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, code: 'forged' });
  }, [['token.rejected', 'code_unknown']]],
  ['CODE-03 an expired code', async () => {
    const { client: c } = await seedClient(stores(), now());
    const { code, verifier } = await seedCode(stores(), now() - 120, c.clientId);
    return () => token('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: c.clientId });
  }, [['token.rejected', 'code_expired']]],
  ['CODE-04 another client\'s code', async () => {
    const { params } = await redeemable();
    const { client: other } = await seedClient(stores(), now());
    return () => token('/token', { ...params, client_id: other.clientId });
  }, [['token.rejected', 'client_mismatch']]],
  ['CODE-05 another redirect_uri', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, redirect_uri: 'http://127.0.0.1:33418/other' });
  }, [['token.rejected', 'redirect_mismatch']]],
  ['PKCE-06 no verifier', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, code_verifier: '' });
  }, [['token.rejected', 'pkce_missing']]],
  ['PKCE-08 a verifier outside the ABNF', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, code_verifier: 'short' });
  }, [['token.rejected', 'pkce_malformed']]],
  ['PKCE-07 a wrong verifier', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, code_verifier: 'w'.repeat(43) });
  }, [['token.rejected', 'pkce_mismatch']]],
  ['PKCE-07 a burned code', async () => {
    const { params } = await redeemable();
    for (let i = 0; i < MAX_CODE_FAILURES; i++) await token('/token', { ...params, code_verifier: 'w'.repeat(43) });
    return () => token('/token', params);
  }, [['token.rejected', 'code_burned']]],
  ['CODE-10 a resource outside the grant', async () => {
    const { params } = await redeemable();
    return () => token('/token', { ...params, resource: 'https://other.example/mcp' });
  }, [['token.rejected', 'unknown_resource']]],
  ['CODE-01 a replayed code', async () => {
    const { params } = await redeemable();
    await token('/token', params);
    fixture.clock.advance(CODE_RETRY_WINDOW_SECONDS);
    return () => token('/token', params);
  }, [['security.code_replay', 'code_replay'], ['token.rejected', 'code_replay']]],
  ['CODE-01 a code retried within the retry window', async () => {
    const { params } = await redeemable();
    await token('/token', params);
    return () => token('/token', params);
  }, [['token.rejected', 'code_retried']]],
  ['client_credentials by a public client', async () => {
    const { client: c } = await seedClient(stores(), now());
    return () => token('/token', { grant_type: 'client_credentials', client_id: c.clientId });
  }, [['token.rejected', 'public_client_credentials']]],
  ['client_credentials beyond the machine client\'s ceiling', async () => {
    const machine = fixture.backend.machine;
    return () => token('/token', { grant_type: 'client_credentials', scope: 'mcp:admin' }, { authorization: basicAuth(machine.clientId('batch'), machine.secretOf('batch')) });
  }, [['token.rejected', 'scope_not_allowed']]],
  ['REV-01 client_credentials by a registered confidential client', async () => {
    const { client: c, secret } = await seedClient(stores(), now(), { method: 'client_secret_basic', grantTypes: ['client_credentials'], scope: 'mcp:tools' });
    return () => token('/token', { grant_type: 'client_credentials' }, { authorization: basicAuth(c.clientId, secret!) });
  }, [['token.rejected', 'not_machine_client']]],
  ['RT refresh_token missing', async () => {
    const { clientId } = await session();
    return () => token('/token', { grant_type: 'refresh_token', client_id: clientId });
  }, [['token.rejected', 'refresh_token_missing']]],
  ['RT a forged refresh token', async () => {
    const { clientId } = await session();
    return () => refresh(clientId, 'forged');
  }, [['token.rejected', 'refresh_unknown']]],
  ['RT-04 another client\'s refresh token', async () => {
    const { refreshToken } = await session();
    const { client: other } = await seedClient(stores(), now());
    return () => refresh(other.clientId, refreshToken);
  }, [['token.rejected', 'client_mismatch']]],
  ['RT-05 a wider scope', async () => {
    const { clientId, refreshToken } = await session();
    return () => refresh(clientId, refreshToken, { scope: 'mcp:admin' });
  }, [['token.rejected', 'scope_wider_than_grant']]],
  ['RT-08 another resource', async () => {
    const { clientId, refreshToken } = await session();
    return () => refresh(clientId, refreshToken, { resource: 'https://other.example/mcp' });
  }, [['token.rejected', 'unknown_resource']]],
  ['RT-07 a revoked grant', async () => {
    const { clientId, refreshToken } = await session();
    await token('/revoke', { token: refreshToken, client_id: clientId });
    return () => refresh(clientId, refreshToken);
  }, [['token.rejected', 'grant_revoked']]],
  ['RT-02 reuse after the grace window', async () => {
    const { clientId, refreshToken } = await session();
    await refresh(clientId, refreshToken);
    fixture.clock.advance(31);
    return () => refresh(clientId, refreshToken);
  }, [['security.refresh_reuse', 'refresh_reuse'], ['token.rejected', 'refresh_reuse']]],
  ['RT-06 an idle family', async () => {
    const { clientId, refreshToken } = await session();
    fixture.clock.advance(7 * 86400 + 1);
    return () => refresh(clientId, refreshToken);
  }, [['token.rejected', 'refresh_expired']]],
  ['revocation without a token', async () => () => token('/revoke', { client_id: client.clientId }), [['revoke.rejected', 'token_missing']]],
  ['introspection by a public client', async () => () => token('/introspect', { token: 'x', client_id: client.clientId }), [['introspect.rejected', 'introspection_public_client']]],
];

const REGISTER: Scenario[] = [
  ['REG-01 no redirect_uris', async () => () => registerRaw('{"token_endpoint_auth_method":"none"}'), [['register.rejected', 'missing_redirect_uris']]],
  ['REG-02 a fragment', async () => () => registerRaw('{"redirect_uris":["https://c.example/cb#f"]}'), [['register.rejected', 'fragment']]],
  ['REG-03 javascript:', async () => () => registerRaw('{"redirect_uris":["javascript:alert(1)"]}'), [['register.rejected', 'scheme']]],
  ['REG-04 plain http', async () => () => registerRaw('{"redirect_uris":["http://client.example/cb"]}'), [['register.rejected', 'http_non_loopback']]],
  ['REG-05 userinfo', async () => () => registerRaw('{"redirect_uris":["http://localhost:80@evil.example/cb"]}'), [['register.rejected', 'userinfo']]],
  ['REG-06 relative', async () => () => registerRaw('{"redirect_uris":["/cb"]}'), [['register.rejected', 'relative']]],
  ['REG-07 a wildcard', async () => () => registerRaw('{"redirect_uris":["https://*.example.com/cb"]}'), [['register.rejected', 'wildcard']]],
  ['REG-09 an http logo_uri', async () => () => registerRaw('{"redirect_uris":["https://c.example/cb"],"logo_uri":"http://c.example/l.png"}'), [['register.rejected', 'logo_uri']]],
  ['REG-11 private_key_jwt', async () => () => registerRaw('{"redirect_uris":["https://c.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}'), [['register.rejected', 'token_endpoint_auth_method']]],
  ['REG-12 implicit', async () => () => registerRaw('{"redirect_uris":["https://c.example/cb"],"grant_types":["implicit"]}'), [['register.rejected', 'grant_types']]],
  ['REG-13 a scope beyond the model', async () => () => registerRaw('{"redirect_uris":["https://c.example/cb"],"scope":"admin:*"}'), [['register.rejected', 'scope']]],
  ['REG-14 invalid JSON', async () => () => registerRaw('{bad'), [['register.rejected', 'malformed_json']]],
  ['REG-14 a JSON array', async () => () => registerRaw('[]'), [['register.rejected', 'json_not_object']]],
  ['REG-14 text/plain', async () => () => registerRaw('{}', 'text/plain'), [['register.rejected', 'unsupported_content_type']]],
  ['REG-15 eleven redirect URIs', async () => () => registerRaw(JSON.stringify({ redirect_uris: Array.from({ length: 11 }, (_, i) => `https://c.example/${i}`) })), [['register.rejected', 'too_many']]],
  ['REG-15 a 201-character name', async () => () => registerRaw(JSON.stringify({ redirect_uris: ['https://c.example/cb'], client_name: 'n'.repeat(201) })), [['register.rejected', 'client_name']]],
  ['RFC 7592 a wrong registration access token', async () => () =>
    fixture.registerHandler(
      proxyEvent({ method: 'GET', path: `/register/${client.clientId}`, resource: '/register/{client_id}', pathParameters: { client_id: client.clientId }, headers: { authorization: 'Bearer wrong', 'user-agent': UA } }),
      lambdaContext,
    ), [['register.rejected', 'registration_token_invalid']]],
];

const AUTHORIZE: Scenario[] = [
  ['AZR-01 an unknown client', async () => () => authorize({}, { clientId: 'AAAAAAAAAAAAAAAAAAAAAA', redirectUri: REDIRECT }), [['authorize.rejected', 'unknown_client']]],
  ['SSRF-06 a URL-shaped client with CIMD disabled', async () => () => authorize({}, { clientId: 'https://app.example.com/client.json', redirectUri: REDIRECT }), [['authorize.rejected', 'unknown_client']]],
  ['AZR-02 an unregistered redirect_uri', async () => () => authorize({ redirect_uri: `${REDIRECT}/x` }), [['authorize.rejected', 'redirect_mismatch']]],
  ['AZR-07 userinfo in redirect_uri', async () => () => authorize({ redirect_uri: 'http://127.0.0.1:8080@evil.example/callback' }), [['authorize.rejected', 'userinfo']]],
  ['AZR-05 no redirect_uri', async () => () => authorize({ redirect_uri: undefined }), [['authorize.rejected', 'redirect_uri_missing']]],
  ['AZR-09 a repeated state', async () => () => agent().get(`${ISSUER}/authorize?${new URLSearchParams(authorizationParams(client.clientId, client.redirectUri).query)}&state=again`, { 'user-agent': UA }), [['authorize.rejected', 'duplicate_state']]],
  ['AZR-12 response_type=token', async () => () => authorize({ response_type: 'token' }), [['authorize.rejected', 'unsupported_response_type']]],
  ['AZR-12 response_type missing', async () => () => authorize({ response_type: undefined }), [['authorize.rejected', 'response_type_missing']]],
  ['AZR-14 an 8 kB state', async () => () => authorize({ state: 's'.repeat(8192) }), [['authorize.rejected', 'state_too_long']]],
  ['PKCE-01 no code_challenge', async () => () => authorize({ code_challenge: undefined }), [['authorize.rejected', 'pkce_missing']]],
  ['PKCE-02 plain', async () => () => authorize({ code_challenge_method: 'plain' }), [['authorize.rejected', 'pkce_plain']]],
  ['PKCE-03 no method', async () => () => authorize({ code_challenge_method: undefined }), [['authorize.rejected', 'pkce_method_missing']]],
  ['PKCE-04 s256', async () => () => authorize({ code_challenge_method: 's256' }), [['authorize.rejected', 'pkce_method_unsupported']]],
  ['PKCE-05 a 42-character challenge', async () => () => authorize({ code_challenge: 'a'.repeat(42) }), [['authorize.rejected', 'pkce_malformed']]],
  ['RES-02 another server\'s resource', async () => () => authorize({ resource: 'https://other.example/mcp' }), [['authorize.rejected', 'unknown_resource']]],
  ['RES-01 two resources', async () => () => agent().get(`${ISSUER}/authorize?${new URLSearchParams(authorizationParams(client.clientId, client.redirectUri).query)}&resource=x`, { 'user-agent': UA }), [['authorize.rejected', 'multiple_resources']]],
  ['AZR-13 an unknown scope', async () => () => authorize({ scope: 'bogus' }), [['authorize.rejected', 'unknown_scope']]],
  ['AZR-15 a scope outside the grammar', async () => () => authorize({ scope: 'a"b' }), [['authorize.rejected', 'scope_grammar']]],
  ['consent for an unknown request', async () => () => agent().get(`${ISSUER}/consent?request=${'A'.repeat(43)}`, { 'user-agent': UA }), [['authorize.rejected', 'pending_unknown']]],
  ['CONS-06 the consent page without the flow cookie', async () => {
    const { request } = await consentPage();
    return () => agent().get(`${ISSUER}/consent?request=${request}`, { 'user-agent': UA });
  }, [['authorize.rejected', 'cookie_mismatch']]],
  ['CONS-02 a foreign Origin', async () => {
    const { browser, request, csrf } = await consentPage();
    return () => browser.postConsent({ request, csrf, decision: 'approve' }, { origin: 'https://evil.example', 'user-agent': UA });
  }, [['consent.csrf_failed', 'origin_mismatch']]],
  ['CONS-02 a wrong CSRF token', async () => {
    const { browser, request } = await consentPage();
    return () => browser.postConsent({ request, csrf: 'A'.repeat(43), decision: 'approve' }, { 'user-agent': UA });
  }, [['consent.csrf_failed', 'csrf_mismatch']]],
  ['CONS-02 another browser\'s decision', async () => {
    const { request, csrf } = await consentPage();
    return () => agent().postConsent({ request, csrf, decision: 'approve' }, { 'user-agent': UA });
  }, [['consent.csrf_failed', 'cookie_mismatch']]],
  ['UPS-01 a callback without state', async () => () => agent().get(`${ISSUER}/callback?code=x`, { 'user-agent': UA }), [['upstream.callback_rejected', 'state_missing']]],
  ['UPS-01 a callback with an unknown state', async () => () => agent().get(`${ISSUER}/callback?code=x&state=${'A'.repeat(43)}`, { 'user-agent': UA }), [['upstream.callback_rejected', 'state_unknown']]],
  ['UPS-01 a callback from another browser', async () => {
    const { url } = await callbackUrl();
    return () => agent().get(url, { 'user-agent': UA });
  }, [['upstream.callback_rejected', 'cookie_mismatch']]],
  ['UPS-02 a replayed callback', async () => {
    const { browser, url } = await callbackUrl();
    const cookies = new Map(browser.cookies);
    await browser.get(url);
    for (const [name, value] of cookies) browser.cookies.set(name, value);
    return () => browser.get(url, { 'user-agent': UA });
  }, [['upstream.callback_rejected', 'state_unknown']]],
];

/** Validates every line and compares the (event, reason) multiset with the expectation. */
function expectAudit(expected: Array<[string, string]>) {
  const events = fixture.audit.events();
  for (const event of events) {
    const parsed = auditEventSchema.safeParse(event);
    expect(parsed.success ? 'valid' : JSON.stringify(parsed.error.issues)).toBe('valid');
    expect(event.ip).toBe(IP);
  }
  // Every scenario sends a User-Agent: the refusal records it (truncated to 256 characters).
  for (const event of events) expect(event.ua).toBe(UA);
  const seen = events.map((e) => [e.event, e.reason ?? String(e.event).split('.').pop()] as [string, string]);
  expect(seen.sort()).toEqual([...expected].sort());
  // The refusal itself is exactly one event, and it names its reason.
  const refusals = events.filter((e) => /\.rejected$|\.csrf_failed$|\.callback_rejected$/.test(String(e.event)));
  expect(refusals).toHaveLength(1);
  expect(typeof refusals[0].reason).toBe('string');
}

describe.each([
  ['/token, /revoke, /introspect', TOKEN],
  ['/register', REGISTER],
  ['/authorize, /consent, /callback', AUTHORIZE],
] as const)('AUDIT-01 %s', (_group, scenarios) => {
  test.each(scenarios as Scenario[])('AUDIT-01 %s: exactly the expected events, each valid against the schema', async (_name, setup, expected) => {
    const reject = await setup();
    fixture.audit.clear();
    await reject();
    expectAudit(expected);
  });
});

describe('AUDIT-01 the authorizer', () => {
  test('AUDIT-01 rs.denied for a missing, a malformed and an under-scoped token: one valid event each', async () => {
    const lines: string[] = [];
    const keys = pinKeys('RS256', keysFromJwks(await fixture.backend.jwks().jwks(), 'RS256'));
    const authorizer = createAuthorizerHandler({ config: loadAuthorizerRoutes({ ISSUER }), keys: () => keys, clock: fixture.clock.fn, auditSink: (line) => lines.push(line) });
    const { params } = await redeemable();
    const accessToken = (await token('/token', params)).json.access_token;
    const event = (headers: Record<string, string>) =>
      ({
        type: 'REQUEST',
        methodArn: 'arn:aws:execute-api:us-east-1:1:api/prod/POST/mcp', resource: '/mcp',
        headers,
        multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
        requestContext: { requestId: 'req-authorizer', identity: { sourceIp: IP, userAgent: UA } },
      }) as never;
    const cases: Array<[Record<string, string>, string]> = [
      [{}, 'missing'],
      [{ Authorization: 'Bearer not.a.jwt' }, 'malformed'],
      [{ Authorization: `Bearer ${accessToken}`, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'admin_stats' }, 'scope'],
    ];
    for (const [headers, reason] of cases) {
      lines.length = 0;
      await authorizer(event(headers)).catch(() => undefined);
      expect(lines).toHaveLength(1);
      const parsed = JSON.parse(lines[0]);
      expect(auditEventSchema.safeParse(parsed).success).toBe(true);
      expect(parsed).toMatchObject({ event: 'rs.denied', reason, request_id: 'req-authorizer', ip: IP, ua: UA });
    }
  });
});

describe('AUDIT-03 a grant reconstructed from the audit log', () => {
  test('AUDIT-03 registration, consent, code, issuance and refresh join on client_id, grant_id and the subject hash', async () => {
    fixture.audit.clear();
    const registered = await fixture.register({ client_name: 'Audited' });
    const { query, verifier } = authorizationParams(registered.clientId, registered.redirectUri, { scope: 'mcp:tools offline_access' });
    const { callback } = await runFlow(agent(), query);
    const code = locationQuery(callback).get('code')!;
    const issued = await fixture.redeem({ code, code_verifier: verifier, redirect_uri: registered.redirectUri, client_id: registered.clientId });
    await refresh(registered.clientId, issued.json.refresh_token);

    const events = fixture.audit.events();
    for (const event of events) expect([event.event, auditEventSchema.safeParse(event).error?.issues ?? 'valid']).toEqual([event.event, 'valid']);
    const one = (name: string) => {
      const found = events.filter((e) => e.event === name);
      expect(found).toHaveLength(1);
      return found[0];
    };
    const created = one('register.created');
    const granted = one('consent.granted');
    const codeIssued = one('authorize.code_issued');
    const tokenIssued = one('token.issued');
    const refreshed = one('token.refreshed');
    for (const event of [created, granted, codeIssued, tokenIssued, refreshed]) expect(event.client_id).toBe(registered.clientId);
    // The code names the grant it becomes; issuance and every refresh carry the grant, a jti hash, aud, scope and exp.
    expect(codeIssued.grant_id).toBe(tokenIssued.grant_id);
    expect(refreshed.grant_id).toBe(tokenIssued.grant_id);
    for (const event of [tokenIssued, refreshed]) {
      expect(event).toMatchObject({ aud: `${ISSUER}/mcp`, scope: 'mcp:tools', exp: expect.any(Number), jti_hash: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) });
    }
    expect(tokenIssued.jti_hash).not.toBe(refreshed.jti_hash);
    expect(granted.scope).toBe('mcp:tools offline_access');
    expect(codeIssued.sub_hash).toBe(tokenIssued.sub_hash);
    expect(refreshed.sub_hash).toBe(tokenIssued.sub_hash);
  });
});
