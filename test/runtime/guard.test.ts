import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import middy from '@middy/core';
import type { ScopeModel } from '../../lib/scopes';
import { mcpCallerOf, mcpGuard, withMcpGuard } from '../../lambda/runtime/middleware';
import { mcpGuardOptionsFromEnv, resolveGuardOptions, type McpGuardOptions } from '../../lambda/runtime/options';
import { guardRequest, guardResponse } from '../../lambda/runtime/guard';
import type { McpCaller } from '../../lambda/runtime/caller';
import { allowContext, ISSUER, jsonBody, NOW, PRM_URL, proxyEvent, RESOURCE, rpc, toolCall, type ProxyEventOptions } from '../support/mcp-events';

const OPTIONS: McpGuardOptions = { resourceMetadataUrl: PRM_URL, clock: () => NOW, allowedOrigins: ['https://app.example.com'] };
const context = {} as Context;

/** A guarded handler that records what reached it and answers with a fixed body. */
function guarded(body: unknown = { jsonrpc: '2.0', id: 1, result: {} }, headers: Record<string, string> = { 'Content-Type': 'application/json' }, options = OPTIONS) {
  const seen: Array<{ event: APIGatewayProxyEvent; caller: McpCaller }> = [];
  const handler = withMcpGuard(
    async (event: APIGatewayProxyEvent, _context: Context, caller: McpCaller): Promise<APIGatewayProxyResult> => {
      seen.push({ event, caller });
      return { statusCode: 200, headers, body: typeof body === 'string' ? body : JSON.stringify(body) };
    },
    options,
  );
  return { handler: (event: ProxyEventOptions) => handler(proxyEvent(event), context), seen };
}

const V2026 = { 'MCP-Protocol-Version': '2026-07-28' };

describe('RS-12 Mcp-Method / Mcp-Name must match the JSON-RPC body (-32020)', () => {
  const versions: Array<[string, Record<string, string>]> = [
    ['no version header', {}],
    ['2025-03-26', { 'MCP-Protocol-Version': '2025-03-26' }],
    ['2025-06-18', { 'MCP-Protocol-Version': '2025-06-18' }],
    ['2025-11-25', { 'MCP-Protocol-Version': '2025-11-25' }],
    ['2026-07-28', V2026],
  ];
  const mismatches: Array<[string, Record<string, unknown>, Record<string, string | string[]>]> = [
    ['Mcp-Method names another method', toolCall('echo', { text: 'hi' }), { 'Mcp-Method': 'tools/list', 'Mcp-Name': 'echo' }],
    ['Mcp-Name names another tool', toolCall('admin_stats'), { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' }],
    ['Mcp-Name differs only in case', toolCall('echo'), { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'Echo' }],
    ['Mcp-Name on a method without a name', rpc('tools/list'), { 'Mcp-Method': 'tools/list', 'Mcp-Name': 'echo' }],
    ['Mcp-Name for resources/read naming another URI', rpc('resources/read', { uri: 'file:///a' }), { 'Mcp-Method': 'resources/read', 'Mcp-Name': 'file:///b' }],
    ['Mcp-Method repeated', toolCall('echo'), { 'Mcp-Method': ['tools/call', 'tools/call'], 'Mcp-Name': 'echo' }],
    ['Mcp-Name repeated', toolCall('echo'), { 'Mcp-Method': 'tools/call', 'Mcp-Name': ['echo', 'echo'] }],
    ['Mcp-Name not a valid header value', toolCall('echo'), { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'éc\u0000ho' }],
    ['Mcp-Name with broken Base64', toolCall('echo'), { 'Mcp-Method': 'tools/call', 'Mcp-Name': '=?base64?@@@?=' }],
    ['Mcp-Method on a JSON-RPC response', { jsonrpc: '2.0', id: 3, result: {} }, { 'Mcp-Method': 'tools/call' }],
  ];

  for (const [version, versionHeaders] of versions) {
    test.each(mismatches)(`RS-12 (${version}) %s is refused with 400 and -32020, and the server never sees it`, async (_name, body, headers) => {
      const { handler, seen } = guarded();
      const response = await handler({ body, headers: { ...versionHeaders, ...headers } });
      expect(response.statusCode).toBe(400);
      expect(jsonBody(response)).toEqual({ jsonrpc: '2.0', id: (body.id as number) ?? null, error: { code: -32020, message: expect.stringMatching(/^Header mismatch: /) } });
      expect(seen).toHaveLength(0);
    });
  }

  test.each(versions)('RS-12 (%s) matching headers pass', async (_version, versionHeaders) => {
    const { handler, seen } = guarded();
    const response = await handler({ body: toolCall('echo', { text: 'hi' }), headers: { ...versionHeaders, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' } });
    expect(response.statusCode).toBe(200);
    expect(seen).toHaveLength(1);
  });

  test.each(['2025-03-26', '2025-06-18', '2025-11-25'])('RS-12 (%s) the headers are optional for older clients', async (version) => {
    const { handler } = guarded();
    expect((await handler({ body: toolCall('echo'), headers: { 'MCP-Protocol-Version': version } })).statusCode).toBe(200);
  });

  test.each([
    ['Mcp-Method on a request', rpc('tools/list'), {}],
    ['Mcp-Name on tools/call', toolCall('echo'), { 'Mcp-Method': 'tools/call' }],
    ['Mcp-Name on prompts/get', rpc('prompts/get', { name: 'p' }), { 'Mcp-Method': 'prompts/get' }],
    ['Mcp-Name on resources/read', rpc('resources/read', { uri: 'file:///a' }), { 'Mcp-Method': 'resources/read' }],
  ])('RS-12 (2026-07-28) a missing %s is refused with -32020', async (_name, body, headers) => {
    const { handler } = guarded();
    const response = await handler({ body, headers: { ...V2026, ...headers } });
    expect(response.statusCode).toBe(400);
    expect(jsonBody(response).error.code).toBe(-32020);
  });

  test('RS-12 MCP-Protocol-Version must match the version in the body _meta', async () => {
    const { handler } = guarded();
    const body = toolCall('echo', {}, { 'io.modelcontextprotocol/protocolVersion': '2026-07-28' });
    const headers = { 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' };
    expect((await handler({ body, headers: { ...headers, 'MCP-Protocol-Version': '2025-11-25' } })).statusCode).toBe(400);
    // A downgraded (or absent) header cannot switch header validation off for a 2026-07-28 body.
    expect((await handler({ body, headers })).statusCode).toBe(400);
    expect((await handler({ body, headers: { ...headers, ...V2026 } })).statusCode).toBe(200);
  });

  test('RS-12 a Base64-encoded Mcp-Name is decoded before the comparison', async () => {
    const { handler } = guarded();
    const name = 'résumé_tool';
    const encoded = `=?base64?${Buffer.from(name).toString('base64')}?=`;
    expect((await handler({ body: toolCall(name), headers: { ...V2026, 'Mcp-Method': 'tools/call', 'Mcp-Name': encoded } })).statusCode).toBe(200);
    expect((await handler({ body: toolCall('other'), headers: { ...V2026, 'Mcp-Method': 'tools/call', 'Mcp-Name': encoded } })).statusCode).toBe(400);
  });

  test.each<[string, Record<string, string | string[]>]>([
    ['repeated', { 'Mcp-Param-Region': ['eu', 'us'] }],
    ['invalid Base64 padding', { 'Mcp-Param-Region': '=?base64?SGVsbG8?=' }],
    ['non-alphabet Base64 characters', { 'Mcp-Param-Region': '=?base64?SGVs!!!bG8=?=' }],
    ['Base64 that is not UTF-8', { 'mcp-param-region': `=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=` }],
    ['a control character', { 'Mcp-Param-Region': 'e\u0001u' }],
  ])('RS-12 (2026-07-28) an Mcp-Param-* header that is %s is refused with -32020 before the server', async (_name, params) => {
    const { handler, seen } = guarded();
    const response = await handler({ body: toolCall('lookup', { region: 'eu' }), headers: { ...V2026, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'lookup', ...params } as never });
    expect(response.statusCode).toBe(400);
    expect(jsonBody(response).error).toEqual({ code: -32020, message: expect.stringMatching(/^Header mismatch: an Mcp-Param-\* header is/) });
    expect(seen).toHaveLength(0);
  });

  test('RS-12 (2026-07-28) well-formed Mcp-Param-* headers, plain or Base64, reach the server (which matches them against its tool schemas)', async () => {
    const { handler, seen } = guarded();
    const headers = { ...V2026, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'lookup', 'Mcp-Param-Region': 'eu-west-1', 'Mcp-Param-City': `=?base64?${Buffer.from('Zürich').toString('base64')}?=` };
    expect((await handler({ body: toolCall('lookup', { region: 'eu-west-1', city: 'Zürich' }), headers })).statusCode).toBe(200);
    expect(seen[0].event.headers!['Mcp-Param-Region']).toBe('eu-west-1');
  });

  test('RS-12 a notification on 2026-07-28 needs no Mcp-Method (the revision defines no header rules for notifications)', async () => {
    const { handler } = guarded();
    expect((await handler({ body: rpc('notifications/initialized', undefined, null), headers: V2026 })).statusCode).toBe(200);
  });
});

describe('RS-7 RS-8 per-tool scopes from the body, for every protocol version', () => {
  test.each<Record<string, string>>([{}, { 'MCP-Protocol-Version': '2025-06-18' }, { ...V2026, 'Mcp-Method': 'tools/call', 'Mcp-Name': 'admin_stats' }])(
    'RS-7 admin_stats without mcp:admin gets 403 with the insufficient_scope challenge (headers %p)',
    async (headers) => {
      const { handler, seen } = guarded();
      const response = await handler({ body: toolCall('admin_stats'), headers });
      expect(response.statusCode).toBe(403);
      expect(response.headers!['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${PRM_URL}"`);
      expect(jsonBody(response)).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32000, message: 'Forbidden: insufficient scope' } });
      expect(seen).toHaveLength(0);
    },
  );

  test('RS-8 mcp:admin implies mcp:tools: an admin may call every tool', async () => {
    const { handler } = guarded();
    const admin = allowContext({ scope: 'mcp:admin' });
    expect((await handler({ body: toolCall('admin_stats'), authorizer: admin })).statusCode).toBe(200);
    expect((await handler({ body: toolCall('echo'), authorizer: admin })).statusCode).toBe(200);
  });

  test('a caller without the default scope may not even list tools', async () => {
    const { handler } = guarded();
    const response = await handler({ body: rpc('tools/list'), authorizer: allowContext({ scope: 'other:scope' }) });
    expect(response.statusCode).toBe(403);
    expect(response.headers!['WWW-Authenticate']).toContain('scope="mcp:tools"');
  });
});

describe('tools/list filtering', () => {
  const tools = [{ name: 'echo', inputSchema: {} }, { name: 'whoami', inputSchema: {} }, { name: 'admin_stats', inputSchema: {} }];
  const listResult = { jsonrpc: '2.0', id: 1, result: { tools, nextCursor: 'c' } };

  test('the list holds only the tools the caller may call (JSON response)', async () => {
    const { handler } = guarded(listResult);
    const response = await handler({ body: rpc('tools/list') });
    expect(jsonBody(response).result).toEqual({ tools: tools.slice(0, 2), nextCursor: 'c' });
    const admin = await handler({ body: rpc('tools/list'), authorizer: allowContext({ scope: 'mcp:admin' }) });
    expect(jsonBody(admin).result.tools.map((tool: { name: string }) => tool.name)).toEqual(['echo', 'whoami', 'admin_stats']);
  });

  test('the list is filtered in an SSE response too', async () => {
    const sse = `event: message\ndata: ${JSON.stringify(listResult)}\n\n`;
    const { handler } = guarded(sse, { 'content-type': 'text/event-stream' });
    const response = await handler({ body: rpc('tools/list') });
    const data = response.body.split('\n').find((line) => line.startsWith('data: '))!;
    expect(JSON.parse(data.slice(6)).result.tools.map((tool: { name: string }) => tool.name)).toEqual(['echo', 'whoami']);
  });

  test('a custom scope model decides visibility', async () => {
    const model: ScopeModel = {
      scopes: [{ name: 'read', description: 'r', isDefault: true }, { name: 'write', description: 'w' }],
      toolScopes: { whoami: ['write'] },
      entitlements: [],
    };
    const { handler } = guarded(listResult, undefined, { ...OPTIONS, scopeModel: model });
    const response = await handler({ body: rpc('tools/list'), authorizer: allowContext({ scope: 'read' }) });
    expect(jsonBody(response).result.tools.map((tool: { name: string }) => tool.name)).toEqual(['echo', 'admin_stats']);
  });

  test('a JSON-RPC error or a non-200 answer passes unchanged; other methods are never rewritten', async () => {
    const error = { jsonrpc: '2.0', id: 1, error: { code: -32601, message: 'Method not found' } };
    expect(jsonBody(await guarded(error).handler({ body: rpc('tools/list') }))).toEqual(error);
    const call = await guarded(listResult).handler({ body: toolCall('echo') });
    expect(jsonBody(call)).toEqual(listResult);
  });

  test('a tools/list response the guard cannot read is replaced by an error (fail closed)', async () => {
    const response = await guarded('not json').handler({ body: rpc('tools/list') });
    expect(response.statusCode).toBe(500);
    expect(jsonBody(response).error.code).toBe(-32603);
    const unknownType = await guarded(listResult, { 'Content-Type': 'text/plain' }).handler({ body: rpc('tools/list') });
    expect(unknownType.statusCode).toBe(500);
  });
});

describe('RS-10 Origin', () => {
  test.each([
    ['an allowed origin', 'https://app.example.com', 200],
    ['an allowed origin written differently', 'https://APP.example.com:443', 200],
    ['another origin', 'https://evil.example', 403],
    ['a look-alike', 'https://app.example.com.evil.example', 403],
    ['http instead of https', 'http://app.example.com', 403],
    ['the null origin', 'null', 403],
    ['garbage', '::::', 403],
  ])('RS-10 %s (%s) -> %i', async (_name, origin, status) => {
    const { handler, seen } = guarded();
    const response = await handler({ body: rpc('ping'), headers: { Origin: origin } });
    expect(response.statusCode).toBe(status);
    if (status === 403) {
      expect(jsonBody(response)).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Forbidden: Origin not allowed' } });
      expect(seen).toHaveLength(0);
    }
  });

  test('RS-10 no Origin header (a non-browser client) passes', async () => {
    expect((await guarded().handler({ body: rpc('ping') })).statusCode).toBe(200);
  });

  test('RS-10 two Origin headers are refused', async () => {
    expect((await guarded().handler({ body: rpc('tools/list'), headers: { Origin: ['https://app.example.com', 'https://evil.example'] } })).statusCode).toBe(403);
  });

  test('RS-10 by default only the endpoint\'s own origin is accepted; a rebound page (foreign Origin) is refused', async () => {
    const { handler } = guarded(undefined, undefined, { resourceMetadataUrl: PRM_URL, clock: () => NOW });
    const own = new URL(PRM_URL).origin;
    expect((await handler({ body: rpc('ping'), headers: { Origin: own } })).statusCode).toBe(200);
    expect((await handler({ body: rpc('ping'), headers: { Origin: own.toUpperCase().replace('HTTPS', 'https') } })).statusCode).toBe(200);
    for (const foreign of ['https://app.example.com', 'http://evil.example.com', own.replace('https:', 'http:'), `${own}:8443`]) {
      expect((await handler({ body: rpc('ping'), headers: { Origin: foreign } })).statusCode).toBe(403);
    }
  });

  test('RS-10 the own origin is allowed next to configured ones', async () => {
    const { handler } = guarded();
    expect((await handler({ body: rpc('ping'), headers: { Origin: new URL(PRM_URL).origin } })).statusCode).toBe(200);
  });

  test('allowedOrigins must be origins, not URLs with paths or wildcards', () => {
    expect(() => resolveGuardOptions({ ...OPTIONS, allowedOrigins: ['https://app.example.com/path'] })).toThrow('allowedOrigins');
    expect(() => resolveGuardOptions({ ...OPTIONS, allowedOrigins: ['https://*.example.com'] })).toThrow('allowedOrigins');
  });
});

describe('RS-9 RS-11 the caller, never the token', () => {
  test('RS-9 the handler receives the event without any Authorization header, and the caller from the authorizer context', async () => {
    const { handler, seen } = guarded();
    await handler({ body: toolCall('echo'), headers: { authorization: 'Bearer second-canary' }, authorizer: allowContext({ username: 'ada' }) });
    const [{ event, caller }] = seen;
    const forwarded = JSON.stringify({ headers: event.headers, multiValueHeaders: event.multiValueHeaders });
    expect(forwarded.toLowerCase()).not.toContain('authorization');
    expect(forwarded).not.toContain('canary');
    expect(caller).toEqual({ type: 'user', user: 'ada', sub: 'user-123', username: 'ada', clientId: 'client-abc', scopes: ['mcp:tools'], tokenId: 'jti-0001', expiresAt: NOW + 300, resource: RESOURCE });
  });

  test('REV-02 the caller says whether a user or a machine client is calling', async () => {
    const { handler, seen } = guarded();
    await handler({ body: toolCall('echo'), authorizer: allowContext({ sub: 'machine.batch', client_id: 'machine.batch', caller_type: 'machine' }) });
    await handler({ body: toolCall('echo'), authorizer: allowContext({ caller_type: 'user' }) });
    expect(seen.map(({ caller }) => [caller.type, caller.sub])).toEqual([['machine', 'machine.batch'], ['user', 'user-123']]);
  });

  test('RS-9 the original event is left untouched (the guard copies)', async () => {
    const event = proxyEvent({ body: toolCall('echo') });
    await withMcpGuard(async () => ({ statusCode: 200, body: '{}' }), OPTIONS)(event, context);
    expect(event.headers.Authorization).toBeDefined();
  });

  test.each([
    ['no authorizer context', null],
    ['a context without client_id', allowContext({ client_id: undefined })],
    ['a context without exp', allowContext({ exp: undefined })],
    ['a context with a malformed scope', allowContext({ scope: 'a "b' })],
  ])('RS-11 %s: 401 with the challenge, and the handler is not called', async (_name, authorizer) => {
    const { handler, seen } = guarded();
    const response = await handler({ body: rpc('tools/list'), authorizer });
    expect(response.statusCode).toBe(401);
    expect(response.headers!['WWW-Authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`);
    expect(seen).toHaveLength(0);
  });

  test('JWT-21 a cached Allow that outlived its token is refused with invalid_token', async () => {
    const { handler, seen } = guarded();
    const stale = allowContext({ exp: String(NOW - 61) });
    const response = await handler({ body: rpc('tools/list'), authorizer: stale });
    expect(response.statusCode).toBe(401);
    expect(response.headers!['WWW-Authenticate']).toBe(`Bearer error="invalid_token", resource_metadata="${PRM_URL}", scope="mcp:tools"`);
    expect(seen).toHaveLength(0);
    expect((await handler({ body: rpc('ping'), authorizer: allowContext({ exp: String(NOW - 59) }) })).statusCode).toBe(200);
  });
});

describe('malformed requests (RS-6: 400)', () => {
  test.each([
    ['invalid JSON', { rawBody: '{"jsonrpc":' }, 400, -32700],
    ['a batch', { body: [rpc('tools/list'), rpc('tools/call', { name: 'admin_stats' }, 2)] }, 400, -32600],
    ['an empty batch', { body: [] }, 400, -32600],
    ['not JSON-RPC 2.0', { body: { id: 1, method: 'tools/list' } }, 400, -32600],
    ['a JSON string', { body: 'tools/list' }, 400, -32600],
    ['neither request nor response', { body: { jsonrpc: '2.0', id: 1 } }, 400, -32600],
    ['too large', { body: toolCall('echo', { text: 'x'.repeat(1024 * 1024) }) }, 413, -32600],
  ] as Array<[string, ProxyEventOptions, number, number]>)('%s -> %i (%i)', async (_name, event, status, code) => {
    const { handler, seen } = guarded();
    const response = await handler(event);
    expect(response.statusCode).toBe(status);
    expect(jsonBody(response).error.code).toBe(code);
    expect(seen).toHaveLength(0);
  });

  test('a base64-encoded body is decoded before the checks', async () => {
    const { handler } = guarded();
    const rawBody = Buffer.from(JSON.stringify(toolCall('admin_stats'))).toString('base64');
    expect((await handler({ rawBody, isBase64Encoded: true })).statusCode).toBe(403);
  });

  test('a GET reaches the handler after the caller checks (the server answers it)', async () => {
    const { handler, seen } = guarded();
    expect((await handler({ method: 'GET' })).statusCode).toBe(200);
    expect(seen).toHaveLength(1);
    expect((await handler({ method: 'GET', authorizer: null })).statusCode).toBe(401);
  });
});

describe('middy middleware', () => {
  const listResult = { jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'echo' }, { name: 'admin_stats' }] } };

  function middyHandler() {
    const seen: Array<{ event: APIGatewayProxyEvent; caller?: McpCaller }> = [];
    const handler = middy(async (event: APIGatewayProxyEvent, lambdaContext: Context) => {
      seen.push({ event, caller: mcpCallerOf(lambdaContext) });
      return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(listResult) };
    }).use(mcpGuard(OPTIONS));
    return { handler: (event: ProxyEventOptions) => handler(proxyEvent(event), {} as Context), seen };
  }

  test('refusals end the request in before: the handler never runs', async () => {
    const { handler, seen } = middyHandler();
    const response = await handler({ body: toolCall('echo'), headers: { ...V2026, 'Mcp-Method': 'tools/list' } });
    expect(response.statusCode).toBe(400);
    expect(jsonBody(response).error.code).toBe(-32020);
    expect((await handler({ body: toolCall('admin_stats') })).statusCode).toBe(403);
    expect(seen).toHaveLength(0);
  });

  test('allowed requests reach the handler without the token and with context.mcpCaller; tools/list is filtered in after', async () => {
    const { handler, seen } = middyHandler();
    const response = await handler({ body: rpc('tools/list') });
    expect(jsonBody(response).result.tools).toEqual([{ name: 'echo' }]);
    expect(seen[0].caller).toMatchObject({ sub: 'user-123', clientId: 'client-abc' });
    expect(JSON.stringify(seen[0].event.multiValueHeaders).toLowerCase()).not.toContain('authorization');
  });
});

describe('FAULT-10 cross-request isolation in the guard', () => {
  test('FAULT-10 interleaved requests of different callers each reach the handler with their own caller', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.constantFrom('alice', 'bob', 'carol'), { minLength: 2, maxLength: 10 }), async (scheduler, users) => {
        const handler = withMcpGuard(async (_event: APIGatewayProxyEvent, _context: Context, caller: McpCaller) => {
          await scheduler.schedule(Promise.resolve());
          return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { user: caller.sub, client: caller.clientId } }) };
        }, OPTIONS);
        const pending = users.map((user) => handler(proxyEvent({ body: toolCall('whoami'), authorizer: allowContext({ sub: user, client_id: `client-${user}` }) }), context));
        await scheduler.waitAll();
        const responses = await Promise.all(pending);
        responses.forEach((response, i) => expect(jsonBody(response).result).toEqual({ user: users[i], client: `client-${users[i]}` }));
      }),
      { numRuns: 100 },
    );
  });
});

describe('options', () => {
  test('from the environment the construct sets', () => {
    const options = mcpGuardOptionsFromEnv({ ISSUER: 'https://x.example/prod', MCP_ALLOWED_ORIGINS: 'https://a.example, https://b.example' });
    expect(options).toEqual({
      resourceMetadataUrl: 'https://x.example/prod/.well-known/oauth-protected-resource/mcp',
      resource: 'https://x.example/prod/mcp',
      scopeModel: undefined,
      allowedOrigins: ['https://a.example', 'https://b.example'],
      clockToleranceSeconds: 60,
    });
    expect(mcpGuardOptionsFromEnv({ ISSUER: 'https://x.example/prod', CLOCK_TOLERANCE_SECONDS: '0' }).clockToleranceSeconds).toBe(0);
    expect(() => mcpGuardOptionsFromEnv({ ISSUER: 'https://x.example/prod', CLOCK_TOLERANCE_SECONDS: '301' })).toThrow(/between 0 and 300, got "301"/);
    expect(() => mcpGuardOptionsFromEnv({})).toThrow('ISSUER');
  });

  test('MRS-01 MCP_RESOURCE_PATH names the server: its audience and its metadata URL', () => {
    const SCOPE_MODEL = JSON.stringify({ scopes: [{ name: 'tools:use', description: 'Use', isDefault: true }], toolScopes: {}, entitlements: [] });
    const options = mcpGuardOptionsFromEnv({ ISSUER: 'https://x.example/prod', MCP_RESOURCE_PATH: '/tools/mcp', SCOPE_MODEL });
    expect(options).toMatchObject({ resource: 'https://x.example/prod/tools/mcp', resourceMetadataUrl: 'https://x.example/prod/.well-known/oauth-protected-resource/tools/mcp' });
    expect(() => mcpGuardOptionsFromEnv({ ISSUER: 'https://x.example/prod', MCP_RESOURCE_PATH: 'tools/', SCOPE_MODEL })).toThrow(/MCP_RESOURCE_PATH: path must be/);
    // A fleet server without its own model would silently enforce the default one: refused at start.
    expect(() => mcpGuardOptionsFromEnv({ ISSUER: 'https://x.example/prod', MCP_RESOURCE_PATH: '/tools/mcp' })).toThrow('MCP_RESOURCE_PATH is set, so SCOPE_MODEL must be too');
    // Given only the metadata URL, the audience is derived from it (RFC 9728 path insertion in reverse).
    expect(resolveGuardOptions({ resourceMetadataUrl: 'https://x.example/prod/.well-known/oauth-protected-resource/tools/mcp' }).resource).toBe('https://x.example/prod/tools/mcp');
    expect(() => resolveGuardOptions({ resourceMetadataUrl: 'https://x.example/prm.json' })).toThrow(/resource is required/);
  });

  test('an invalid scope model is refused when the handler is built', () => {
    const invalid = { scopes: [{ name: 'a b', description: 'x', isDefault: true }], toolScopes: {}, entitlements: [] };
    expect(() => resolveGuardOptions({ ...OPTIONS, scopeModel: invalid })).toThrow('scopeModel is invalid');
  });

  test('guardRequest and guardResponse compose without a wrapper', () => {
    const resolved = resolveGuardOptions(OPTIONS);
    const outcome = guardRequest(proxyEvent({ body: rpc('tools/list') }), resolved);
    expect(outcome.proceed).toBe(true);
    const filtered = guardResponse({ statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, result: { tools: [{ name: 'admin_stats' }] } }) }, outcome, resolved);
    expect(jsonBody(filtered).result.tools).toEqual([]);
  });
});

describe('MRS-03 the guard accepts only tokens for its own MCP server', () => {
  const TOOLS = `${ISSUER}/tools/mcp`;
  const toolsOptions: McpGuardOptions = { resourceMetadataUrl: `${ISSUER}/.well-known/oauth-protected-resource/tools/mcp`, clock: () => NOW };

  test('MRS-03 an allowed context for another server of the same authorization server is 401 invalid_token with this server\'s challenge, and the server never runs', async () => {
    const { handler, seen } = guarded(undefined, undefined, toolsOptions);
    const response = await handler({ body: toolCall('echo'), authorizer: allowContext({ aud: RESOURCE }) });
    expect(response.statusCode).toBe(401);
    expect(response.headers?.['WWW-Authenticate']).toBe(`Bearer error="invalid_token", resource_metadata="${ISSUER}/.well-known/oauth-protected-resource/tools/mcp", scope="mcp:tools"`);
    expect(seen).toHaveLength(0);
    // Readable by a browser-based client, as API Gateway's own challenges are.
    expect(response.headers).toMatchObject({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': 'WWW-Authenticate,Mcp-Session-Id' });
    const own = await handler({ body: toolCall('echo'), authorizer: allowContext({ aud: TOOLS }) });
    expect(own.statusCode).toBe(200);
  });

  test('MRS-03 a context without an audience (a route wired past the authorizer, an old authorizer) is 401', async () => {
    const { handler, seen } = guarded();
    const response = await handler({ body: toolCall('echo'), authorizer: allowContext({ aud: '' }) });
    expect(response.statusCode).toBe(401);
    expect(seen).toHaveLength(0);
  });
});

describe('MRS-07 scope refusals the edge leaves to the guard (per-server challenges)', () => {
  test('MRS-07 an Allow carrying scope_denied is refused with 403 and the scopes the edge named, for every method, whatever the guard\'s own model', async () => {
    const { handler, seen } = guarded();
    for (const method of ['POST', 'GET', 'HEAD']) {
      const response = await handler({ method, body: method === 'POST' ? toolCall('echo') : undefined, authorizer: allowContext({ scope: 'mcp:tools', scope_denied: 'mcp:admin' }) });
      expect([method, response.statusCode]).toEqual([method, 403]);
      expect(response.headers?.['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${PRM_URL}"`);
    }
    expect(seen).toHaveLength(0);
  });

  test('MRS-07 a GET or HEAD (a probe, a stream) needs the default scopes: a token without them never reaches the server', async () => {
    const { handler, seen } = guarded();
    for (const method of ['GET', 'HEAD']) {
      const refused = await handler({ method, authorizer: allowContext({ scope: 'offline_access' }) });
      expect([method, refused.statusCode]).toEqual([method, 403]);
      expect(refused.headers?.['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:tools", resource_metadata="${PRM_URL}"`);
    }
    expect(seen).toHaveLength(0);
    expect((await handler({ method: 'GET', authorizer: allowContext({ scope: 'mcp:tools' }) })).statusCode).toBe(200);
  });
});
