import * as jose from 'jose';
import { DEFAULT_SCOPE_MODEL, type ScopeModel } from '../../lib/scopes';
import { buildMetadataHandler } from '../../lambda/metadata/handler';
import { buildRegisterHandler } from '../../lambda/register/handler';
import { buildTokenHandler } from '../../lambda/token/handler';
import { AuditCapture, Backend, basicAuth, formEvent, ISSUER, lambdaContext, proxyEvent, RESOURCE, TestClock } from '../support/harness';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';

/**
 * The token endpoint of one authorization server in front of two MCP servers (docs/SECURITY.md,
 * section 2.10): every code, refresh token and machine token is bound to one resource.
 */

const TOOLS = `${ISSUER}/tools/mcp`;
const TOOLS_MODEL: ScopeModel = {
  scopes: [{ name: 'tools:use', description: 'Use', isDefault: true }, { name: 'mcp:tools', description: 'The same name, another server' }],
  toolScopes: {},
  entitlements: [],
};
const SERVERS = [
  { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 },
  { path: '/tools/mcp', scopeModel: TOOLS_MODEL, authorizerCacheTtlSeconds: 0 },
];
const FLEET = { PROTECTED_RESOURCES: JSON.stringify({ servers: SERVERS, challenges: 'authorizer' }) };

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
let handler: ReturnType<typeof buildTokenHandler>;

beforeAll(async () => {
  await backend.start();
  handler = tokenHandler(FLEET);
});
afterAll(() => backend.stop());
beforeEach(() => audit.clear());

function tokenHandler(env: Record<string, string>) {
  return buildTokenHandler({ config: backend.config('token', env), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
}

async function post(path: string, params: Record<string, string>, headers: Record<string, string> = {}, using = handler) {
  const result = await using(formEvent(path, params, headers), lambdaContext);
  return { status: result.statusCode, json: result.body ? JSON.parse(result.body) : undefined };
}

const audience = (token: string) => jose.decodeJwt(token).aud;

/** A user's code for `resource` and its redemption parameters (the authorize flow's result, written directly). */
async function codeFor(clientId: string, resource: string, scope: string) {
  const { code, verifier } = await seedCode(backend.stores(), clock.now, clientId, { resource, scope });
  return { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: clientId };
}

describe('MRS-02 MRS-04 MRS-11 MRS-12 codes and refresh tokens stay with their resource', () => {
  test('MRS-12 MRS-02 one registration serves both servers; each code yields a token for its own resource only', async () => {
    const { client } = await seedClient(backend.stores(), clock.now);
    const forMcp = await post('/token', await codeFor(client.clientId, RESOURCE, 'mcp:tools offline_access'));
    const forTools = await post('/token', await codeFor(client.clientId, TOOLS, 'tools:use offline_access'));
    expect([forMcp.status, forTools.status]).toEqual([200, 200]);
    expect(audience(forMcp.json.access_token)).toBe(RESOURCE);
    expect(audience(forTools.json.access_token)).toBe(TOOLS);

    // A code for /mcp, redeemed naming /tools/mcp: invalid_target, no token.
    const crossed = await post('/token', { ...(await codeFor(client.clientId, RESOURCE, 'mcp:tools')), resource: TOOLS });
    expect([crossed.status, crossed.json.error]).toEqual([400, 'invalid_target']);
    expect(audit.named('token.issued')).toHaveLength(2);
  });

  test('MRS-04 a refresh token of the /mcp grant never mints for /tools/mcp, and the refused attempt does not rotate it', async () => {
    const { client } = await seedClient(backend.stores(), clock.now);
    const issued = await post('/token', await codeFor(client.clientId, RESOURCE, 'mcp:tools offline_access'));
    const refreshToken = issued.json.refresh_token as string;
    const crossed = await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId, resource: TOOLS });
    expect([crossed.status, crossed.json.error]).toEqual([400, 'invalid_target']);
    const own = await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: client.clientId });
    expect(own.status).toBe(200);
    expect(audience(own.json.access_token)).toBe(RESOURCE);
    expect(audit.named('token.refreshed')).toHaveLength(1);
    expect(audit.named('token.refresh_reuse')).toHaveLength(0);
  });

  test('MRS-11 revoking the /tools/mcp grant leaves the same user\'s and client\'s /mcp grant working', async () => {
    const { client } = await seedClient(backend.stores(), clock.now);
    const mcp = await post('/token', await codeFor(client.clientId, RESOURCE, 'mcp:tools offline_access'));
    const tools = await post('/token', await codeFor(client.clientId, TOOLS, 'tools:use offline_access'));
    expect((await post('/revoke', { token: tools.json.refresh_token, client_id: client.clientId })).status).toBe(200);
    const revoked = await post('/token', { grant_type: 'refresh_token', refresh_token: tools.json.refresh_token, client_id: client.clientId });
    expect(revoked.json.error).toBe('invalid_grant');
    const kept = await post('/token', { grant_type: 'refresh_token', refresh_token: mcp.json.refresh_token, client_id: client.clientId });
    expect(kept.status).toBe(200);
    expect(audience(kept.json.access_token)).toBe(RESOURCE);
  });
});

describe('MRS-06 MRS-09 client_credentials names its server', () => {
  const batch = () => ({ authorization: basicAuth(backend.machine.clientId('batch'), backend.machine.secretOf('batch')) });

  test('MRS-06 with two servers and no default, a machine token without resource is invalid_target; with a default it is that server\'s', async () => {
    const unnamed = await post('/token', { grant_type: 'client_credentials' }, batch());
    expect([unnamed.status, unnamed.json.error]).toEqual([400, 'invalid_target']);
    expect(audit.named('token.rejected').at(-1)).toMatchObject({ reason: 'resource_required' });
    const withDefault = tokenHandler({ PROTECTED_RESOURCES: JSON.stringify({ servers: SERVERS, defaultPath: '/tools/mcp', challenges: 'authorizer' }) });
    const issued = await post('/token', { grant_type: 'client_credentials' }, batch(), withDefault);
    expect(issued.status).toBe(200);
    expect(audience(issued.json.access_token)).toBe(TOOLS);
  });

  test('MRS-09 the ceiling applies per server: `mcp:tools` is two permissions, and a scope the server does not declare is invalid_scope', async () => {
    // batch's ceiling is mcp:tools: /tools/mcp declares a scope of that name too, a different permission there.
    const forMcp = await post('/token', { grant_type: 'client_credentials', resource: RESOURCE }, batch());
    const forTools = await post('/token', { grant_type: 'client_credentials', resource: TOOLS }, batch());
    expect([forMcp.json.scope, audience(forMcp.json.access_token)]).toEqual(['mcp:tools', RESOURCE]);
    expect([forTools.json.scope, audience(forTools.json.access_token)]).toEqual(['mcp:tools', TOOLS]);
    // ops may hold mcp:admin and mcp:tools; /tools/mcp declares no mcp:admin, so there it gets mcp:tools only.
    const ops = { authorization: basicAuth(backend.machine.clientId('ops'), backend.machine.secretOf('ops')) };
    const refused = await post('/token', { grant_type: 'client_credentials', resource: TOOLS, scope: 'mcp:admin' }, ops);
    expect([refused.status, refused.json.error]).toEqual([400, 'invalid_scope']);
    expect((await post('/token', { grant_type: 'client_credentials', resource: TOOLS }, ops)).json.scope).toBe('mcp:tools');
    const unknown = await post('/token', { grant_type: 'client_credentials', resource: `${ISSUER}/other/mcp` }, batch());
    expect([unknown.status, unknown.json.error]).toEqual([400, 'invalid_target']);
  });

  test('MRS-09 a machine client bound to one server gets tokens for it, and invalid_target for any other', async () => {
    const searchJob = { authorization: basicAuth(backend.machine.clientId('search-job'), backend.machine.secretOf('search-job')) };
    expect((await post('/token', { grant_type: 'client_credentials', resource: RESOURCE }, searchJob)).status).toBe(200);
    const other = await post('/token', { grant_type: 'client_credentials', resource: TOOLS }, searchJob);
    expect([other.status, other.json.error]).toEqual([400, 'invalid_target']);
    expect(audit.named('token.rejected').at(-1)).toMatchObject({ reason: 'resource_not_allowed' });
  });

  test('MRS-03 introspection reads each token against its own audience', async () => {
    const gateway = { authorization: basicAuth(backend.machine.clientId('gateway'), backend.machine.secretOf('gateway')) };
    const forTools = await post('/token', { grant_type: 'client_credentials', resource: TOOLS }, batch());
    const introspected = await post('/introspect', { token: forTools.json.access_token }, gateway);
    expect(introspected.json).toMatchObject({ active: true, aud: TOOLS });
  });
});

describe('MRS-01 metadata and registration of one authorization server for two servers', () => {
  test('MRS-01 each server has its own protected resource metadata; the AS metadata lists both; the bare well-known URL needs a default', async () => {
    const metadata = buildMetadataHandler({ config: backend.config('metadata', FLEET), jwks: backend.jwks(), clock: clock.fn, sink: audit.sink });
    const get = async (path: string) => {
      const result = await metadata(proxyEvent({ method: 'GET', path }), lambdaContext);
      return { status: result.statusCode, json: JSON.parse(result.body) };
    };
    expect((await get('/.well-known/oauth-protected-resource/mcp')).json).toMatchObject({ resource: RESOURCE, authorization_servers: [ISSUER], scopes_supported: ['mcp:tools'] });
    expect((await get('/.well-known/oauth-protected-resource/tools/mcp')).json).toMatchObject({ resource: TOOLS, authorization_servers: [ISSUER], scopes_supported: ['tools:use'] });
    expect((await get('/.well-known/oauth-protected-resource')).status).toBe(404);
    const asMetadata = (await get('/.well-known/oauth-authorization-server')).json;
    expect(asMetadata.protected_resources).toEqual([RESOURCE, TOOLS]);
    expect(asMetadata.scopes_supported).toEqual(expect.arrayContaining(['mcp:tools', 'mcp:admin', 'tools:use', 'offline_access']));

    const withDefault = buildMetadataHandler({ config: backend.config('metadata', { PROTECTED_RESOURCES: JSON.stringify({ servers: SERVERS, defaultPath: '/tools/mcp', challenges: 'authorizer' }) }), jwks: backend.jwks(), clock: clock.fn, sink: audit.sink });
    const bare = await withDefault(proxyEvent({ method: 'GET', path: '/.well-known/oauth-protected-resource' }), lambdaContext);
    expect(JSON.parse(bare.body).resource).toBe(TOOLS);
  });

  test('MRS-12 a registration may name any server\'s scopes; a scope no server declares is refused', async () => {
    const register = buildRegisterHandler({ config: backend.config('register', FLEET), stores: backend.stores(), clock: clock.fn, sink: audit.sink });
    const body = (scope: string) => JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none', scope });
    const accepted = await register(proxyEvent({ method: 'POST', path: '/register', headers: { 'Content-Type': 'application/json' }, body: body('mcp:tools tools:use') }), lambdaContext);
    expect(accepted.statusCode).toBe(201);
    const refused = await register(proxyEvent({ method: 'POST', path: '/register', headers: { 'Content-Type': 'application/json' }, body: body('billing:read') }), lambdaContext);
    expect([refused.statusCode, JSON.parse(refused.body).error]).toEqual([400, 'invalid_client_metadata']);
  });
});
