import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { DEFAULT_SCOPE_MODEL } from '../../lib/scopes';
import { loadAuthorizerRoutes } from '../../lambda/authorizer/config';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS as CLOCK_TOLERANCE_SECONDS } from '../../lib/authorizer-gateway';
import { createAuthorizerHandler, UNAUTHORIZED } from '../../lambda/authorizer/handler';
import { keysFromJwks, pinKeys, type VerificationKeys } from '../../lambda/shared/verification-keys';
import { withMcpGuard } from '../../lambda/runtime/middleware';
import { CODE_RETRY_WINDOW_SECONDS } from '../../lambda/token/grants/authorization-code';
import { buildTokenHandler } from '../../lambda/token/handler';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';
import { AuditCapture, Backend, formEvent, ISSUER, lambdaContext, proxyEvent, TestClock } from '../support/harness';

/**
 * JWT-18: revocation latency. Access tokens are self-contained JWTs checked at the edge without a call
 * to the authorization server, and are not denylisted when their grant is revoked (a code replay,
 * refresh-token reuse, an RFC 7009 revocation): they stop working when they expire, so the bound is the
 * access-token lifetime plus the clock tolerance, whatever the authorizer cache TTL (docs/SECURITY.md).
 */

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
let token: ReturnType<typeof buildTokenHandler>;
let keys: VerificationKeys;
let lifetime: number;

beforeAll(async () => {
  await backend.start();
  const config = backend.config('token');
  lifetime = config.lifetimes.accessToken;
  token = buildTokenHandler({ config, stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), clock: clock.fn, sink: audit.sink });
  keys = pinKeys('RS256', keysFromJwks(await backend.jwks().jwks(), 'RS256'));
});
afterAll(() => backend.stop());

async function post(params: Record<string, string>) {
  const result = await token(formEvent('/token', params), lambdaContext);
  return { status: result.statusCode, json: JSON.parse(result.body) };
}

/** The authorizer as deployed (no per-request AWS call), at time `at`. */
async function edge(accessToken: string, at: number, cacheTtl?: number): Promise<APIGatewayAuthorizerResult | 'Unauthorized'> {
  const env: Record<string, string> = { ISSUER, ...(cacheTtl ? { AUTHORIZER_CACHE_TTL_SECONDS: String(cacheTtl) } : {}) };
  const authorizer = createAuthorizerHandler({ config: loadAuthorizerRoutes(env), keys: () => keys, clock: () => at, auditSink: () => undefined });
  const headers = { Authorization: `Bearer ${accessToken}` };
  try {
    return await authorizer({ type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:1:api/prod/POST/mcp', resource: '/mcp', headers, multiValueHeaders: { Authorization: [headers.Authorization] }, requestContext: { requestId: 'r' } } as never);
  } catch (error) {
    expect((error as Error).message).toBe(UNAUTHORIZED);
    return 'Unauthorized';
  }
}

async function revokedByCodeReplay() {
  const { client } = await seedClient(backend.stores(), clock.now);
  const { code, verifier } = await seedCode(backend.stores(), clock.now, client.clientId);
  const params = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId };
  const issued = await post(params);
  clock.advance(CODE_RETRY_WINDOW_SECONDS);
  expect((await post(params)).json.error).toBe('invalid_grant'); // CODE-01: the grant is revoked
  expect((await post({ grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: client.clientId })).json.error).toBe('invalid_grant');
  return issued.json.access_token as string;
}

async function revokedByRefreshReuse() {
  const { client } = await seedClient(backend.stores(), clock.now);
  const { code, verifier } = await seedCode(backend.stores(), clock.now, client.clientId);
  const issued = await post({ grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId });
  const rotated = await post({ grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: client.clientId });
  clock.advance(31);
  expect((await post({ grant_type: 'refresh_token', refresh_token: issued.json.refresh_token, client_id: client.clientId })).json.error).toBe('invalid_grant'); // RT-02
  return { accessToken: rotated.json.access_token as string, issuedAt: clock.now - 31 };
}

test('JWT-18 CODE-01 an access token of a grant revoked by code replay works until it expires, and is refused from exp + tolerance on', async () => {
  const issuedAt = clock.now;
  const accessToken = await revokedByCodeReplay();
  // Documented: no denylist. The bound is the lifetime plus the tolerance, not the revocation time.
  expect(await edge(accessToken, issuedAt + 1)).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow' }] } });
  expect(await edge(accessToken, issuedAt + lifetime + CLOCK_TOLERANCE_SECONDS - 1)).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow' }] } });
  expect(await edge(accessToken, issuedAt + lifetime + CLOCK_TOLERANCE_SECONDS)).toBe('Unauthorized');
});

test('JWT-18 RT-02 after refresh-token reuse revokes the family, its newest access token is refused from exp + tolerance on', async () => {
  const { accessToken, issuedAt } = await revokedByRefreshReuse();
  expect(await edge(accessToken, issuedAt + lifetime + CLOCK_TOLERANCE_SECONDS - 1)).not.toBe('Unauthorized');
  expect(await edge(accessToken, issuedAt + lifetime + CLOCK_TOLERANCE_SECONDS)).toBe('Unauthorized');
});

test('JWT-18 with authorizer caching on, a cached Allow cannot outlive the token: the runtime guard refuses it from exp + tolerance on', async () => {
  const issuedAt = clock.now;
  const accessToken = await revokedByCodeReplay();
  const cached = await edge(accessToken, issuedAt + 1, 300);
  expect(cached).not.toBe('Unauthorized');
  const context = (cached as APIGatewayAuthorizerResult).context!;
  // API Gateway replays this cached context for up to the TTL; the guard reads the token's exp from it.
  const serve = (at: number) =>
    withMcpGuard(async () => ({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"result":{}}' }), {
      resourceMetadataUrl: `${ISSUER}/.well-known/oauth-protected-resource/mcp`,
      scopeModel: DEFAULT_SCOPE_MODEL,
      clock: () => at,
    });
  const event = () => {
    const built = proxyEvent({ method: 'POST', path: '/mcp', headers: { 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' });
    built.requestContext.authorizer = context as never;
    return built;
  };
  expect((await serve(issuedAt + lifetime + CLOCK_TOLERANCE_SECONDS - 1)(event(), lambdaContext)).statusCode).toBe(200);
  const refused = await serve(issuedAt + lifetime + CLOCK_TOLERANCE_SECONDS)(event(), lambdaContext);
  expect(refused.statusCode).toBe(401);
  expect((refused.headers as Record<string, string> | undefined)?.['WWW-Authenticate']).toMatch(/^Bearer error="invalid_token"/);
});
