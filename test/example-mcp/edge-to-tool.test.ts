import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { createExampleHandler } from '../../lambda/example-mcp/handler';
import { authorizerCaching } from '../../lib/authorizer-gateway';
import { createGateway, type GatewayResponse } from '../support/authorizer-gateway';
import { authorizerRoutes, mint, NOW, PRM_URL, testKey, verificationKeys } from '../support/tokens';

// The whole resource-server path: API Gateway (emulated, with its authorizer cache), the Lambda
// authorizer, the gateway responses, the runtime guard and the example MCP server.

const rsa = testKey('RS256');
const keys = verificationKeys('RS256', rsa);
const JSON_HEADERS = { Accept: 'application/json, text/event-stream', 'MCP-Protocol-Version': '2025-11-25' };
const body = (name: string, args: Record<string, unknown> = {}) => JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });

function stack(ttlSeconds: number) {
  let now = NOW;
  const caching = authorizerCaching(ttlSeconds);
  const authorizer = createAuthorizerHandler({ config: authorizerRoutes({ ...caching.environment }), keys: async () => keys, clock: () => now, auditSink: () => undefined });
  const mcp = createExampleHandler({ resourceMetadataUrl: PRM_URL, clock: () => now });
  const gateway = createGateway({
    authorizer,
    integration: async (event: APIGatewayProxyEvent) => (await mcp(event, {} as Context)) as GatewayResponse,
    ttlSeconds: caching.resultsCacheTtlSeconds,
    identitySources: caching.identitySources.map((source) => source.replace('method.request.header.', '')),
    clock: () => now,
  });
  return { gateway, advance: (seconds: number) => (now += seconds) };
}

const toolsToken = `Bearer ${mint(rsa, { claims: { scope: 'mcp:tools', iat: NOW, exp: NOW + 600 } })}`;

describe('JWT-21 authorizer cache scope, end to end', () => {
  test('JWT-21 caching on: a cached Allow for echo does not authorize admin_stats (the guard refuses it from the body)', async () => {
    const { gateway } = stack(300);
    const first = await gateway.request({ authorization: toolsToken, headers: JSON_HEADERS, body: body('echo', { text: 'hi' }) });
    expect(first.statusCode).toBe(200);
    const second = await gateway.request({ authorization: toolsToken, headers: JSON_HEADERS, body: body('admin_stats') });
    expect(gateway.authorizerInvocations).toBe(1);
    expect(second.statusCode).toBe(403);
    expect(second.headers['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${PRM_URL}"`);
  });

  test('JWT-21 caching on: a cached Allow never outlives its token (401 invalid_token once exp + tolerance has passed)', async () => {
    const { gateway, advance } = stack(300);
    const shortLived = `Bearer ${mint(rsa, { claims: { iat: NOW, exp: NOW + 30 } })}`;
    expect((await gateway.request({ authorization: shortLived, headers: JSON_HEADERS, body: body('echo', { text: 'a' }) })).statusCode).toBe(200);
    advance(100);
    const late = await gateway.request({ authorization: shortLived, headers: JSON_HEADERS, body: body('echo', { text: 'b' }) });
    expect(gateway.authorizerInvocations).toBe(1);
    expect(late.statusCode).toBe(401);
    expect(late.headers['WWW-Authenticate']).toContain('error="invalid_token"');
  });

  test('JWT-21 caching on: a request without a token gets 401 from API Gateway itself (identity source required)', async () => {
    const { gateway } = stack(300);
    const response = await gateway.request({ headers: JSON_HEADERS, body: body('echo', { text: 'a' }) });
    expect(response.statusCode).toBe(401);
    expect(response.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`);
    expect(gateway.authorizerInvocations).toBe(0);
  });

  test('JWT-21 caching off (default): every request is decided on its own; a 2026-07-28 admin_stats call is refused at the edge', async () => {
    const { gateway } = stack(0);
    const modern = { ...JSON_HEADERS, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'admin_stats' };
    const response = await gateway.request({ authorization: toolsToken, headers: modern, body: body('admin_stats') });
    expect(response.statusCode).toBe(403);
    expect(response.headers['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${PRM_URL}"`);
    expect(gateway.integrationInvocations).toBe(0);
    expect((await gateway.request({ authorization: toolsToken, headers: JSON_HEADERS, body: body('echo', { text: 'x' }) })).statusCode).toBe(200);
    expect(gateway.authorizerInvocations).toBe(2);
  });

  test('JWT-17 no token: 401 with the bare challenge and the MCP function is not invoked', async () => {
    const { gateway } = stack(0);
    const response = await gateway.request({ headers: JSON_HEADERS, body: body('echo', { text: 'a' }) });
    expect(response.statusCode).toBe(401);
    expect(response.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`);
    expect(gateway.authorizerInvocations).toBe(1);
    expect(gateway.integrationInvocations).toBe(0);
  });
});
