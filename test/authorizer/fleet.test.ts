import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { DEFAULT_SCOPE_MODEL, type ScopeModel } from '../../lib/scopes';
import { loadAuthorizerRoutes } from '../../lambda/authorizer/config';
import { compressProtectedResources } from '../../lib/protected-resources';
import { createAuthorizerHandler, UNAUTHORIZED } from '../../lambda/authorizer/handler';
import { perServerGatewayResponses, renderGatewayResponse } from '../../lib/authorizer-gateway';
import { authorizerEvent, captureAudit, ISSUER, mint, NOW, RESOURCE, testKey, verificationKeys, type EventOptions } from '../support/tokens';

/**
 * One authorizer function in front of several MCP servers (docs/SECURITY.md, section 2.10): the route
 * picks the server, and with it the one audience and the scope model its tokens are read with.
 */

const rsa = testKey('RS256');
const keys = verificationKeys('RS256', rsa);
const TOOLS = `${ISSUER}/tools/mcp`;
const TOOLS_PRM = `${ISSUER}/.well-known/oauth-protected-resource/tools/mcp`;
const MCP_PRM = `${ISSUER}/.well-known/oauth-protected-resource/mcp`;
const TOOLS_MODEL: ScopeModel = {
  scopes: [{ name: 'tools:read', description: 'Read', isDefault: true }, { name: 'mcp:admin', description: 'Another server\'s admin' }],
  toolScopes: { purge: ['mcp:admin'] },
  entitlements: [],
};

function fleet(challenges: 'gateway' | 'authorizer' = 'authorizer') {
  const servers = [{ path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 }];
  if (challenges === 'authorizer') servers.push({ path: '/tools/mcp', scopeModel: TOOLS_MODEL, authorizerCacheTtlSeconds: 0 });
  const routes = loadAuthorizerRoutes({ ISSUER, PROTECTED_RESOURCES: JSON.stringify({ servers, challenges }) });
  const audit = captureAudit();
  const handler = createAuthorizerHandler({ config: routes, keys: () => keys, clock: () => NOW, auditSink: audit.sink });
  return { handler, audit, routes };
}

const denials = (audit: ReturnType<typeof captureAudit>) => audit.events().filter((event) => event.event === 'rs.denied');

const at = (path: string, options: EventOptions = {}) => ({ ...authorizerEvent({ ...options, methodArn: `arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST${path}` }), resource: path, path });

async function decideFor(handler: ReturnType<typeof fleet>['handler'], event: ReturnType<typeof at>): Promise<APIGatewayAuthorizerResult | 'Unauthorized'> {
  try {
    return await handler(event);
  } catch (error) {
    expect((error as Error).message).toBe(UNAUTHORIZED);
    return 'Unauthorized';
  }
}

/** What the client sees: the Deny rendered through the per-server ACCESS_DENIED response. */
function rendered(result: APIGatewayAuthorizerResult | 'Unauthorized') {
  const [unauthorized, accessDenied] = perServerGatewayResponses();
  if (result === 'Unauthorized') return renderGatewayResponse(unauthorized);
  expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
  return renderGatewayResponse(accessDenied, result.context as Record<string, string>);
}

describe('MRS-03 MRS-07 one authorizer, several MCP servers', () => {
  test('MRS-03 each route accepts only its own audience: a token for /mcp is refused at /tools/mcp with 401 invalid_token naming /tools/mcp', async () => {
    const { handler, audit } = fleet();
    const forMcp = mint(rsa);
    const allowed = await decideFor(handler, at('/mcp', { authorization: `Bearer ${forMcp}` }));
    expect(allowed).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow' }] }, context: { aud: RESOURCE } });

    const refused = rendered(await decideFor(handler, at('/tools/mcp', { authorization: `Bearer ${forMcp}` })));
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['WWW-Authenticate']).toBe(`Bearer error="invalid_token", resource_metadata="${TOOLS_PRM}", scope="tools:read"`);
    expect(JSON.parse(refused.body)).toMatchObject({ error: 'invalid_token' });
    expect(denials(audit).at(-1)).toMatchObject({ reason: 'aud', token_presented: true });

    const forTools = mint(rsa, { claims: { aud: TOOLS, scope: 'tools:read' } });
    expect(await decideFor(handler, at('/tools/mcp', { authorization: `Bearer ${forTools}` }))).toMatchObject({ context: { aud: TOOLS } });
    expect(rendered(await decideFor(handler, at('/mcp', { authorization: `Bearer ${forTools}` }))).statusCode).toBe(401);
  });

  test('MRS-07 a request without a token gets 401 with its own server\'s metadata URL and default scopes, and no error code', async () => {
    const { handler } = fleet();
    for (const [path, prm, scope] of [['/mcp', MCP_PRM, 'mcp:tools'], ['/tools/mcp', TOOLS_PRM, 'tools:read']]) {
      const response = rendered(await decideFor(handler, at(path)));
      expect(response.statusCode).toBe(401);
      expect(response.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${prm}", scope="${scope}"`);
      expect(JSON.parse(response.body)).toEqual({ error: 'unauthorized', error_description: 'A valid bearer access token for this MCP server is required.' });
    }
  });

  test('MRS-07 MRS-09 a token of the right audience lacking a scope passes on to the guard (which answers 403), audited as a scope denial', async () => {
    const { handler, audit } = fleet();
    // `mcp:admin` is declared by both servers; held for /mcp it says nothing about /tools/mcp.
    const adminOfMcp = mint(rsa, { claims: { scope: 'mcp:admin' } });
    expect(await decideFor(handler, at('/tools/mcp', { authorization: `Bearer ${adminOfMcp}` }))).not.toBe('Unauthorized');
    expect(rendered(await decideFor(handler, at('/tools/mcp', { authorization: `Bearer ${adminOfMcp}` }))).statusCode).toBe(401);

    const noDefault = mint(rsa, { claims: { aud: TOOLS, scope: 'mcp:admin' } });
    const result = await decideFor(handler, at('/tools/mcp', { authorization: `Bearer ${noDefault}` }));
    // The Allow names what is missing, so the guard refuses even if its own model were missing or wrong.
    expect(result).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow' }] }, context: { aud: TOOLS, scope: 'mcp:admin', scope_denied: 'tools:read' } });
    expect(denials(audit).at(-1)).toMatchObject({ reason: 'scope', scope_required: ['tools:read'], enforced_by: 'guard' });
  });

  test('JWT-21 a cached server\'s Allow covers every method of its own path and no other path; an uncached one exactly the method', async () => {
    const servers = [
      { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 },
      { path: '/tools/mcp', scopeModel: TOOLS_MODEL, authorizerCacheTtlSeconds: 60 },
    ];
    const routes = loadAuthorizerRoutes({ ISSUER, PROTECTED_RESOURCES: JSON.stringify({ servers, challenges: 'authorizer' }) });
    const handler = createAuthorizerHandler({ config: routes, keys: () => keys, clock: () => NOW, auditSink: () => undefined });
    const cached = await decideFor(handler, at('/tools/mcp', { authorization: `Bearer ${mint(rsa, { claims: { aud: TOOLS, scope: 'tools:read' } })}` }));
    expect(cached).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/*/tools/mcp' }] } });
    const uncached = await decideFor(handler, at('/mcp', { authorization: `Bearer ${mint(rsa)}` }));
    expect(uncached).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Allow', Resource: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/mcp' }] } });
  });

  test('MRS-13 a route no server claims is refused before any token is read', async () => {
    const { handler, audit } = fleet();
    expect(await decideFor(handler, at('/other/mcp', { authorization: `Bearer ${mint(rsa)}` }))).toBe('Unauthorized');
    expect(denials(audit)).toEqual([expect.objectContaining({ reason: 'unknown_route' })]);
  });

  test('MRS-07 with one server and gateway challenges the 0.2 behaviour stays: 401 by throwing, 403 by an explicit Deny', async () => {
    const { handler, routes } = fleet('gateway');
    expect([...routes.keys()]).toEqual(['/mcp']);
    expect(await decideFor(handler, at('/mcp'))).toBe('Unauthorized');
    const result = await decideFor(handler, at('/mcp', { authorization: `Bearer ${mint(rsa, { claims: { scope: 'other' } })}` }));
    expect(result).toMatchObject({ policyDocument: { Statement: [{ Effect: 'Deny' }] }, context: { error: 'insufficient_scope' } });
  });

  test('MRS-01 the configuration is checked when the function starts: a duplicate path, gateway challenges with two servers, an unknown default', () => {
    const server = { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 };
    const load = (spec: unknown) => () => loadAuthorizerRoutes({ ISSUER, PROTECTED_RESOURCES: JSON.stringify(spec) });
    expect(load({ servers: [server, server], challenges: 'authorizer' })).toThrow('path /mcp is served twice');
    expect(load({ servers: [server, { ...server, path: '/b/mcp' }], challenges: 'gateway' })).toThrow('challenges: gateway serves exactly one MCP server');
    expect(load({ servers: [server], defaultPath: '/x', challenges: 'authorizer' })).toThrow('defaultPath "/x" is not one of the servers');
    expect(load({ servers: [{ ...server, path: '/token' }], challenges: 'authorizer' })).toThrow('must not start with /token');
    expect(() => loadAuthorizerRoutes({ ISSUER, PROTECTED_RESOURCES: '{' })).toThrow('PROTECTED_RESOURCES is neither JSON nor its compressed form');
    expect(() => loadAuthorizerRoutes({ ISSUER, PROTECTED_RESOURCES: 'gzip:bm90IGd6aXA=' })).toThrow('neither JSON nor its compressed form');
  });

  test('MRS-01 the compressed form the construct writes for a large fleet is read as the same servers', () => {
    const servers = Array.from({ length: 20 }, (_, i) => ({ path: `/team${i}/mcp`, scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 }));
    const routes = loadAuthorizerRoutes({ ISSUER, PROTECTED_RESOURCES: compressProtectedResources(JSON.stringify({ servers, challenges: 'authorizer' })) });
    expect([...routes.keys()]).toEqual(servers.map((server) => server.path));
    expect(routes.get('/team7/mcp')?.resource).toBe(`${ISSUER}/team7/mcp`);
  });
});
