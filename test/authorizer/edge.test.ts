import { authorizerCaching, authorizerGatewayResponses, DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS, MAX_AUTHORIZER_CACHE_TTL_SECONDS, renderGatewayResponse } from '../../lib/authorizer-gateway';
import { AUTHORIZER_ENV } from '../../lib/environment';
import { insufficientScopeChallenge, invalidTokenChallenge, unauthorizedChallenge } from '../../lib/challenges';
import { authorizerConfig, PRM_URL } from '../support/tokens';

describe('challenges', () => {
  test('RS-2 RS-3 the 401 challenge names the protected resource metadata and the default scopes, with no error', () => {
    expect(unauthorizedChallenge(PRM_URL, ['mcp:tools'])).toBe(`Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"`);
  });

  test('RS-3 scopes in challenges are deduplicated and sorted, so every component sends the same bytes', () => {
    expect(unauthorizedChallenge(PRM_URL, ['b:2', 'a:1', 'b:2'])).toBe(`Bearer resource_metadata="${PRM_URL}", scope="a:1 b:2"`);
  });

  test('RS-7 the 403 challenge carries error, every required scope and resource_metadata', () => {
    expect(insufficientScopeChallenge(PRM_URL, ['mcp:audit', 'mcp:admin'])).toBe(
      `Bearer error="insufficient_scope", scope="mcp:admin mcp:audit", resource_metadata="${PRM_URL}"`,
    );
  });

  test('the guard can say invalid_token when it knows a token was presented', () => {
    expect(invalidTokenChallenge(PRM_URL, ['mcp:tools'])).toBe(`Bearer error="invalid_token", resource_metadata="${PRM_URL}", scope="mcp:tools"`);
  });

  test('a value that would break the quoted-string syntax is refused', () => {
    expect(() => unauthorizedChallenge('https://x.example/"evil', ['mcp:tools'])).toThrow('must not contain quotes');
    expect(() => insufficientScopeChallenge(PRM_URL, ['a\r\nSet-Cookie: x=1'])).toThrow();
  });

  test('an unresolved CDK token (the stage URL at synth time) passes through unchanged', () => {
    const token = '${Token[TOKEN.123]}/.well-known/oauth-protected-resource/mcp';
    expect(unauthorizedChallenge(token, ['mcp:tools'])).toContain(`resource_metadata="${token}"`);
  });
});

describe('gateway responses', () => {
  const [unauthorized, accessDenied] = authorizerGatewayResponses(PRM_URL, ['mcp:tools']);

  test('RS-2 RS-6 UNAUTHORIZED is a 401 with the static challenge as a quoted mapping value', () => {
    expect(unauthorized).toEqual({
      type: 'UNAUTHORIZED',
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': `'Bearer resource_metadata="${PRM_URL}", scope="mcp:tools"'`, 'Cache-Control': "'no-store'" },
      templates: { 'application/json': expect.any(String) },
    });
    expect(JSON.parse(renderGatewayResponse(unauthorized).body)).toEqual({ error: 'unauthorized', error_description: 'A valid bearer access token is required.' });
  });

  test('RS-6 RS-7 ACCESS_DENIED is a 403 whose challenge is mapped from the Deny context', () => {
    expect(accessDenied.statusCode).toBe('403');
    expect(accessDenied.responseHeaders['WWW-Authenticate']).toBe('context.authorizer.www_authenticate');
    const rendered = renderGatewayResponse(accessDenied, {
      error: 'insufficient_scope',
      required_scope: 'mcp:admin',
      www_authenticate: insufficientScopeChallenge(PRM_URL, ['mcp:admin']),
    });
    expect(rendered).toEqual({
      statusCode: 403,
      headers: { 'Content-Type': 'application/json', 'WWW-Authenticate': insufficientScopeChallenge(PRM_URL, ['mcp:admin']), 'Cache-Control': 'no-store' },
      body: '{"error":"insufficient_scope","error_description":"The access token lacks a scope this operation needs.","scope":"mcp:admin"}',
    });
  });

  test('RS-4 offline_access never appears in a challenge built from the scope model', () => {
    const config = authorizerConfig();
    const [rendered] = authorizerGatewayResponses(config.resourceMetadataUrl, config.defaultScopes);
    expect(rendered.responseHeaders['WWW-Authenticate']).not.toContain('offline_access');
  });

  test('a mapping form API Gateway would not understand is refused by the renderer', () => {
    expect(() => renderGatewayResponse({ ...unauthorized, responseHeaders: { X: 'context.authorizer.a-b' } })).toThrow('unsupported');
    expect(() => renderGatewayResponse({ ...unauthorized, responseHeaders: { X: 'integration.response.header.X' } })).toThrow('unsupported');
  });

  test('a static value containing a single quote is refused (it would end the mapping literal)', () => {
    expect(() => authorizerGatewayResponses("https://x.example/it's", ['mcp:tools'])).toThrow('single quote');
  });
});

describe('JWT-21 JWT-18 caching settings', () => {
  test('caching is off by default: no identity sources (a token-less request still reaches the authorizer) and per-tool decisions', () => {
    expect(DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS).toBe(0);
    expect(authorizerCaching()).toEqual({
      resultsCacheTtlSeconds: 0,
      identitySources: [],
      edgeToolScopes: true,
      environment: { [AUTHORIZER_ENV.cacheTtl]: '0' },
    });
  });

  test('JWT-21 opting in keys the cache on the Authorization header alone and turns per-tool edge decisions off', () => {
    const caching = authorizerCaching(120);
    expect(caching).toEqual({
      resultsCacheTtlSeconds: 120,
      identitySources: ['method.request.header.Authorization'],
      edgeToolScopes: false,
      environment: { AUTHORIZER_CACHE_TTL_SECONDS: '120' },
    });
    // Mcp-Method/Mcp-Name cannot be identity sources: API Gateway would 401 every request without them.
    expect(caching.identitySources.join()).not.toMatch(/mcp-/i);
    expect(authorizerConfig({ ...caching.environment }).edgeToolScopes).toBe(false);
  });

  test.each([-1, 1.5, MAX_AUTHORIZER_CACHE_TTL_SECONDS + 1, 3600, Number.NaN])('JWT-18 a TTL of %p is refused: it bounds how long a removed key keeps working', (ttl) => {
    expect(() => authorizerCaching(ttl)).toThrow('between 0 and 300');
  });
});
