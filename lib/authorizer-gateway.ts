import { formatScopes } from './scopes';
import { DENY_CONTEXT } from './authorizer-context';
import { insufficientScopeChallenge, invalidTokenChallenge, unauthorizedChallenge } from './challenges';
import { AUTHORIZER_ENV } from './environment';
import { integer, type VariableReader } from './environment-reader';

/**
 * The contract between the Lambda authorizer and API Gateway: the gateway responses that turn the
 * authorizer's outcomes into MCP-conformant 401/403 answers, and the caching settings that keep cached
 * decisions safe. Plain data, so the construct (lib/) and the local stack build from the same values.
 * docs/AUTHORIZER.md explains every choice.
 */

/**
 * Clock tolerance for `exp`, `nbf` and `iat`, in seconds, shared by the authorizer, introspection and
 * the guard. 60 s matches the catalogue anchors (JWT-07/08, FAULT-05): `nbf`/`iat` 8 s ahead are
 * accepted, 61 s ahead refused; `exp` 59 s ago accepted, 61 s ago refused.
 */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 60;

/** Reads the clock tolerance shared by the authorizer and the guard: 0 to 300 seconds, default {@link DEFAULT_CLOCK_TOLERANCE_SECONDS}. */
export function clockToleranceFromEnv(env: VariableReader<typeof AUTHORIZER_ENV.clockTolerance>, fallback = DEFAULT_CLOCK_TOLERANCE_SECONDS): number {
  return integer(env, AUTHORIZER_ENV.clockTolerance, fallback, 0, 300);
}

/** Caching is off unless a team opts in: every request is then decided on its own headers, per tool. */
export const DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS = 0;
/** Upper bound on the opt-in TTL: it bounds how long a removed signing key keeps working (JWT-20). */
export const MAX_AUTHORIZER_CACHE_TTL_SECONDS = 300;

const AUTHORIZATION_IDENTITY_SOURCE = 'method.request.header.Authorization';

export interface AuthorizerCaching {
  /** API Gateway `authorizerResultTtlInSeconds`. */
  readonly resultsCacheTtlSeconds: number;
  /**
   * API Gateway identity sources (mapping expressions). With caching on, API Gateway requires every one
   * of them (a request missing one gets 401 without invoking the authorizer) and caches per their values.
   */
  readonly identitySources: readonly string[];
  /** Whether the authorizer decides per tool from `Mcp-Method`/`Mcp-Name`; never when a decision is cached. */
  readonly edgeToolScopes: boolean;
  /** Set on the authorizer function so its decisions match the cache. */
  readonly environment: Readonly<Record<string, string>>;
}

/**
 * How to wire the authorizer for a result TTL. TTL 0: no identity sources, so a request without a token
 * still reaches the authorizer (and is audited), and decisions use the per-tool headers. TTL > 0: the
 * cache key is the Authorization header alone, so the authorizer must decide on the token alone; the
 * runtime guard enforces per-tool scopes and the token's expiry on every request.
 */
export function authorizerCaching(ttlSeconds: number = DEFAULT_AUTHORIZER_CACHE_TTL_SECONDS): AuthorizerCaching {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > MAX_AUTHORIZER_CACHE_TTL_SECONDS) {
    throw new Error(`authorizer cache TTL must be a whole number of seconds between 0 and ${MAX_AUTHORIZER_CACHE_TTL_SECONDS}, got ${ttlSeconds}`);
  }
  const cached = ttlSeconds > 0;
  return {
    resultsCacheTtlSeconds: ttlSeconds,
    identitySources: cached ? [AUTHORIZATION_IDENTITY_SOURCE] : [],
    edgeToolScopes: !cached,
    environment: { [AUTHORIZER_ENV.cacheTtl]: String(ttlSeconds) },
  };
}

/**
 * One API Gateway gateway response. `responseHeaders` maps a header name to an API Gateway mapping
 * expression: a single-quoted static value or `context.authorizer.<key>` (the keys of the authorizer's
 * Deny context). Templates are not VTL: API Gateway only substitutes `$context` variables in them.
 */
export interface GatewayResponseDefinition {
  readonly type: 'UNAUTHORIZED' | 'ACCESS_DENIED';
  readonly statusCode: '401' | '403';
  readonly responseHeaders: Readonly<Record<string, string>>;
  readonly templates: Readonly<Record<string, string>>;
}

function staticValue(value: string): string {
  if (value.includes("'")) throw new Error(`a static gateway response value must not contain a single quote: ${value}`);
  return `'${value}'`;
}

/**
 * The two gateway responses the authorizer relies on (RS-2, RS-3, RS-6, RS-7):
 * - UNAUTHORIZED (the authorizer threw `Unauthorized`, or API Gateway refused a request missing an
 *   identity source): static, so it cannot say `error="invalid_token"`.
 * - ACCESS_DENIED (the authorizer returned an explicit Deny for an insufficient scope): the challenge is
 *   computed per request by the authorizer and mapped from its Deny context.
 */
export function authorizerGatewayResponses(resourceMetadataUrl: string, defaultScopes: readonly string[]): GatewayResponseDefinition[] {
  const json = 'application/json';
  return [
    {
      type: 'UNAUTHORIZED',
      statusCode: '401',
      responseHeaders: {
        'WWW-Authenticate': staticValue(unauthorizedChallenge(resourceMetadataUrl, defaultScopes)),
        'Cache-Control': staticValue('no-store'),
      },
      templates: { [json]: '{"error":"unauthorized","error_description":"A valid bearer access token is required."}' },
    },
    {
      type: 'ACCESS_DENIED',
      statusCode: '403',
      responseHeaders: {
        'WWW-Authenticate': `context.authorizer.${DENY_CONTEXT.wwwAuthenticate}`,
        'Cache-Control': staticValue('no-store'),
      },
      templates: {
        [json]: `{"error":"$context.authorizer.${DENY_CONTEXT.error}","error_description":"The access token lacks a scope this operation needs.","scope":"$context.authorizer.${DENY_CONTEXT.requiredScope}"}`,
      },
    },
  ];
}

/**
 * The two gateway responses with per-server challenges (`challenges: authorizer`, several MCP servers on
 * one API). API Gateway has one response per type and API, so the static UNAUTHORIZED cannot name a
 * server; every refusal the authorizer makes is therefore an explicit Deny carrying its server's
 * challenge, mapped by ACCESS_DENIED as the 401. UNAUTHORIZED remains for what API Gateway refuses by
 * itself (a server with a result cache and a request without Authorization): a bare `Bearer`
 * challenge, after which MCP clients look for the metadata at the well-known URLs (MRS-07).
 */
export function perServerGatewayResponses(): GatewayResponseDefinition[] {
  const json = 'application/json';
  return [
    {
      type: 'UNAUTHORIZED',
      statusCode: '401',
      responseHeaders: { 'WWW-Authenticate': staticValue('Bearer'), 'Cache-Control': staticValue('no-store') },
      templates: { [json]: '{"error":"unauthorized","error_description":"A valid bearer access token is required."}' },
    },
    {
      type: 'ACCESS_DENIED',
      statusCode: '401',
      responseHeaders: {
        'WWW-Authenticate': `context.authorizer.${DENY_CONTEXT.wwwAuthenticate}`,
        'Cache-Control': staticValue('no-store'),
      },
      templates: { [json]: `{"error":"$context.authorizer.${DENY_CONTEXT.error}","error_description":"A valid bearer access token for this MCP server is required."}` },
    },
  ];
}

export interface RenderedGatewayResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/**
 * Renders a gateway response the way API Gateway does, for the local stack and the tests. Supports
 * exactly the mapping forms used above and refuses any other, so a definition the local stack cannot
 * reproduce fails loudly instead of drifting from AWS.
 */
export function renderGatewayResponse(definition: GatewayResponseDefinition, authorizerContext: Readonly<Record<string, string>> = {}): RenderedGatewayResponse {
  const fromContext = (key: string) => (Object.hasOwn(authorizerContext, key) ? authorizerContext[key] : '');
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  for (const [name, expression] of Object.entries(definition.responseHeaders)) {
    const staticMatch = /^'([^']*)'$/.exec(expression);
    const contextMatch = /^context\.authorizer\.([A-Za-z0-9_]+)$/.exec(expression);
    if (staticMatch) headers[name] = staticMatch[1];
    else if (contextMatch) headers[name] = fromContext(contextMatch[1]);
    else throw new Error(`unsupported gateway response mapping expression: ${expression}`);
  }
  const template = definition.templates['application/json'] ?? '';
  const body = template.replace(/\$context\.authorizer\.([A-Za-z0-9_]+)/g, (_match, key: string) => fromContext(key));
  return { statusCode: Number(definition.statusCode), headers, body };
}

/**
 * The Deny context of a refused token with per-server challenges: this server's 401 challenge, with
 * `error="invalid_token"` when a token was presented (RFC 6750 §3.1: none when there was no token).
 */
export function unauthorizedDenyContext(resourceMetadataUrl: string, defaultScopes: readonly string[], tokenPresented: boolean): Record<string, string> {
  return {
    [DENY_CONTEXT.error]: tokenPresented ? 'invalid_token' : 'unauthorized',
    [DENY_CONTEXT.wwwAuthenticate]: tokenPresented ? invalidTokenChallenge(resourceMetadataUrl, defaultScopes) : unauthorizedChallenge(resourceMetadataUrl, defaultScopes),
  };
}

/** The Deny context for an insufficient scope: exactly what the ACCESS_DENIED response above maps. */
export function insufficientScopeDenyContext(resourceMetadataUrl: string, requiredScopes: readonly string[]): Record<string, string> {
  return {
    [DENY_CONTEXT.error]: 'insufficient_scope',
    [DENY_CONTEXT.requiredScope]: formatScopes(requiredScopes),
    [DENY_CONTEXT.wwwAuthenticate]: insufficientScopeChallenge(resourceMetadataUrl, requiredScopes),
  };
}
