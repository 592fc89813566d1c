import { parseScopeParameter } from '../../lib/scopes';
import { ALLOW_CONTEXT } from '../../lib/authorizer-context';

export { ALLOW_CONTEXT, DENY_CONTEXT } from '../../lib/authorizer-context';

/** Who is calling: what the runtime guard hands the MCP server's tool handlers. Never a token (RS-9). */
export interface McpCaller {
  /**
   * `user`: a person signed in and consented. `machine`: an operator-declared machine client with no
   * user behind it (client_credentials); `sub` is then its client id.
   */
  readonly type: 'user' | 'machine';
  /** The display name: `preferred_username` when the token carries one, else the subject. */
  readonly user: string;
  /** The token subject; for client_credentials tokens this equals the client id. */
  readonly sub: string;
  readonly username?: string;
  readonly clientId: string;
  /** The granted scopes as issued (before the hierarchy is applied). */
  readonly scopes: readonly string[];
  /** The token's `jti`, for correlating logs with the authorization server's. */
  readonly tokenId: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** The token's audience: this MCP server's resource identifier (its exact URL), checked by the guard (MRS-03). */
  readonly resource: string;
  /** The scopes the edge found missing (`scope_denied`): the guard then refuses with 403 naming them. */
  readonly scopeDenied?: readonly string[];
}

function text(context: Readonly<Record<string, unknown>>, key: string): string | undefined {
  const value = context[key];
  if (typeof value === 'string') return value;
  // REST APIs may stringify numbers and booleans; accept them as their string form.
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** Reads the caller from `event.requestContext.authorizer`; undefined unless every required field is present and well formed. */
export function callerFromAuthorizerContext(context: Readonly<Record<string, unknown>> | null | undefined): McpCaller | undefined {
  if (!context || typeof context !== 'object') return undefined;
  const sub = text(context, ALLOW_CONTEXT.sub);
  const clientId = text(context, ALLOW_CONTEXT.clientId);
  const tokenId = text(context, ALLOW_CONTEXT.jti);
  const scope = text(context, ALLOW_CONTEXT.scope) ?? '';
  const expiresAt = Number(text(context, ALLOW_CONTEXT.expiresAt));
  const resource = text(context, ALLOW_CONTEXT.audience);
  if (!sub || !clientId || !tokenId || !resource || !Number.isFinite(expiresAt)) return undefined;
  const scopes = parseScopeParameter(scope);
  if (!scopes) return undefined;
  const username = text(context, ALLOW_CONTEXT.username) || undefined;
  const type = text(context, ALLOW_CONTEXT.callerType) === 'machine' ? 'machine' : 'user';
  const denied = text(context, ALLOW_CONTEXT.scopeDenied);
  const scopeDenied = denied === undefined ? undefined : parseScopeParameter(denied) ?? [];
  return { type, user: username ?? sub, sub, username, clientId, scopes, tokenId, expiresAt, resource, ...(scopeDenied ? { scopeDenied } : {}) };
}

/**
 * The caller in the shape of the MCP SDK's `AuthInfo`, so tool handlers read it from `extra.authInfo`.
 * `token` is always empty: the MCP function never sees the client's token (RS-9).
 */
export interface CallerAuthInfo {
  token: string;
  clientId: string;
  scopes: string[];
  expiresAt?: number;
  extra?: Record<string, unknown>;
}

export function toAuthInfo(caller: McpCaller): CallerAuthInfo {
  return { token: '', clientId: caller.clientId, scopes: [...caller.scopes], expiresAt: caller.expiresAt, extra: { caller } };
}

/** The caller from a tool handler's `extra.authInfo`; undefined when the request did not pass through the guard. */
export function callerFromAuthInfo(authInfo: { extra?: Record<string, unknown> } | undefined): McpCaller | undefined {
  const caller = authInfo?.extra?.caller;
  return caller && typeof caller === 'object' ? (caller as McpCaller) : undefined;
}
