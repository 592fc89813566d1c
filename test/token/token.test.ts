import * as jose from 'jose';
import { buildTokenHandler } from '../../lambda/token/handler';
import { sha256 } from '../../lambda/shared/crypto';
import { MAX_CODE_FAILURES } from '../../lambda/shared/code-store';
import { CODE_RETRY_WINDOW_SECONDS } from '../../lambda/token/grants/authorization-code';
import { AuditCapture, Backend, basicAuth, formEvent, instrument, ISSUER, lambdaContext, RESOURCE, sdkError, TestClock } from '../support/harness';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
let handler: ReturnType<typeof buildTokenHandler>;
let dbCalls: ReturnType<typeof instrument>;
let kmsCalls: ReturnType<typeof instrument>;

beforeAll(async () => {
  await backend.start();
  dbCalls = instrument(backend.db);
  kmsCalls = instrument(backend.kmsClient);
  handler = buildTokenHandler({ config: backend.config('token'), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
});
afterAll(() => backend.stop());
beforeEach(() => {
  audit.clear();
  dbCalls.heal();
  kmsCalls.heal();
});

async function post(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const result = await handler(formEvent(path, params, headers), lambdaContext);
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
}

const stores = () => backend.stores();

async function redeemable(options: Parameters<typeof seedClient>[2] = {}) {
  const { client, secret } = await seedClient(stores(), clock.now, options);
  const { code, verifier } = await seedCode(stores(), clock.now, client.clientId);
  const params = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId };
  return { client, secret, code, verifier, params };
}

async function verifyAccessToken(token: string) {
  return jose.jwtVerify(token, backend.kms.publicKeyOf(backend.keyArn), { issuer: ISSUER, audience: RESOURCE, typ: 'at+jwt', currentDate: new Date(clock.now * 1000) });
}

describe('authorization_code grant', () => {
  test('AS-1 AS-12 AS-16 a public client redeems a code with PKCE S256 for a short-lived RFC 9068 token', async () => {
    const { client, params } = await redeemable();
    const response = await post('/token', params);
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Cache-Control']).toBe('no-store');
    expect(response.json).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'mcp:tools' });
    expect(response.json.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
    const { payload, protectedHeader } = await verifyAccessToken(response.json.access_token);
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'at+jwt' });
    expect(protectedHeader.kid).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(payload).toMatchObject({ iss: ISSUER, aud: RESOURCE, sub: 'user-alice', client_id: client.clientId, scope: 'mcp:tools' });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(typeof payload.jti).toBe('string');
    const issued = audit.named('token.issued');
    expect(issued).toHaveLength(1);
    expect(issued[0]).toMatchObject({ client_id: client.clientId, aud: RESOURCE, scope: 'mcp:tools', grant_type: 'authorization_code' });
    expect(issued[0].grant_id).toBeDefined();
    expect(issued[0].sub_hash).toBeDefined();
  });

  test('budget: one BatchGetItem, one conditional write, one KMS Sign per authorization_code grant', async () => {
    const { params } = await redeemable();
    dbCalls.reset();
    kmsCalls.reset();
    expect((await post('/token', params)).statusCode).toBe(200);
    expect(kmsCalls.calls).toEqual(['SignCommand']);
    expect(dbCalls.calls).toEqual(['BatchGetItemCommand', 'PutItemCommand']);
  });

  test('AS-15 every client that registered the refresh_token grant gets a refresh token, offline_access or not', async () => {
    for (const scope of ['mcp:tools', 'mcp:tools offline_access']) {
      const { client } = await seedClient(stores(), clock.now);
      const { code, verifier } = await seedCode(stores(), clock.now, client.clientId, { scope });
      const response = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId });
      expect(response.statusCode).toBe(200);
      expect(response.json.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]{43}$/);
      expect(response.json.scope).toBe('mcp:tools');
    }
  });

  test('AS-15 a client that did not register the refresh_token grant gets none, even with offline_access', async () => {
    const { client } = await seedClient(stores(), clock.now, { grantTypes: ['authorization_code'] });
    const { code, verifier } = await seedCode(stores(), clock.now, client.clientId, { scope: 'mcp:tools offline_access' });
    const response = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId });
    expect(response.statusCode).toBe(200);
    expect(response.json.refresh_token).toBeUndefined();
  });

  test('AS-15 step-up: a refresh asking for more scope than the grant holds is invalid_scope and changes nothing', async () => {
    const { client } = await seedClient(stores(), clock.now);
    const { code, verifier } = await seedCode(stores(), clock.now, client.clientId, { scope: 'mcp:tools' });
    const issued = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId });
    const wider = await post('/token', { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: client.clientId, scope: 'mcp:tools mcp:admin' });
    expect(wider.statusCode).toBe(400);
    expect(wider.json.error).toBe('invalid_scope');
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: client.clientId });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json.scope).toBe('mcp:tools');
  });

  test('CODE-01 a second valid redemption after the retry window fails with invalid_grant and revokes the first grant', async () => {
    const { params } = await redeemable();
    const first = await post('/token', params);
    expect(first.statusCode).toBe(200);
    clock.advance(CODE_RETRY_WINDOW_SECONDS);
    const second = await post('/token', params);
    expect(second.statusCode).toBe(400);
    expect(second.json.error).toBe('invalid_grant');
    expect(audit.named('security.code_replay')).toHaveLength(1);
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: params.client_id });
    expect(refreshed.json.error).toBe('invalid_grant');
  });

  test('CODE-01 the same code POSTed twice within the retry window (ChatGPT retries): the second fails, the first grant stands', async () => {
    const { params } = await redeemable();
    const first = await post('/token', params);
    expect(first.statusCode).toBe(200);
    clock.advance(CODE_RETRY_WINDOW_SECONDS - 1);
    const second = await post('/token', params);
    expect(second.statusCode).toBe(400);
    expect(second.json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected').map((event) => event.reason)).toEqual(['code_retried']);
    expect(audit.named('security.code_replay')).toHaveLength(0);
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: params.client_id });
    expect(refreshed.statusCode).toBe(200);
  });

  test('a DPoP header on a token request (2.x SDK) is answered with a Bearer token, never an error', async () => {
    const { params } = await redeemable();
    const response = await post('/token', params, { DPoP: 'eyJ0eXAiOiJkcG9wK2p3dCIsImFsZyI6IkVTMjU2In0.e30.c2ln' });
    expect(response.statusCode).toBe(200);
    expect(response.json.token_type).toBe('Bearer');
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: response.json.refresh_token, client_id: params.client_id }, { DPoP: 'not-even-a-jwt' });
    expect(refreshed.statusCode).toBe(200);
    expect(refreshed.json.token_type).toBe('Bearer');
  });

  test('CODE-02 twenty parallel redemptions of one code give exactly one 200 and one grant', async () => {
    const { params } = await redeemable();
    const responses = await Promise.all(Array.from({ length: 20 }, () => post('/token', params)));
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(1);
    expect(responses.filter((r) => r.statusCode === 400 && r.json.error === 'invalid_grant')).toHaveLength(19);
    expect(audit.named('token.issued')).toHaveLength(1);
  });

  test('CODE-03 FAULT-08 an expired code is refused even while the item still exists', async () => {
    const { params } = await redeemable();
    clock.advance(61);
    const response = await post('/token', params);
    expect(response.json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected')[0].reason).toBe('code_expired');
  });

  test('CODE-04 client B cannot redeem client A\'s code, and A\'s code is not consumed', async () => {
    const { params } = await redeemable();
    const { client: other } = await seedClient(stores(), clock.now);
    const stolen = await post('/token', { ...params, client_id: other.clientId });
    expect(stolen.json.error).toBe('invalid_grant');
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('CODE-05 a different or missing redirect_uri is refused without consuming the code', async () => {
    const { params } = await redeemable();
    expect((await post('/token', { ...params, redirect_uri: 'http://127.0.0.1:33418/other' })).json.error).toBe('invalid_grant');
    const { redirect_uri: _omitted, ...withoutRedirect } = params;
    expect((await post('/token', withoutRedirect)).json.error).toBe('invalid_grant');
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('CODE-06 a replay with a wrong verifier after success revokes nothing', async () => {
    const { params } = await redeemable();
    const first = await post('/token', params);
    const replay = await post('/token', { ...params, code_verifier: 'x'.repeat(43) });
    expect(replay.json.error).toBe('invalid_grant');
    expect(audit.named('security.code_replay')).toHaveLength(0);
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: params.client_id });
    expect(refreshed.statusCode).toBe(200);
  });

  test('CODE-07 forged, truncated, extended and oversized codes get the same invalid_grant', async () => {
    const { params } = await redeemable();
    const bodies = [];
    for (const code of ['never-issued', params.code.slice(0, -1), `${params.code}x`, 'c'.repeat(10_000)]) {
      const response = await post('/token', { ...params, code });
      expect(response.statusCode).toBe(400);
      bodies.push(response.body);
    }
    expect(new Set(bodies).size).toBe(1);
  });

  test('CODE-09 AS-14 storage holds only hashes of the code and the refresh token', async () => {
    const { params } = await redeemable();
    const response = await post('/token', params);
    const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
    const dump = JSON.stringify([
      await backend.db.send(new ScanCommand({ TableName: backend.tables.codes })),
      await backend.db.send(new ScanCommand({ TableName: backend.tables.grants })),
    ]);
    for (const secret of [params.code, params.code_verifier, response.json.refresh_token, response.json.access_token]) {
      expect(dump).not.toContain(secret);
    }
    expect(dump).toContain(sha256(params.code));
  });

  test('CODE-10 AS-17 a resource other than the grant\'s is invalid_target and a corrected retry succeeds', async () => {
    const { params } = await redeemable();
    expect((await post('/token', { ...params, resource: 'https://other.example/mcp' })).json.error).toBe('invalid_target');
    expect((await post('/token', { ...params, resource: `${RESOURCE}#x` })).json.error).toBe('invalid_target');
    const ok = await post('/token', { ...params, resource: RESOURCE });
    expect(ok.statusCode).toBe(200);
  });

  test('RES-03 AS-17 resource omitted defaults to the canonical MCP URL', async () => {
    const { params } = await redeemable();
    const { payload } = await verifyAccessToken((await post('/token', params)).json.access_token);
    expect(payload.aud).toBe(RESOURCE);
  });

  test('CODE-11 missing and unsupported grant types', async () => {
    const { params } = await redeemable();
    expect((await post('/token', { ...params, grant_type: '' })).json.error).toBe('invalid_request');
    for (const grantType of ['password', 'implicit', 'urn:ietf:params:oauth:grant-type:device_code']) {
      expect((await post('/token', { ...params, grant_type: grantType })).json.error).toBe('unsupported_grant_type');
    }
    expect((await post('/token', { grant_type: 'client_credentials', client_id: params.client_id })).json.error).toBe('unauthorized_client');
  });
});

describe('PKCE at the token endpoint', () => {
  test('PKCE-06 a missing code_verifier is invalid_grant and does not consume the code', async () => {
    const { params } = await redeemable();
    const { code_verifier: _omitted, ...withoutVerifier } = params;
    expect((await post('/token', withoutVerifier)).json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected')[0].reason).toBe('pkce_missing');
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('PKCE-07 wrong verifiers burn the code after five failures', async () => {
    const { params } = await redeemable();
    const other = await seedCode(stores(), clock.now, params.client_id);
    for (let i = 0; i < MAX_CODE_FAILURES; i++) {
      expect((await post('/token', { ...params, code_verifier: other.verifier })).json.error).toBe('invalid_grant');
    }
    const correct = await post('/token', params);
    expect(correct.json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected').pop()?.reason).toBe('code_burned');
  });

  test('PKCE-08 verifiers outside the ABNF are refused and do not consume the code', async () => {
    const { params } = await redeemable();
    for (const verifier of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}%`, `${'a'.repeat(42)} `]) {
      expect((await post('/token', { ...params, code_verifier: verifier })).json.error).toBe('invalid_grant');
    }
    expect((await post('/token', params)).statusCode).toBe(200);
  });
});

describe('client authentication', () => {
  test('confidential client_secret_basic and client_secret_post both work for their registered method', async () => {
    const basic = await redeemable({ method: 'client_secret_basic' });
    const { client_id: _id, ...withoutId } = basic.params;
    expect((await post('/token', withoutId, { authorization: basicAuth(basic.client.clientId, basic.secret!) })).statusCode).toBe(200);
    const postClient = await redeemable({ method: 'client_secret_post' });
    expect((await post('/token', { ...postClient.params, client_secret: postClient.secret! })).statusCode).toBe(200);
  });

  test('CAUTH-01 a wrong secret is 401 invalid_client with WWW-Authenticate: Basic and the code survives', async () => {
    const { params, client, secret } = await redeemable({ method: 'client_secret_basic' });
    const wrong = await post('/token', params, { authorization: basicAuth(client.clientId, `${secret}x`) });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json.error).toBe('invalid_client');
    expect(wrong.headers?.['WWW-Authenticate']).toMatch(/^Basic/);
    expect((await post('/token', params, { authorization: basicAuth(client.clientId, secret!) })).statusCode).toBe(200);
  });

  test('CAUTH-02 Basic together with client_secret in the form is invalid_request', async () => {
    const { params, client, secret } = await redeemable({ method: 'client_secret_basic' });
    const both = await post('/token', { ...params, client_secret: secret! }, { authorization: basicAuth(client.clientId, secret!) });
    expect(both.statusCode).toBe(400);
    expect(both.json.error).toBe('invalid_request');
  });

  test('CAUTH-02 two Authorization headers are invalid_request', async () => {
    const { params, client, secret } = await redeemable({ method: 'client_secret_basic' });
    const event = formEvent('/token', params);
    event.multiValueHeaders.authorization = [basicAuth(client.clientId, secret!), basicAuth(client.clientId, secret!)];
    const response = await handler(event, lambdaContext);
    expect(response.statusCode).toBe(400);
  });

  test('CAUTH-03 the registered method must be the one used', async () => {
    const basic = await redeemable({ method: 'client_secret_basic' });
    expect((await post('/token', { ...basic.params, client_secret: basic.secret! })).json.error).toBe('invalid_client');
    const postClient = await redeemable({ method: 'client_secret_post' });
    const { client_id: _id, ...withoutId } = postClient.params;
    expect((await post('/token', withoutId, { authorization: basicAuth(postClient.client.clientId, postClient.secret!) })).json.error).toBe('invalid_client');
  });

  test('CAUTH-04 a public client sending a client_secret, even empty, is invalid_client', async () => {
    const { params } = await redeemable();
    expect((await post('/token', { ...params, client_secret: 'anything' })).statusCode).toBe(401);
    expect((await post('/token', { ...params, client_secret: '' })).statusCode).toBe(401);
  });

  test('CAUTH-05 malformed Basic headers are 401 invalid_client, never 500', async () => {
    const { params } = await redeemable({ method: 'client_secret_basic' });
    const { client_id: _id, ...withoutId } = params;
    for (const header of ['Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from('%zz:x').toString('base64')}`, `Basic ${'A'.repeat(10_000)}`, 'Bearer x']) {
      const response = await post('/token', withoutId, { authorization: header });
      expect(response.statusCode).toBe(401);
      expect(response.json.error).toBe('invalid_client');
    }
  });

  test('CAUTH-06 a form client_id that differs from the Basic one is refused', async () => {
    const { params, client, secret } = await redeemable({ method: 'client_secret_basic' });
    const response = await post('/token', { ...params, client_id: 'someone-else' }, { authorization: basicAuth(client.clientId, secret!) });
    expect(response.statusCode).toBe(400);
    expect(response.json.error).toBe('invalid_request');
  });
});

describe('refresh_token grant', () => {
  async function session() {
    const { params } = await redeemable();
    const first = await post('/token', params);
    return { clientId: params.client_id, refreshToken: first.json.refresh_token as string };
  }
  const refresh = (clientId: string, refreshToken: string, extra: Record<string, string> = {}) =>
    post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, ...extra });

  test('RT-01 AS-13 a refresh rotates the token; budget: one KMS call, at most two DynamoDB calls', async () => {
    const { clientId, refreshToken } = await session();
    dbCalls.reset();
    kmsCalls.reset();
    const response = await refresh(clientId, refreshToken);
    expect(response.statusCode).toBe(200);
    expect(response.json.refresh_token).not.toBe(refreshToken);
    expect(kmsCalls.calls).toEqual(['SignCommand']);
    expect(dbCalls.calls.length).toBeLessThanOrEqual(2);
    expect(audit.named('token.refreshed')).toHaveLength(1);
  });

  test('RT-02 the old token after the grace window is reuse: the whole family is revoked', async () => {
    const { clientId, refreshToken } = await session();
    const rotated = await refresh(clientId, refreshToken);
    clock.advance(31);
    expect((await refresh(clientId, refreshToken)).json.error).toBe('invalid_grant');
    expect(audit.named('security.refresh_reuse')).toHaveLength(1);
    expect((await refresh(clientId, rotated.json.refresh_token)).json.error).toBe('invalid_grant');
  });

  test('RT-03 two parallel refreshes: both answered under the grace policy, one family with exactly one current token', async () => {
    const { clientId, refreshToken } = await session();
    const [a, b] = await Promise.all([refresh(clientId, refreshToken), refresh(clientId, refreshToken)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    const grant = await stores().grants.get(refreshToken.split('.')[0]);
    const current = [a, b].filter((r) => sha256(r.json.refresh_token) === grant?.currentHash);
    expect(current).toHaveLength(1);
    expect((await refresh(clientId, current[0].json.refresh_token)).statusCode).toBe(200);
  });

  test('RT-04 client B presenting A\'s refresh token is invalid_grant and A is unaffected', async () => {
    const { clientId, refreshToken } = await session();
    const { client: other } = await seedClient(stores(), clock.now);
    expect((await refresh(other.clientId, refreshToken)).json.error).toBe('invalid_grant');
    expect((await refresh(clientId, refreshToken)).statusCode).toBe(200);
  });

  test('RT-05 a wider scope is invalid_scope; a narrower one downscopes only the access token', async () => {
    const { clientId, refreshToken } = await session();
    expect((await refresh(clientId, refreshToken, { scope: 'mcp:tools mcp:admin' })).json.error).toBe('invalid_scope');
    const narrowed = await refresh(clientId, refreshToken, { scope: 'mcp:tools' });
    expect(narrowed.json.scope).toBe('mcp:tools');
    const next = await refresh(clientId, narrowed.json.refresh_token);
    expect(next.json.scope).toBe('mcp:tools');
  });

  test('RT-06 an idle or absolutely expired family is refused', async () => {
    const { clientId, refreshToken } = await session();
    clock.advance(7 * 86400 + 1);
    expect((await refresh(clientId, refreshToken)).json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected').pop()?.reason).toBe('refresh_expired');
  });

  test('RT-07 a revoked grant cannot refresh', async () => {
    const { clientId, refreshToken } = await session();
    expect((await post('/revoke', { token: refreshToken, client_id: clientId })).statusCode).toBe(200);
    expect(audit.named('token.revoked')).toHaveLength(1);
    expect((await refresh(clientId, refreshToken)).json.error).toBe('invalid_grant');
  });

  test('RT-08 a refresh for another resource is invalid_target and the family is unchanged', async () => {
    const { clientId, refreshToken } = await session();
    const grantId = refreshToken.split('.')[0];
    const before = await stores().grants.get(grantId);
    expect((await refresh(clientId, refreshToken, { resource: 'https://other.example/mcp' })).json.error).toBe('invalid_target');
    expect(await stores().grants.get(grantId)).toEqual(before);
  });

  test('RT-09 within the grace window the previous token is accepted once more and supersedes the lost one', async () => {
    const { clientId, refreshToken } = await session();
    const lost = await refresh(clientId, refreshToken);
    clock.advance(5);
    const retry = await refresh(clientId, refreshToken);
    expect(retry.statusCode).toBe(200);
    expect((await refresh(clientId, retry.json.refresh_token)).statusCode).toBe(200);
    expect(audit.named('security.refresh_reuse')).toHaveLength(0);
    // The superseded token surfacing later means two holders of one family: reuse, the family is revoked.
    expect((await refresh(clientId, lost.json.refresh_token)).json.error).toBe('invalid_grant');
    expect(audit.named('security.refresh_reuse')).toHaveLength(1);
  });

  test('REV-06 RT-09 the grace window admits the previous token exactly once: a second presentation is reuse and revokes the family', async () => {
    const { clientId, refreshToken } = await session();
    await refresh(clientId, refreshToken);
    clock.advance(2);
    const retry = await refresh(clientId, refreshToken);
    expect(retry.statusCode).toBe(200);
    // A thief replaying the same superseded token within the window must not end up with the live token.
    for (let i = 0; i < 3; i++) {
      clock.advance(2);
      const replay = await refresh(clientId, refreshToken);
      expect(replay.statusCode).toBe(400);
      expect(replay.json.error).toBe('invalid_grant');
    }
    expect(audit.named('security.refresh_reuse')).toHaveLength(1);
    expect(audit.named('token.refreshed')).toHaveLength(2);
    // The family is revoked: the token the legitimate retry received is dead too.
    expect((await refresh(clientId, retry.json.refresh_token)).json.error).toBe('invalid_grant');
  });

  test('a forged secret for a real family is refused without revoking the family', async () => {
    const { clientId, refreshToken } = await session();
    const forged = `${refreshToken.split('.')[0]}.${'A'.repeat(43)}`;
    expect((await refresh(clientId, forged)).json.error).toBe('invalid_grant');
    expect((await refresh(clientId, refreshToken)).statusCode).toBe(200);
  });
});

describe('client_credentials grant', () => {
  const machine = backend.machine;
  const basic = (name: string, secret = machine.secretOf(name)) => ({ authorization: basicAuth(machine.clientId(name), secret) });

  test('REV-02 an operator-declared machine client gets a token within its ceiling, marked as user-less, without a refresh token', async () => {
    const ok = await post('/token', { grant_type: 'client_credentials' }, basic('batch'));
    expect(ok.statusCode).toBe(200);
    expect(ok.json.refresh_token).toBeUndefined();
    const { payload } = await verifyAccessToken(ok.json.access_token);
    expect(payload).toMatchObject({ sub: 'machine.batch', client_id: 'machine.batch', scope: 'mcp:tools', gty: 'client_credentials', aud: RESOURCE });
    // client_secret_post works too.
    const posted = await post('/token', { grant_type: 'client_credentials', client_id: 'machine.batch', client_secret: machine.secretOf('batch') });
    expect(posted.statusCode).toBe(200);
  });

  test('REV-02 an entitlement-restricted scope reaches a machine token only when the operator listed it for that client', async () => {
    const refused = await post('/token', { grant_type: 'client_credentials', scope: 'mcp:admin' }, basic('batch'));
    expect(refused.json).toMatchObject({ error: 'invalid_scope' });
    const ops = await post('/token', { grant_type: 'client_credentials', scope: 'mcp:admin' }, basic('ops'));
    expect(ops.statusCode).toBe(200);
    expect((await verifyAccessToken(ops.json.access_token)).payload.scope).toBe('mcp:admin');
    expect((await post('/token', { grant_type: 'client_credentials', scope: 'offline_access' }, basic('ops'))).json.error).toBe('invalid_scope');
  });

  test('REV-02 a wrong secret, an undeclared machine id or the public method fail client authentication', async () => {
    expect((await post('/token', { grant_type: 'client_credentials' }, basic('batch', machine.secretOf('ops')))).statusCode).toBe(401);
    expect((await post('/token', { grant_type: 'client_credentials' }, basic('nobody', 'x'.repeat(43)))).statusCode).toBe(401);
    expect((await post('/token', { grant_type: 'client_credentials', client_id: 'machine.batch' })).statusCode).toBe(401);
  });

  test('REV-01 a registered client never obtains a user-less token, whatever its stored metadata says', async () => {
    // A record as an earlier version could have written it: confidential, client_credentials, mcp:admin.
    const { client, secret } = await seedClient(stores(), clock.now, { method: 'client_secret_basic', grantTypes: ['client_credentials'], scope: 'mcp:admin mcp:tools' });
    const refused = await post('/token', { grant_type: 'client_credentials', scope: 'mcp:admin' }, { authorization: basicAuth(client.clientId, secret!) });
    expect(refused.statusCode).toBe(400);
    expect(refused.json.error).toBe('unauthorized_client');
    expect(audit.named('token.rejected')[0].reason).toBe('not_machine_client');
    const { client: publicClient } = await seedClient(stores(), clock.now);
    expect((await post('/token', { grant_type: 'client_credentials', client_id: publicClient.clientId })).json.error).toBe('unauthorized_client');
    expect(audit.named('token.issued')).toHaveLength(0);
  });

  test('REV-02 a machine client may use no other grant', async () => {
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: `${'A'.repeat(43)}.${'B'.repeat(43)}` }, basic('batch'));
    expect(refreshed.json.error).toBe('unauthorized_client');
    const redeemed = await post('/token', { grant_type: 'authorization_code', code: 'c'.repeat(43), code_verifier: 'v'.repeat(43), redirect_uri: REDIRECT }, basic('batch'));
    expect(redeemed.json.error).toBe('unauthorized_client');
  });

  test('REV-02 a Secrets Manager failure is 503 temporarily_unavailable, never a token', async () => {
    const failing = buildTokenHandler({
      config: backend.config('token'), stores: stores(), signer: backend.signer(), jwks: backend.jwks(), clock: clock.fn, sink: audit.sink,
      machineSecret: async () => { throw sdkError('ThrottlingException'); },
    });
    const result = await failing(formEvent('/token', { grant_type: 'client_credentials' }, basic('batch')), lambdaContext);
    expect(result.statusCode).toBe(503);
    expect(audit.named('infra.fault')[0]).toMatchObject({ dependency: 'secretsmanager' });
  });
});

describe('faults', () => {
  test('FAULT-01 DynamoDB throttling is 503 temporarily_unavailable and the code stays redeemable', async () => {
    const { params } = await redeemable();
    dbCalls.fail('PutItemCommand', () => sdkError('ThrottlingException'));
    const failed = await post('/token', params);
    expect(failed.statusCode).toBe(503);
    expect(failed.json.error).toBe('temporarily_unavailable');
    expect(audit.named('infra.fault')[0].reason).toBe('dynamodb:ThrottlingException');
    dbCalls.heal();
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('FAULT-03 a KMS failure is 503, the code is not consumed and nothing is written', async () => {
    const { params } = await redeemable();
    kmsCalls.fail('SignCommand', () => sdkError('KMSInvalidStateException'));
    const failed = await post('/token', params);
    expect(failed.statusCode).toBe(503);
    expect(audit.named('infra.fault')[0]).toMatchObject({ dependency: 'kms' });
    kmsCalls.heal();
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('FAULT-03 a disabled key (real KMS error from the endpoint) is 503', async () => {
    const local = new Backend();
    await local.start();
    const localHandler = buildTokenHandler({ config: local.config('token'), stores: local.stores(), signer: local.signer(), jwks: local.jwks(), clock: clock.fn, sink: audit.sink });
    const { client } = await seedClient(local.stores(), clock.now);
    const { code, verifier } = await seedCode(local.stores(), clock.now, client.clientId);
    local.kms.disableKey(local.keyArn);
    const result = await localHandler(formEvent('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId }), lambdaContext);
    expect(result.statusCode).toBe(503);
    await local.stop();
  });

  test('FAULT-07 the same request delivered twice: one 200, one invalid_grant, one family', async () => {
    const { params } = await redeemable();
    const first = await post('/token', params);
    const second = await post('/token', params);
    expect([first.statusCode, second.statusCode]).toEqual([200, 400]);
  });
});

describe('response hygiene and bad input', () => {
  test('META-03 errors carry no-store, JSON and no echoed input', async () => {
    const response = await post('/token', { grant_type: 'authorization_code', code: '<script>alert(1)</script>', client_id: 'x' });
    expect(response.headers?.['Cache-Control']).toBe('no-store');
    expect(response.headers?.['Content-Type']).toBe('application/json');
    expect(response.body).not.toContain('<script>');
    expect(response.json.error).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
  });

  test('ROB-01 anything but a UTF-8 form body is invalid_request, never 500', async () => {
    for (const contentType of ['application/json', 'multipart/form-data', 'application/x-www-form-urlencoded; charset=ISO-8859-1', '']) {
      const event = formEvent('/token', { grant_type: 'client_credentials' }, { 'content-type': contentType });
      const response = await handler(event, lambdaContext);
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error).toBe('invalid_request');
    }
  });

  test('ROB-02 form parser quirks are deterministic 400 invalid_request', async () => {
    for (const body of ['scope[]=a&grant_type=x', 'scope[x]=y', 'code%5B0%5D=abc', 'code=%zz', 'code=a%00b', '\ufeffgrant_type=x', Array.from({ length: 1000 }, (_, i) => `k${i}=v`).join('&'), 'grant_type=a&grant_type=b']) {
      const event = formEvent('/token', {});
      event.body = body;
      const response = await handler(event, lambdaContext);
      expect(response.statusCode).toBe(400);
      expect(JSON.parse(response.body).error).toBe('invalid_request');
    }
  });

  test('ROB-04 an oversized body is 413', async () => {
    const event = formEvent('/token', { code: 'x'.repeat(500_000) });
    expect((await handler(event, lambdaContext)).statusCode).toBe(413);
  });

  test('META-04 GET /token is 405 with JSON', async () => {
    const event = formEvent('/token', {});
    event.httpMethod = 'GET';
    const response = await handler(event, lambdaContext);
    expect(response.statusCode).toBe(405);
    expect(JSON.parse(response.body).error).toBe('invalid_request');
  });
});

describe('Client ID Metadata Document clients at the token endpoint', () => {
  const CIMD_ID = 'https://app.example.com/oauth/client.json';

  test('AS-2 a URL-shaped client id redeems its code as a public client, with no outbound fetch', async () => {
    const { code, verifier } = await seedCode(stores(), clock.now, CIMD_ID);
    const response = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: CIMD_ID });
    expect(response.statusCode).toBe(200);
    expect(response.json.refresh_token).toBeDefined();
    const { payload } = await verifyAccessToken(response.json.access_token);
    expect(payload.client_id).toBe(CIMD_ID);
    const refreshed = await post('/token', { grant_type: 'refresh_token', refresh_token: response.json.refresh_token, client_id: CIMD_ID });
    expect(refreshed.statusCode).toBe(200);
  });

  test('REV-12 a metadata document without the refresh_token grant gets no refresh token, and may not refresh', async () => {
    const { code, verifier } = await seedCode(stores(), clock.now, CIMD_ID, { clientGrantTypes: ['authorization_code'] });
    const response = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: CIMD_ID });
    expect(response.statusCode).toBe(200);
    expect(response.json.refresh_token).toBeUndefined();
    const listed = await seedCode(stores(), clock.now, CIMD_ID, { clientGrantTypes: ['authorization_code', 'refresh_token'] });
    const withRefresh = await post('/token', { grant_type: 'authorization_code', code: listed.code, code_verifier: listed.verifier, redirect_uri: REDIRECT, client_id: CIMD_ID });
    expect(withRefresh.json.refresh_token).toBeDefined();
  });

  test('SSRF-06 with CIMD disabled a URL-shaped client id is an unknown client', async () => {
    const disabled = buildTokenHandler({ config: backend.config('token', { CIMD_ENABLED: 'false' }), stores: stores(), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
    const { code, verifier } = await seedCode(stores(), clock.now, CIMD_ID);
    const response = await disabled(formEvent('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: CIMD_ID }), lambdaContext);
    expect(response.statusCode).toBe(401);
  });

  test('a URL-shaped client id sending a secret is refused (CIMD clients are public)', async () => {
    const { code, verifier } = await seedCode(stores(), clock.now, CIMD_ID);
    const response = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: CIMD_ID, client_secret: 'x' });
    expect(response.statusCode).toBe(401);
  });
});

describe('introspection (RFC 7662)', () => {
  async function confidential() {
    const { client, secret } = await seedClient(stores(), clock.now, { method: 'client_secret_basic' });
    return { authorization: basicAuth(client.clientId, secret!) };
  }

  const resourceServer = () => ({ authorization: basicAuth(backend.machine.clientId('gateway'), backend.machine.secretOf('gateway')) });

  test('REV-04 a resource server the operator designated learns an access token is active, with its claims', async () => {
    const { params } = await redeemable();
    const issued = await post('/token', params);
    const response = await post('/introspect', { token: issued.json.access_token }, resourceServer());
    expect(response.statusCode).toBe(200);
    expect(response.headers?.['Cache-Control']).toBe('no-store');
    expect(response.json).toMatchObject({ active: true, client_id: params.client_id, sub: 'user-alice', scope: 'mcp:tools', aud: RESOURCE, iss: ISSUER });
  });

  test('REV-04 an access token is active for the client it was issued to, and inactive (no oracle) for any other client', async () => {
    const { client, secret } = await seedClient(stores(), clock.now, { method: 'client_secret_post' });
    const { code, verifier } = await seedCode(stores(), clock.now, client.clientId);
    const own = { client_id: client.clientId, client_secret: secret! };
    const issued = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, ...own });
    expect((await post('/introspect', { token: issued.json.access_token, ...own })).json).toMatchObject({ active: true, client_id: client.clientId });
    expect((await post('/introspect', { token: issued.json.access_token }, await confidential())).json).toEqual({ active: false });
    // A machine client without the operator's introspection designation is just another client.
    const batch = { authorization: basicAuth(backend.machine.clientId('batch'), backend.machine.secretOf('batch')) };
    expect((await post('/introspect', { token: issued.json.access_token }, batch)).json).toEqual({ active: false });
  });

  test('refresh tokens are active for their own client only, and inactive once rotated or revoked', async () => {
    const { client, secret } = await seedClient(stores(), clock.now, { method: 'client_secret_post' });
    const { code, verifier } = await seedCode(stores(), clock.now, client.clientId);
    const own = { client_id: client.clientId, client_secret: secret! };
    const issued = await post('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, ...own });
    expect((await post('/introspect', { token: issued.json.refresh_token, ...own })).json).toMatchObject({ active: true, token_type: 'refresh_token' });
    expect((await post('/introspect', { token: issued.json.refresh_token }, await confidential())).json).toEqual({ active: false });
    await post('/token', { grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, ...own });
    expect((await post('/introspect', { token: issued.json.refresh_token, ...own })).json).toEqual({ active: false });
  });

  test('unknown, expired, forged and other-audience tokens are simply inactive', async () => {
    const { params } = await redeemable();
    const issued = await post('/token', params);
    const auth = resourceServer();
    const forged = await backend.signer().sign({ iss: ISSUER, aud: 'https://other.example/mcp', sub: 'x', client_id: 'x', jti: 'x', scope: '', iat: clock.now, exp: clock.now + 600 }, 'at+jwt');
    for (const token of ['garbage', forged, `${issued.json.access_token.slice(0, -2)}AA`]) {
      expect((await post('/introspect', { token }, auth)).json).toEqual({ active: false });
    }
    clock.advance(601);
    expect((await post('/introspect', { token: issued.json.access_token }, auth)).json).toEqual({ active: false });
  });

  test('public clients and unauthenticated callers may not introspect', async () => {
    const { params } = await redeemable();
    const issued = await post('/token', params);
    expect((await post('/introspect', { token: issued.json.access_token, client_id: params.client_id })).statusCode).toBe(401);
    expect((await post('/introspect', { token: issued.json.access_token })).statusCode).toBe(401);
  });
});
