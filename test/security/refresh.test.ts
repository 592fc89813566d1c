import { buildRegisterHandler } from '../../lambda/register/handler';
import { buildTokenHandler } from '../../lambda/token/handler';
import { REDIRECT, seedCode } from '../support/token-fixtures';
import { AuditCapture, Backend, formEvent, lambdaContext, proxyEvent, TestClock } from '../support/harness';

/** Refresh tokens after their client is gone (catalogue F; RT-07 beyond revocation, which test/token/token.test.ts covers). */

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
beforeAll(() => backend.start());
afterAll(() => backend.stop());

test('RT-07 a client deleted through RFC 7592 can no longer refresh: 401 invalid_client, nothing rotated', async () => {
  const common = { stores: backend.stores(), clock: clock.fn, sink: audit.sink };
  const register = buildRegisterHandler({ ...common, config: backend.config('register') });
  const token = buildTokenHandler({ ...common, config: backend.config('token'), signer: backend.signer(), jwks: backend.jwks() });
  const created = JSON.parse(
    (await register(proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }) }), lambdaContext)).body,
  );
  const { code, verifier } = await seedCode(backend.stores(), clock.now, created.client_id);
  const issued = JSON.parse((await token(formEvent('/token', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: created.client_id }), lambdaContext)).body);
  const grantId = issued.refresh_token.split('.')[0];
  const before = await backend.stores().grants.get(grantId);

  const deleted = await register(
    proxyEvent({ method: 'DELETE', path: `/register/${created.client_id}`, resource: '/register/{client_id}', pathParameters: { client_id: created.client_id }, headers: { authorization: `Bearer ${created.registration_access_token}` } }),
    lambdaContext,
  );
  expect(deleted.statusCode).toBe(204);
  const refreshed = await token(formEvent('/token', { grant_type: 'refresh_token', refresh_token: issued.refresh_token, client_id: created.client_id }), lambdaContext);
  expect([refreshed.statusCode, JSON.parse(refreshed.body).error]).toEqual([401, 'invalid_client']);
  expect(audit.named('token.rejected').pop()?.reason).toBe('unknown_client');
  expect(await backend.stores().grants.get(grantId)).toEqual(before);
});
