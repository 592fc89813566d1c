import type { APIGatewayProxyEvent, Context } from 'aws-lambda';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { createExampleHandler } from '../../lambda/example-mcp/handler';
import { allowContext, jsonBody, NOW, PRM_URL, proxyEvent, rpc, toolCall, type ProxyEventOptions } from '../support/mcp-events';

const handler = createExampleHandler({ resourceMetadataUrl: PRM_URL, clock: () => NOW });
const call = (options: ProxyEventOptions) => handler(proxyEvent(options), {} as Context);

const INITIALIZE = rpc('initialize', {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'example-test-client', version: '1.0.0' },
});
const V = { 'MCP-Protocol-Version': '2025-11-25' };
const ADMIN = allowContext({ sub: 'admin-7', client_id: 'console', scope: 'mcp:admin', username: 'grace' });

function toolText(response: { body: string }): string {
  const body = jsonBody(response);
  expect(body.error).toBeUndefined();
  return body.result.content[0].text;
}

describe('the example MCP server behind the guard (stateless, JSON responses)', () => {
  test('initialize answers with the server info and a negotiated protocol version', async () => {
    const response = await call({ body: INITIALIZE });
    expect(response.statusCode).toBe(200);
    expect(response.headers!['content-type']).toContain('application/json');
    expect(response.headers!['mcp-session-id']).toBeUndefined();
    const { result } = jsonBody(response);
    expect(result.serverInfo).toEqual({ name: 'cdk-secure-mcp-server-example', version: '0.1.0' });
    expect(result.protocolVersion).toBe('2025-11-25');
    expect(result.capabilities.tools).toBeDefined();
  });

  test('the initialized notification is accepted with 202', async () => {
    const response = await call({ body: rpc('notifications/initialized', undefined, null), headers: V });
    expect(response.statusCode).toBe(202);
  });

  test('tools/list shows a mcp:tools caller echo, greet and whoami, and an admin all four tools', async () => {
    const names = async (authorizer: Record<string, string>) =>
      jsonBody(await call({ body: rpc('tools/list'), headers: V, authorizer })).result.tools.map((tool: { name: string }) => tool.name);
    expect(await names(allowContext())).toEqual(['echo', 'greet', 'whoami']);
    expect(await names(ADMIN)).toEqual(['echo', 'greet', 'whoami', 'admin_stats']);
  });

  test('echo returns its text argument', async () => {
    expect(toolText(await call({ body: toolCall('echo', { text: 'hello, MCP' }), headers: V }))).toBe('hello, MCP');
  });

  test('echo validates its input through the SDK (a missing text is a tool error, not a crash)', async () => {
    const body = jsonBody(await call({ body: toolCall('echo', {}), headers: V }));
    expect(body.result?.isError ?? body.error).toBeTruthy();
  });

  test('whoami names the user (preferred_username, else sub) and the client', async () => {
    expect(JSON.parse(toolText(await call({ body: toolCall('whoami'), headers: V })))).toEqual({ user: 'user-123', client_id: 'client-abc' });
    expect(JSON.parse(toolText(await call({ body: toolCall('whoami'), headers: V, authorizer: ADMIN })))).toEqual({ user: 'grace', client_id: 'console' });
  });

  test('admin_stats answers an admin with harmless statistics', async () => {
    const stats = JSON.parse(toolText(await call({ body: toolCall('admin_stats'), headers: V, authorizer: ADMIN })));
    expect(stats).toEqual({
      server: 'cdk-secure-mcp-server-example',
      version: '0.1.0',
      runtime: process.version,
      uptime_seconds: expect.any(Number),
      memory_rss_mb: expect.any(Number),
    });
  });

  test('RS-7 admin_stats without mcp:admin is refused by the guard with the 403 challenge', async () => {
    const response = await call({ body: toolCall('admin_stats'), headers: V });
    expect(response.statusCode).toBe(403);
    expect(response.headers!['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${PRM_URL}"`);
  });

  test.each(['GET', 'HEAD', 'DELETE'])('%s /mcp answers 405 with Allow: POST', async (method) => {
    const response = await call({ method, authorizer: null });
    expect(response.statusCode).toBe(405);
    expect(response.headers!.Allow).toBe('POST');
  });

  test('RS-12 a header/body mismatch never reaches the SDK', async () => {
    const response = await call({ body: toolCall('admin_stats'), headers: { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' }, authorizer: ADMIN });
    expect(response.statusCode).toBe(400);
    expect(jsonBody(response).error.code).toBe(-32020);
  });

  test('RS-9 the SDK transport and the tools never see the token: no Authorization header, empty authInfo.token', async () => {
    const spy = jest.spyOn(WebStandardStreamableHTTPServerTransport.prototype, 'handleRequest');
    await call({ body: toolCall('whoami'), headers: { ...V, Authorization: 'Bearer canary.token.value' } });
    const [request, options] = spy.mock.calls[0];
    spy.mockRestore();
    expect(request.headers.get('authorization')).toBeNull();
    expect([...request.headers.keys()]).not.toContain('authorization');
    expect(options?.authInfo).toMatchObject({ token: '', clientId: 'client-abc', scopes: ['mcp:tools'] });
  });

  test('FAULT-10 concurrent calls from different users in one container each answer for their own caller', async () => {
    const users = Array.from({ length: 12 }, (_, i) => `user-${i % 4}`);
    const responses = await Promise.all(
      users.map((user) => call({ body: toolCall('whoami'), headers: V, authorizer: allowContext({ sub: user, client_id: `client-of-${user}` }) })),
    );
    responses.forEach((response, i) => expect(JSON.parse(toolText(response))).toEqual({ user: users[i], client_id: `client-of-${users[i]}` }));
  });

  test('the handler consumes a base64-encoded body as API Gateway may deliver it', async () => {
    const rawBody = Buffer.from(JSON.stringify(toolCall('echo', { text: 'b64' }))).toString('base64');
    const event: APIGatewayProxyEvent = proxyEvent({ rawBody, isBase64Encoded: true, headers: V });
    expect(toolText(await handler(event, {} as Context))).toBe('b64');
  });
});

describe('protocol 2026-07-28 (per-request envelope, no initialize)', () => {
  const MODERN = '2026-07-28';
  const meta = { 'io.modelcontextprotocol/protocolVersion': MODERN, 'io.modelcontextprotocol/clientCapabilities': {} };
  const headers = (method: string, name?: string, extra: Record<string, string> = {}) => ({
    'MCP-Protocol-Version': MODERN,
    'Mcp-Method': method,
    ...(name ? { 'Mcp-Name': name } : {}),
    ...extra,
  });

  test('server/discover names 2026-07-28 among the supported versions', async () => {
    const response = await call({ body: rpc('server/discover', { _meta: meta }), headers: headers('server/discover') });
    expect(response.statusCode).toBe(200);
    expect(jsonBody(response).result.supportedVersions).toContain(MODERN);
  });

  test('tools/list is filtered per caller and carries the caching hints (private: it depends on the caller)', async () => {
    const { result } = jsonBody(await call({ body: rpc('tools/list', { _meta: meta }), headers: headers('tools/list') }));
    expect(result.tools.map((tool: { name: string }) => tool.name)).toEqual(['echo', 'greet', 'whoami']);
    expect(result).toMatchObject({ ttlMs: 0, cacheScope: 'private' });
    const greet = result.tools.find((tool: { name: string }) => tool.name === 'greet');
    expect(greet.inputSchema.properties.name['x-mcp-header']).toBe('Name');
  });

  test('whoami answers for the caller', async () => {
    const response = await call({ body: toolCall('whoami', {}, meta), headers: headers('tools/call', 'whoami') });
    expect(JSON.parse(toolText(response))).toEqual({ user: 'user-123', client_id: 'client-abc' });
  });

  test('RS-12 greet declares x-mcp-header: the matching Mcp-Param-Name (plain or Base64) passes, a missing or different one is -32020', async () => {
    const body = toolCall('greet', { name: 'Zoë' }, meta);
    const encoded = `=?base64?${Buffer.from('Zoë').toString('base64')}?=`;
    expect(toolText(await call({ body, headers: headers('tools/call', 'greet', { 'Mcp-Param-Name': encoded }) }))).toBe('Hello, Zoë!');
    for (const extra of [{}, { 'Mcp-Param-Name': 'Zoe' }] as Array<Record<string, string>>) {
      const response = await call({ body, headers: headers('tools/call', 'greet', extra) });
      expect(response.statusCode).toBe(400);
      expect(jsonBody(response).error.code).toBe(-32020);
    }
  });
});
