import fc from 'fast-check';
import type { APIGatewayAuthorizerResult } from 'aws-lambda';
import { DEFAULT_SCOPE_MODEL, satisfiesScopes, scopeSatisfier, type ScopeModel } from '../../lib/scopes';
import { decide } from '../../lambda/authorizer/decide';
import { createAuthorizerHandler, UNAUTHORIZED } from '../../lambda/authorizer/handler';
import { authorizerGatewayResponses, renderGatewayResponse } from '../../lib/authorizer-gateway';
import { createGateway, OTHER_METHOD_ARN } from '../support/authorizer-gateway';
import {
  authorizerConfig, authorizerRoutes,
  authorizerEvent,
  captureAudit,
  METHOD_ARN,
  RESOURCE,
  mint,
  NOW,
  PRM_URL,
  testKey,
  verificationKeys,
  type EventOptions,
} from '../support/tokens';

const rsa = testKey('RS256');
const keys = verificationKeys('RS256', rsa);

/** A scope model where one tool needs two scopes, to check that a challenge names every one (RS-7). */
const AUDIT_MODEL: ScopeModel = {
  scopes: [
    { name: 'mcp:tools', description: 'tools', isDefault: true },
    { name: 'mcp:admin', description: 'admin', implies: ['mcp:tools'] },
    { name: 'mcp:audit', description: 'audit' },
  ],
  toolScopes: { admin_stats: ['mcp:admin'], export_audit_log: ['mcp:admin', 'mcp:audit'] },
  entitlements: [],
};

function authorizer(env: Record<string, string> = {}, now = NOW) {
  const audit = captureAudit();
  const config = authorizerConfig(env);
  const handler = createAuthorizerHandler({ config: authorizerRoutes(env), keys: async () => keys, clock: () => now, auditSink: audit.sink });
  return { handler, audit, config };
}

const modern = (name?: string, method = 'tools/call'): Record<string, string> => ({
  'MCP-Protocol-Version': '2026-07-28',
  'Mcp-Method': method,
  ...(name !== undefined ? { 'Mcp-Name': name } : {}),
});

async function outcome(handler: ReturnType<typeof authorizer>['handler'], options: EventOptions): Promise<APIGatewayAuthorizerResult | 'Unauthorized'> {
  try {
    return await handler(authorizerEvent(options));
  } catch (error) {
    expect((error as Error).message).toBe(UNAUTHORIZED);
    return 'Unauthorized';
  }
}

describe('authorizer responses as API Gateway REST expects them', () => {
  test('an allowed 2026-07-28 call carries its tool in the context, so the access log traces user, client and tool', async () => {
    const { handler } = authorizer();
    const token = mint(rsa, { claims: { scope: 'mcp:tools' } });
    const result = await handler(authorizerEvent({ authorization: `Bearer ${token}`, headers: modern('echo') }));
    expect(result.context).toMatchObject({ sub: 'user-123', client_id: 'client-abc', mcp_method: 'tools/call', mcp_name: 'echo' });
    const legacy = await handler(authorizerEvent({ authorization: `Bearer ${token}`, headers: { 'MCP-Protocol-Version': '2025-11-25', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'echo' } }));
    expect(legacy.context).not.toHaveProperty('mcp_name');
  });

  test('REV-10 operation names outside a safe character set never reach the context (the access log prints them unescaped)', async () => {
    const { handler } = authorizer();
    const token = mint(rsa, { claims: { scope: 'mcp:tools' } });
    const hostile = ['echo","principalId":"admin', 'echo\nforged', 'e\u0000cho', 'x'.repeat(129), 'ec ho', 'é'];
    for (const name of hostile) {
      const encoded = `=?base64?${Buffer.from(name, 'utf8').toString('base64')}?=`;
      const result = await handler(authorizerEvent({ authorization: `Bearer ${token}`, headers: modern(encoded) }));
      expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
      expect(result.context).not.toHaveProperty('mcp_name');
    }
    const method = await handler(authorizerEvent({ authorization: `Bearer ${token}`, headers: modern(undefined, 'tools/list"}') }));
    expect(method.context).not.toHaveProperty('mcp_method');
    const fine = await handler(authorizerEvent({ authorization: `Bearer ${token}`, headers: modern('github.search-issues_v2') }));
    expect(fine.context).toMatchObject({ mcp_method: 'tools/call', mcp_name: 'github.search-issues_v2' });
  });

  test('an allowed request gets an Allow for exactly this method ARN, with the caller as string context and never the token', async () => {
    const { handler, audit } = authorizer();
    const token = mint(rsa, { claims: { preferred_username: 'ada', scope: 'mcp:tools extra:scope' } });
    const result = await handler(authorizerEvent({ authorization: `Bearer ${token}` }));
    expect(result).toEqual({
      principalId: 'user-123',
      policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: METHOD_ARN }] },
      context: { sub: 'user-123', client_id: 'client-abc', scope: 'mcp:tools extra:scope', jti: 'jti-0001', username: 'ada', exp: String(NOW + 590), caller_type: 'user', aud: RESOURCE },
    });
    for (const value of Object.values(result.context!)) expect(typeof value).toBe('string');
    expect(JSON.stringify(result)).not.toContain(token.split('.')[2]);
    expect(audit.lines).toEqual([]);
  });

  test('REV-02 a token obtained without a user (gty: client_credentials) is passed on as a machine caller; anything else is a user', async () => {
    const { handler } = authorizer();
    const machine = await handler(authorizerEvent({ authorization: `Bearer ${mint(rsa, { claims: { sub: 'machine.batch', client_id: 'machine.batch', scope: 'mcp:tools', gty: 'client_credentials' } })}` }));
    expect(machine.context).toMatchObject({ sub: 'machine.batch', caller_type: 'machine' });
    for (const gty of [undefined, 'authorization_code', 'CLIENT_CREDENTIALS', ['client_credentials']]) {
      const other = await handler(authorizerEvent({ authorization: `Bearer ${mint(rsa, { claims: { scope: 'mcp:tools', gty } })}` }));
      expect(other.context!.caller_type).toBe('user');
    }
  });

  test('RS-6 an invalid token makes the authorizer throw exactly "Unauthorized" (API Gateway 401)', async () => {
    const { handler } = authorizer();
    await expect(handler(authorizerEvent({ authorization: 'Bearer not-a-jwt' }))).rejects.toThrow(new Error('Unauthorized'));
  });

  test('RS-6 JWT-13 an insufficient scope gets an explicit Deny (API Gateway 403) carrying the challenge in its context', async () => {
    const { handler } = authorizer();
    const result = await handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}`, headers: modern('admin_stats') }));
    expect(result.policyDocument.Statement).toEqual([{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: METHOD_ARN }]);
    expect(result.context).toEqual({
      error: 'insufficient_scope',
      required_scope: 'mcp:admin',
      www_authenticate: `Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${PRM_URL}"`,
    });
  });

  test('a malformed event (a header value that is not a list) is a 401, never a 500', async () => {
    const { handler, audit } = authorizer();
    const event = authorizerEvent({ authorization: `Bearer ${mint(rsa)}` });
    (event.multiValueHeaders as Record<string, unknown>).Authorization = 42;
    await expect(handler(event)).rejects.toThrow(new Error('Unauthorized'));
    expect(audit.events()).toMatchObject([{ event: 'rs.denied', reason: 'malformed' }]);
  });

  test('a failure to load the keys is an outage (500), not a 401', async () => {
    const handler = createAuthorizerHandler({
      config: authorizerRoutes(),
      keys: () => Promise.reject(new Error('JWKS fetch failed with HTTP 503')),
      clock: () => NOW,
      auditSink: () => undefined,
    });
    await expect(handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}` }))).rejects.toThrow('JWKS fetch failed with HTTP 503');
  });
});

describe('gateway responses (rendered as API Gateway renders them)', () => {
  const mcp = jest.fn(async () => ({ statusCode: 200, headers: {}, body: '{}' }));
  beforeEach(() => mcp.mockClear());
  const gateway = () => createGateway({ authorizer: authorizer().handler, integration: mcp });

  test('RS-2 RS-3 JWT-17 no Authorization header: 401 with resource_metadata and scope, no error attribute, MCP function not invoked', async () => {
    const response = await gateway().request({});
    expect(response.statusCode).toBe(401);
    expect(response.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`);
    expect(response.headers['WWW-Authenticate']).not.toContain('error=');
    expect(mcp).not.toHaveBeenCalled();
  });

  test('RS-2 an invalid token gets the same static 401 challenge (a thrown Unauthorized cannot vary headers)', async () => {
    const response = await gateway().request({ authorization: `Bearer ${mint(rsa, { claims: { aud: 'https://other.example/mcp' } })}` });
    expect(response.statusCode).toBe(401);
    expect(response.headers['WWW-Authenticate']).toBe(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`);
    expect(mcp).not.toHaveBeenCalled();
  });

  test('RS-7 the 403 challenge names every scope the operation needs, plus resource_metadata', async () => {
    const gw = createGateway({ authorizer: authorizer({ SCOPE_MODEL: JSON.stringify(AUDIT_MODEL) }).handler, integration: mcp });
    const response = await gw.request({ authorization: `Bearer ${mint(rsa, { claims: { scope: 'mcp:tools mcp:audit' } })}`, headers: modern('export_audit_log') });
    expect(response.statusCode).toBe(403);
    expect(response.headers['WWW-Authenticate']).toBe(`Bearer error="insufficient_scope", scope="mcp:admin mcp:audit", resource_metadata="${PRM_URL}"`);
    expect(JSON.parse(response.body)).toEqual({
      error: 'insufficient_scope',
      error_description: 'The access token lacks a scope this operation needs.',
      scope: 'mcp:admin mcp:audit',
    });
    expect(mcp).not.toHaveBeenCalled();
  });

  test('the gateway response definitions only map context keys the authorizer sets', () => {
    const [, accessDenied] = authorizerGatewayResponses(PRM_URL, ['mcp:tools']);
    const rendered = renderGatewayResponse(accessDenied, {});
    // With no context every mapped value is empty: proves the definitions read context keys, not constants.
    expect(rendered.headers['WWW-Authenticate']).toBe('');
    expect(JSON.parse(rendered.body).scope).toBe('');
  });
});

describe('RS-8 scope hierarchy', () => {
  test.each([
    ['mcp:admin', 'echo', 'allow'],
    ['mcp:admin', 'admin_stats', 'allow'],
    ['mcp:tools', 'echo', 'allow'],
    ['mcp:tools', 'admin_stats', 'forbidden'],
    ['mcp:tools unknown:extra', 'echo', 'allow'],
    ['unknown:extra', 'echo', 'forbidden'],
  ])('RS-8 a token with "%s" calling %s: %s', (scope, tool, expected) => {
    const decision = decide(authorizerEvent({ authorization: `Bearer ${mint(rsa, { claims: { scope } })}`, headers: modern(tool) }), keys, authorizerConfig(), NOW);
    expect(decision.effect).toBe(expected);
  });
});

describe('RS-12 per-tool scopes at the edge', () => {
  const tools = `Bearer ${mint(rsa)}`;
  const config = authorizerConfig();
  const effect = (headers: Record<string, string | string[]>) => decide(authorizerEvent({ authorization: tools, headers }), keys, config, NOW).effect;

  test('RS-12 on 2026-07-28 the tool named by Mcp-Name decides the required scopes', () => {
    expect(effect(modern('admin_stats'))).toBe('forbidden');
    expect(effect(modern('echo'))).toBe('allow');
  });

  test('RS-12 a later protocol version is trusted too', () => {
    expect(effect({ ...modern('admin_stats'), 'MCP-Protocol-Version': '2027-01-15' })).toBe('forbidden');
  });

  test.each(['2025-11-25', '2025-06-18', '2025-03-26', 'garbage', '2026-7-28'])('RS-12 on %s the headers are not trusted: default scopes only (the guard checks the body)', (version) => {
    expect(effect({ ...modern('admin_stats'), 'MCP-Protocol-Version': version })).toBe('allow');
  });

  test('RS-12 without MCP-Protocol-Version the headers are not trusted', () => {
    expect(effect({ 'Mcp-Method': 'tools/call', 'Mcp-Name': 'admin_stats' })).toBe('allow');
  });

  test('RS-12 a Base64-encoded Mcp-Name is decoded before the scope lookup', () => {
    expect(effect(modern(`=?base64?${Buffer.from('admin_stats').toString('base64')}?=`))).toBe('forbidden');
  });

  test('RS-12 non-tool methods need the default scopes', () => {
    expect(effect(modern(undefined, 'tools/list'))).toBe('allow');
    const noScope = `Bearer ${mint(rsa, { claims: { scope: 'other:scope' } })}`;
    expect(decide(authorizerEvent({ authorization: noScope, headers: modern(undefined, 'tools/list') }), keys, config, NOW)).toMatchObject({
      effect: 'forbidden',
      requiredScopes: ['mcp:tools'],
    });
  });

  test('RS-12 repeated Mcp-Method or Mcp-Name headers name no operation (default scopes; the guard refuses -32020)', () => {
    expect(effect({ ...modern('admin_stats'), 'Mcp-Method': ['tools/call', 'tools/list'] })).toBe('allow');
    expect(effect({ ...modern(), 'Mcp-Name': ['admin_stats', 'echo'] })).toBe('allow');
  });

  test('a token without a scope claim is refused with the default scopes it needs', () => {
    const decision = decide(authorizerEvent({ authorization: `Bearer ${mint(rsa, { claims: { scope: undefined } })}` }), keys, config, NOW);
    expect(decision).toMatchObject({ effect: 'forbidden', requiredScopes: ['mcp:tools'] });
  });
});

describe('JWT-16 header forms', () => {
  const token = mint(rsa);
  const { handler } = authorizer();

  test.each(['Bearer', 'bearer', 'BEARER', 'BeArEr'])('JWT-16 the %s scheme is accepted (case-insensitive)', async (scheme) => {
    expect(await outcome(handler, { authorization: `${scheme} ${token}` })).not.toBe('Unauthorized');
  });

  test.each([
    ['no space after Bearer', `Bearer${token}`, 'malformed'],
    ['two spaces after Bearer', `Bearer  ${token}`, 'malformed'],
    ['Bearer without a token', 'Bearer ', 'malformed'],
    ['another scheme', `Basic ${Buffer.from('a:b').toString('base64')}`, 'missing'],
    ['the token without a scheme', token, 'missing'],
  ])('JWT-16 %s is refused with 401', async (_name, authorization, reason) => {
    const { handler: h, audit } = authorizer();
    expect(await outcome(h, { authorization })).toBe('Unauthorized');
    expect(audit.events()).toMatchObject([{ event: 'rs.denied', reason }]);
  });

  test('JWT-16 two Authorization headers are refused (malformed)', async () => {
    const { handler: h, audit } = authorizer();
    expect(await outcome(h, { authorization: [`Bearer ${token}`, `Bearer ${token}`] })).toBe('Unauthorized');
    expect(audit.events()).toMatchObject([{ event: 'rs.denied', reason: 'malformed', token_presented: true }]);
  });

  test('JWT-16 a token in the query string is never read (missing)', async () => {
    const { handler: h, audit } = authorizer();
    expect(await outcome(h, { query: { access_token: token } })).toBe('Unauthorized');
    expect(audit.events()).toMatchObject([{ event: 'rs.denied', reason: 'missing', token_presented: false }]);
  });
});

describe('JWT-21 authorizer cache scope', () => {
  test('JWT-21 the policy covers exactly the requested method ARN: a cached result never authorizes another method or path', async () => {
    const { handler } = authorizer();
    const result = await handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}` }));
    const resources = (result.policyDocument.Statement as Array<{ Resource: string }>).map((statement) => statement.Resource);
    expect(resources).toEqual([METHOD_ARN]);
    expect(resources.join()).not.toContain('*');
    const mcp = jest.fn(async () => ({ statusCode: 200, headers: {}, body: '{}' }));
    const gateway = createGateway({ authorizer: handler, integration: mcp, ttlSeconds: 300, identitySources: ['Authorization'] });
    expect((await gateway.request({ authorization: `Bearer ${mint(rsa)}` })).statusCode).toBe(200);
    expect((await gateway.request({ authorization: `Bearer ${mint(rsa)}`, methodArn: OTHER_METHOD_ARN })).statusCode).toBe(403);
    expect(gateway.authorizerInvocations).toBe(1);
  });

  test('JWT-21 with caching on (AUTHORIZER_CACHE_TTL_SECONDS > 0) the decision ignores Mcp-Method/Mcp-Name, so a cached result cannot depend on a tool', () => {
    const config = authorizerConfig({ AUTHORIZER_CACHE_TTL_SECONDS: '60' });
    expect(config.edgeToolScopes).toBe(false);
    const token = `Bearer ${mint(rsa)}`;
    const forAdmin = decide(authorizerEvent({ authorization: token, headers: modern('admin_stats') }), keys, config, NOW);
    const forEcho = decide(authorizerEvent({ authorization: token, headers: modern('echo') }), keys, config, NOW);
    expect(forAdmin).toEqual(forEcho);
    expect(forAdmin.effect).toBe('allow');
  });
});

describe('AUDIT-01 AUDIT-02 audit lines', () => {
  test('AUDIT-01 each denial writes exactly one rs.denied line with its stable reason; allowed calls write none', async () => {
    const { handler, audit } = authorizer();
    const cases: Array<[EventOptions, string]> = [
      [{}, 'missing'],
      [{ authorization: 'Bearer a.b' }, 'malformed'],
      [{ authorization: `Bearer ${mint(rsa, { header: { alg: 'HS256' } })}` }, 'alg'],
      [{ authorization: `Bearer ${mint(rsa, { header: { kid: 'nope' } })}` }, 'kid'],
      [{ authorization: `Bearer ${mint(rsa, { claims: { exp: NOW - 3600, iat: NOW - 4000 } })}` }, 'expired'],
      [{ authorization: `Bearer ${mint(rsa)}`, headers: modern('admin_stats') }, 'scope'],
    ];
    for (const [options, reason] of cases) {
      audit.lines.length = 0;
      await outcome(handler, { ...options, requestId: `req-${reason}` });
      expect(audit.events()).toEqual([
        expect.objectContaining({ event: 'rs.denied', reason, request_id: `req-${reason}`, ip: '203.0.113.7', ua: 'test-client/1.0', ts: NOW }),
      ]);
    }
    audit.lines.length = 0;
    await handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}` }));
    expect(audit.lines).toEqual([]);
  });

  test('AUDIT-01 a scope denial names the client, the hashed subject and the scopes required', async () => {
    const { handler, audit } = authorizer();
    await handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}`, headers: modern('admin_stats') }));
    const [event] = audit.events();
    expect(event).toMatchObject({ reason: 'scope', client_id: 'client-abc', scope_required: ['mcp:admin'], mcp_method: 'tools/call', mcp_name: 'admin_stats' });
    expect(event.sub_hash).toEqual(expect.any(String));
    expect(JSON.stringify(event)).not.toContain('user-123');
  });

  test('AUDIT-02 no token, signature or Authorization value appears in any audit line', async () => {
    const { handler, audit } = authorizer();
    const canaries = [
      mint(rsa, { claims: { jti: 'canary-expired', exp: NOW - 3600, iat: NOW - 4000 } }),
      mint(rsa, { claims: { jti: 'canary-scope' } }),
      mint(rsa, { header: { kid: 'canary-kid' } }),
    ];
    for (const token of canaries) await outcome(handler, { authorization: `Bearer ${token}`, headers: modern('admin_stats') });
    const log = audit.lines.join('\n');
    expect(audit.lines).toHaveLength(3);
    for (const token of canaries) {
      for (const segment of token.split('.')) expect(log).not.toContain(segment);
    }
    expect(log).not.toContain('canary-kid');
  });
});

describe('FAULT-10 cross-request isolation', () => {
  const users = ['alice', 'bob', 'carol'].map((name, i) => ({
    name,
    token: mint(rsa, { claims: { sub: `sub-${name}`, client_id: `client-${name}`, jti: `jti-${name}`, scope: i === 2 ? 'mcp:admin' : 'mcp:tools' } }),
  }));

  test('FAULT-10 interleaved requests from different callers in one container each get only their own context', async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 2, maxLength: 12 }), async (scheduler, order) => {
        const handler = createAuthorizerHandler({
          config: authorizerRoutes(),
          // Every invocation yields at the key lookup, in an order fast-check chooses.
          keys: () => scheduler.schedule(Promise.resolve(keys)),
          clock: () => NOW,
          auditSink: () => undefined,
        });
        const pending = order.map((index) => handler(authorizerEvent({ authorization: `Bearer ${users[index].token}` })));
        await scheduler.waitAll();
        const results = await Promise.all(pending);
        results.forEach((result, i) => {
          const user = users[order[i]];
          expect(result.principalId).toBe(`sub-${user.name}`);
          expect(result.context).toMatchObject({ sub: `sub-${user.name}`, client_id: `client-${user.name}`, jti: `jti-${user.name}` });
        });
      }),
      { numRuns: 100 },
    );
  });

  test('FAULT-10 a decision depends on its own request only: any earlier requests leave it unchanged', () => {
    const config = authorizerConfig();
    const requests: EventOptions[] = [
      ...users.map((user) => ({ authorization: `Bearer ${user.token}`, headers: modern('admin_stats') })),
      ...users.map((user) => ({ authorization: `Bearer ${user.token}` })),
      { authorization: 'Bearer garbage' },
      {},
    ];
    const alone = requests.map((request) => decide(authorizerEvent(request), keys, config, NOW));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: requests.length - 1 }), { maxLength: 30 }), (sequence) => {
        for (const index of sequence) expect(decide(authorizerEvent(requests[index]), keys, config, NOW)).toEqual(alone[index]);
      }),
      { numRuns: 200 },
    );
  });
});

describe('scope model', () => {
  test('the default scope model gives the 401 challenge its scope', () => {
    expect(authorizerConfig().defaultScopes).toEqual(['mcp:tools']);
    expect(authorizerConfig().scopeModel).toEqual(DEFAULT_SCOPE_MODEL);
  });

  test('RS-8 the indexed scope check agrees with satisfiesScopes on any grant and requirement', () => {
    const model: ScopeModel = {
      scopes: [
        { name: 'a', description: 'a', isDefault: true },
        { name: 'b', description: 'b', implies: ['a'] },
        { name: 'c', description: 'c', implies: ['b'] },
        { name: 'd', description: 'd', implies: ['a', 'e'] },
        { name: 'e', description: 'e' },
      ],
      toolScopes: {},
      entitlements: [],
    };
    const satisfies = scopeSatisfier(model);
    const names = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'unknown');
    fc.assert(
      fc.property(fc.array(names, { maxLength: 4 }), fc.array(names, { maxLength: 3 }), (granted, required) => {
        expect(satisfies(granted, required)).toBe(satisfiesScopes(model, granted, required));
      }),
      { numRuns: 500 },
    );
  });
});
