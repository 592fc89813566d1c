import { DEFAULT_SCOPE_MODEL, type ScopeModel } from '../../lib/scopes';
import { AuthorizeFixture, authorizationParams, errorResponse, header, UserAgent } from '../support/authorize-fixture';
import { ISSUER, RESOURCE } from '../support/harness';
import { databaseImage } from '../support/security-probes';

/**
 * RFC 8707 resource indicators at /authorize when one authorization server serves two MCP servers
 * (docs/SECURITY.md, section 2.10): the request must name one, and is read with that one's scopes.
 */

const TOOLS = `${ISSUER}/tools/mcp`;
const TOOLS_MODEL: ScopeModel = { scopes: [{ name: 'tools:use', description: 'Use the tools server', isDefault: true }], toolScopes: {}, entitlements: [] };
const servers = (defaultPath?: string) =>
  JSON.stringify({
    servers: [
      { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 },
      { path: '/tools/mcp', scopeModel: TOOLS_MODEL, authorizerCacheTtlSeconds: 0 },
    ],
    ...(defaultPath ? { defaultPath } : {}),
    challenges: 'authorizer',
  });

const fixture = new AuthorizeFixture();
beforeAll(() => fixture.start({ PROTECTED_RESOURCES: servers() }), 60_000);
afterAll(() => fixture.stop());
beforeEach(() => fixture.audit.clear());

/** The error an authorization request gets (through the interstitial, REV-03); nothing may be written. */
async function refusal(params: Record<string, string | undefined>) {
  const client = await fixture.register();
  const before = await databaseImage(fixture.backend);
  const result = await new UserAgent(fixture).authorize(authorizationParams(client.clientId, client.redirectUri, params).query);
  expect(await databaseImage(fixture.backend)).toBe(before);
  return errorResponse(result, client.redirectUri).get('error');
}

describe('MRS-06 MRS-05 MRS-09 /authorize with two MCP servers', () => {
  test('MRS-06 without resource, and with no default server, the request is invalid_target (resource_required), never a guess', async () => {
    expect(await refusal({ resource: undefined })).toBe('invalid_target');
    expect(fixture.audit.named('authorize.rejected').map((event) => event.reason)).toEqual(['resource_required']);
  });

  test('MRS-09 a scope of the other server is unknown here: invalid_scope', async () => {
    expect(await refusal({ resource: TOOLS, scope: 'mcp:tools' })).toBe('invalid_scope');
    expect(await refusal({ resource: RESOURCE, scope: 'tools:use' })).toBe('invalid_scope');
  });

  test('MRS-01 each named server gets a consent page naming it, with its own scopes', async () => {
    for (const [resource, scope] of [[RESOURCE, 'mcp:tools'], [TOOLS, 'tools:use']]) {
      const client = await fixture.register();
      const agent = new UserAgent(fixture);
      const started = await agent.authorize(authorizationParams(client.clientId, client.redirectUri, { resource, scope: undefined }).query);
      const page = await agent.get(header(started, 'location')!);
      expect(page.statusCode).toBe(200);
      expect(page.body).toContain(`<code>${resource}</code>`);
      expect(page.body).toContain(`<code>${scope}</code>`);
    }
  });
});
