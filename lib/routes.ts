import { DEFAULT_MCP_PATH, protectedResourceMetadataPath } from './protected-resources';
import type { AuthorizationServerFunction } from './functions';

/**
 * The routes manifest: every HTTP route, the handler that serves it and who may call it. The construct
 * builds API Gateway from this list and the local stack serves from it, so the two cannot drift.
 * Paths are relative to the deployment's base path (the stage, or a custom domain's base path).
 */

/** What serves a route: a function of the authorization server (lib/functions.ts), or the MCP server's own. */
export type HandlerName = AuthorizationServerFunction | 'mcp';

/** `public`: anyone; `bearer`: the Lambda authorizer runs first. */
export type RouteAuthorization = 'public' | 'bearer';

export interface Route {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  readonly handler: HandlerName;
  readonly authorization: RouteAuthorization;
  /** Browsers and browser-based clients may read the response cross-origin (metadata only). */
  readonly cors?: boolean;
  /**
   * A discovery probe: the route exists so that a request without a valid token gets the same 401
   * challenge as the real method (clients probe with `HEAD`/`GET` before they POST). With a valid token
   * the handler answers 405 itself, so the method is not listed in `Allow`.
   */
  readonly probe?: boolean;
  /** The MCP server a route belongs to (its MCP path): its endpoint and its protected resource metadata. */
  readonly mcpPath?: string;
}

export const MCP_PATH = DEFAULT_MCP_PATH;
export const PROTECTED_RESOURCE_METADATA_PATH = protectedResourceMetadataPath(MCP_PATH);

/** The routes of one MCP server: its protected resource metadata, and its endpoint behind the authorizer. */
export function mcpServerRoutes(mcpPath: string): { metadata: Route; endpoint: Route[] } {
  return {
    metadata: { method: 'GET', path: protectedResourceMetadataPath(mcpPath), handler: 'metadata', authorization: 'public', cors: true, mcpPath },
    endpoint: [
      { method: 'POST', path: mcpPath, handler: 'mcp', authorization: 'bearer', mcpPath },
      // Gemini CLI re-probes with HEAD and mcp-remote with GET; both must see the challenge to start discovery.
      { method: 'GET', path: mcpPath, handler: 'mcp', authorization: 'bearer', probe: true, mcpPath },
      { method: 'HEAD', path: mcpPath, handler: 'mcp', authorization: 'bearer', probe: true, mcpPath },
    ],
  };
}

/** The authorization server's own routes, whatever MCP servers it serves. */
export const AUTHORIZATION_SERVER_ROUTES: readonly Route[] = [
  // The metadata of the default server (or the only one): what clients try when a challenge names no URL.
  { method: 'GET', path: '/.well-known/oauth-protected-resource', handler: 'metadata', authorization: 'public', cors: true },
  { method: 'GET', path: '/.well-known/oauth-authorization-server', handler: 'metadata', authorization: 'public', cors: true },
  { method: 'GET', path: '/.well-known/openid-configuration', handler: 'metadata', authorization: 'public', cors: true },
  { method: 'GET', path: '/jwks.json', handler: 'metadata', authorization: 'public', cors: true },
  { method: 'POST', path: '/register', handler: 'register', authorization: 'public' },
  { method: 'GET', path: '/register/{client_id}', handler: 'register', authorization: 'public' },
  { method: 'PUT', path: '/register/{client_id}', handler: 'register', authorization: 'public' },
  { method: 'DELETE', path: '/register/{client_id}', handler: 'register', authorization: 'public' },
  { method: 'GET', path: '/authorize', handler: 'authorize', authorization: 'public' },
  { method: 'GET', path: '/callback', handler: 'authorize', authorization: 'public' },
  { method: 'GET', path: '/consent', handler: 'authorize', authorization: 'public' },
  { method: 'POST', path: '/consent', handler: 'authorize', authorization: 'public' },
  { method: 'POST', path: '/token', handler: 'token', authorization: 'public' },
  { method: 'POST', path: '/revoke', handler: 'token', authorization: 'public' },
  { method: 'POST', path: '/introspect', handler: 'token', authorization: 'public' },
];

/** Every route of an authorization server serving the MCP servers at `mcpPaths` (in the order the construct creates them). */
export function routesFor(mcpPaths: readonly string[]): Route[] {
  const servers = mcpPaths.map(mcpServerRoutes);
  return [...servers.map((server) => server.metadata), ...AUTHORIZATION_SERVER_ROUTES, ...servers.flatMap((server) => server.endpoint)];
}

/** The routes of a deployment with one MCP server at `/mcp` (a `SecureMcpServer`). */
export const ROUTES: readonly Route[] = /* @__PURE__ */ routesFor([MCP_PATH]);

/**
 * Whether the routes of one path answer CORS preflights: metadata (`cors`) and the MCP endpoints, which
 * browser-based clients call cross-origin. The construct and the local stack both ask this.
 */
export function answersPreflight(routes: readonly Route[]): boolean {
  return routes.some((route) => route.cors === true || route.authorization === 'bearer');
}

/** The methods a path really serves, as `Allow` names them on a 405 (probes excluded; OPTIONS when it answers preflights). */
export function allowedMethods(routes: readonly Route[]): string[] {
  return [...new Set(routes.filter((route) => !route.probe).map((route) => route.method)), ...(answersPreflight(routes) ? ['OPTIONS'] : [])];
}

/**
 * Request headers browser-based MCP clients send cross-origin (answered by the CORS preflight). `*` admits
 * the `Mcp-Param-<Name>` headers of 2026-07-28, whose names depend on the tools (these responses never
 * allow credentials, so the wildcard applies); `Authorization` must still be named: no wildcard covers it.
 */
export const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'MCP-Protocol-Version', 'Mcp-Method', 'Mcp-Name', 'Mcp-Session-Id', 'Last-Event-ID', '*'];
/** Response headers a browser-based client must be able to read: the challenge above all. */
export const CORS_EXPOSE_HEADERS = ['WWW-Authenticate', 'Mcp-Session-Id'];

/** The bodies API Gateway answers itself: an unknown path under the stage, and another method on a known path. */
export const NOT_FOUND_BODY = { error: 'not_found', error_description: 'No such endpoint.' };
export const METHOD_NOT_ALLOWED_BODY = { error: 'invalid_request', error_description: 'Method not allowed.' };

/** Matches a concrete path against a manifest path with `{param}` segments; returns the parameters or undefined. */
export function matchRoutePath(pattern: string, path: string): Record<string, string> | undefined {
  const patternSegments = pattern.split('/');
  const pathSegments = path.split('/');
  if (patternSegments.length !== pathSegments.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < patternSegments.length; i++) {
    const expected = patternSegments[i];
    const actual = pathSegments[i];
    if (expected.startsWith('{') && expected.endsWith('}')) {
      if (actual.length === 0) return undefined;
      params[expected.slice(1, -1)] = actual;
    } else if (expected !== actual) {
      return undefined;
    }
  }
  return params;
}

/** The manifest route for a method and path, or undefined. */
export function findRoute(method: string, path: string, routes: readonly Route[] = ROUTES): { route: Route; pathParameters: Record<string, string> } | undefined {
  for (const route of routes) {
    if (route.method !== method) continue;
    const pathParameters = matchRoutePath(route.path, path);
    if (pathParameters) return { route, pathParameters };
  }
  return undefined;
}
