import * as jose from 'jose';
import { sha256 } from '../../lambda/shared/crypto';
import { ISSUER, RESOURCE } from '../support/harness';
import { AuthorizeFixture, authorizationParams, header, locationQuery, type Result, runFlow, setCookies, UserAgent } from '../support/authorize-fixture';

/**
 * The whole authorization code flow against a real OpenID Connect provider, through our handlers on
 * dynalite, ending at the token endpoint: the code is bound to everything the authorization bound.
 */

const fixture = new AuthorizeFixture();
/** Every response our handlers gave in this file, to search for leaked upstream tokens (UPS-06). */
const responses: Result[] = [];
/** Every token response the upstream provider sent to us. */
const upstreamTokenResponses: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  await fixture.start();
  fixture.idp.hooks.tokenResponse = (body) => {
    upstreamTokenResponses.push(body);
    return body;
  };
}, 60_000);
afterAll(() => fixture.stop());
beforeEach(() => fixture.audit.clear());

async function flow(query: Record<string, string>, username = 'alice') {
  const agent = new UserAgent(fixture);
  const steps = await runFlow(agent, query, username);
  responses.push(steps.authorized, steps.consent.page, steps.approved, steps.callback);
  return steps;
}

async function verifyAccessToken(token: string) {
  return jose.jwtVerify(token, fixture.backend.kms.publicKeyOf(fixture.backend.keyArn), {
    issuer: ISSUER,
    audience: RESOURCE,
    typ: 'at+jwt',
    currentDate: new Date(fixture.clock.now * 1000),
  });
}

test('AZR-16 AS-1 AS-17 success: 303 to the exact redirect URI with one code, state and iss; the code is stored hashed with its bindings and redeems once', async () => {
  const client = await fixture.register({ client_name: 'Claude Code' });
  expect((await fixture.items('clients')).find((item) => item.pk === client.clientId)!.expiresAt).toBeDefined();
  const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { resource: undefined });
  const { callback } = await flow(query);

  expect(callback.statusCode).toBe(303);
  const location = header(callback, 'location')!;
  expect(location.startsWith(`${client.redirectUri}?`)).toBe(true);
  const params = locationQuery(callback);
  expect([...params.keys()].sort()).toEqual(['code', 'iss', 'state']);
  expect(params.get('iss')).toBe(ISSUER);
  expect(params.get('state')).toBe('client-state-123');
  const code = params.get('code')!;
  expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

  const stored = (await fixture.items('codes')).filter((item) => item.clientId === client.clientId);
  expect(stored).toEqual([
    expect.objectContaining({
      pk: sha256(code),
      codeHash: sha256(code),
      redirectUri: client.redirectUri,
      codeChallenge: query.code_challenge,
      resource: RESOURCE,
      scope: 'mcp:tools',
      sub: 'alice',
      username: 'alice',
      createdAt: fixture.clock.now,
      expiresAt: fixture.clock.now + 60,
      failures: 0,
    }),
  ]);
  expect(JSON.stringify(await fixture.items('codes'))).not.toContain(code);
  expect(fixture.audit.named('authorize.code_issued')).toEqual([expect.objectContaining({ client_id: client.clientId, scope: 'mcp:tools', resource: RESOURCE })]);
  // A completed authorization makes the registration permanent.
  expect((await fixture.items('clients')).find((item) => item.pk === client.clientId)!.expiresAt).toBeUndefined();

  // The code carries exactly what was bound: another verifier or redirect URI fails, the right ones succeed.
  const redeem = (overrides: Record<string, string> = {}) =>
    fixture.redeem({ code, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId, resource: RESOURCE, ...overrides });
  expect((await redeem({ code_verifier: authorizationParams('x', 'y').verifier })).json.error).toBe('invalid_grant');
  expect((await redeem({ redirect_uri: 'http://127.0.0.1:33418/other' })).json.error).toBe('invalid_grant');
  const token = await redeem();
  expect(token.status).toBe(200);
  const { payload } = await verifyAccessToken(token.json.access_token);
  expect(payload).toMatchObject({ iss: ISSUER, aud: RESOURCE, sub: 'alice', client_id: client.clientId, scope: 'mcp:tools' });
  expect((await redeem()).json.error).toBe('invalid_grant');
});

test('AZR-14 a state with markup and CR/LF comes back byte for byte in the success response', async () => {
  const client = await fixture.register();
  const state = `"<>&'\r\n${'é'.repeat(700)}`;
  const { callback } = await flow(authorizationParams(client.clientId, client.redirectUri, { state }).query);
  expect(locationQuery(callback).getAll('state')).toEqual([state]);
  expect(header(callback, 'location')).not.toMatch(/[\r\n"<>]/);
});

describe('scope entitlement: requested ∩ the user\'s upstream claims (consented to)', () => {
  test('alice (member of admins) gets mcp:admin; bob gets only what every user may hold', async () => {
    const client = await fixture.register();
    const scope = 'mcp:admin mcp:tools offline_access';
    for (const [username, granted] of [
      ['alice', 'mcp:admin mcp:tools'],
      ['bob', 'mcp:tools'],
    ]) {
      const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { scope });
      const { callback } = await flow(query, username);
      const token = await fixture.redeem({ code: locationQuery(callback).get('code')!, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId });
      expect([username, token.json.scope, typeof token.json.refresh_token]).toEqual([username, granted, 'string']);
    }
  });

  test('a user entitled to none of the requested access is sent back with access_denied after sign-in', async () => {
    const client = await fixture.register();
    const { callback } = await flow(authorizationParams(client.clientId, client.redirectUri, { scope: 'mcp:admin' }).query, 'bob');
    expect(callback.statusCode).toBe(303);
    expect(Object.fromEntries(locationQuery(callback))).toMatchObject({ error: 'access_denied', state: 'client-state-123', iss: ISSUER });
    expect(fixture.audit.named('authorize.rejected')).toEqual([expect.objectContaining({ reason: 'scope_not_entitled', client_id: client.clientId })]);
    expect(await fixture.items('codes')).not.toContainEqual(expect.objectContaining({ clientId: client.clientId }));
  });

  test('C-6 a client registered for mcp:tools can step up to mcp:admin for an entitled user who consents to it', async () => {
    const client = await fixture.register({ scope: 'mcp:tools offline_access' });
    const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { scope: 'mcp:admin mcp:tools' });
    const { callback, consent } = await flow(query, 'alice');
    // The user sees and approves exactly what is delegated.
    expect(consent.page.body).toContain('mcp:admin');
    const token = await fixture.redeem({ code: locationQuery(callback).get('code')!, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId });
    expect(token.json.scope).toBe('mcp:admin mcp:tools');
  });
});

test('UPS-06 the access token is ours (our iss and KMS key), and no upstream token appears in any response, log line or table', async () => {
  const client = await fixture.register();
  const { query, verifier } = authorizationParams(client.clientId, client.redirectUri);
  const { callback } = await flow(query);
  const token = await fixture.redeem({ code: locationQuery(callback).get('code')!, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId });
  const { protectedHeader } = await verifyAccessToken(token.json.access_token);
  expect(protectedHeader.kid).toBeDefined();

  expect(upstreamTokenResponses.length).toBeGreaterThan(0);
  const upstreamSecrets = upstreamTokenResponses.flatMap((body) => [body.access_token, body.id_token].filter((value): value is string => typeof value === 'string'));
  expect(upstreamSecrets.length).toBeGreaterThan(0);
  expect(upstreamSecrets).not.toContain(token.json.access_token);
  const everything = [
    JSON.stringify(responses.map((response) => ({ headers: response.headers, multi: response.multiValueHeaders, body: response.body, cookies: setCookies(response) }))),
    JSON.stringify(token.json),
    fixture.audit.lines.join('\n'),
    JSON.stringify(await Promise.all((['pending', 'consents', 'codes', 'clients'] as const).map((table) => fixture.items(table)))),
  ].join('\n');
  for (const secret of upstreamSecrets) {
    // Signatures are the unforgeable part of a JWT: not even they may leak.
    expect(everything).not.toContain(secret.split('.')[2] || secret);
  }
});
