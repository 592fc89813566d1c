/**
 * The authorizer context the Lambda authorizer attaches to an allowed request. API Gateway hands it to
 * the MCP function as `event.requestContext.authorizer` (values are strings). Keys may only contain
 * letters, digits and underscores: gateway responses address them as `context.authorizer.<key>`.
 */
export const ALLOW_CONTEXT = {
  sub: 'sub',
  clientId: 'client_id',
  scope: 'scope',
  jti: 'jti',
  username: 'username',
  /** The token's `exp`: lets the guard refuse a cached Allow that outlived its token (docs/AUTHORIZER.md). */
  expiresAt: 'exp',
  /** The operation the edge decided for (2026-07-28+ headers): the API access log traces each call to its tool. */
  mcpMethod: 'mcp_method',
  mcpName: 'mcp_name',
  /** `machine` for a token obtained without a user (client_credentials), `user` otherwise. */
  callerType: 'caller_type',
  /** The token's audience, as the edge verified it: the MCP server the token is for (MRS-03). */
  audience: 'aud',
  /**
   * Set when the edge found a scope missing but let the request on for the guard to answer (per-server
   * challenges): the scopes the operation needs. The guard refuses whenever it is present, whatever its
   * own scope model says, so a refusal never depends on the MCP function's configuration.
   */
  scopeDenied: 'scope_denied',
} as const;

/** The context of the Deny the authorizer returns for an insufficient scope; the ACCESS_DENIED gateway response maps it. */
export const DENY_CONTEXT = {
  /** `insufficient_scope`; with per-server challenges also `invalid_token` or `unauthorized` (no token). */
  error: 'error',
  requiredScope: 'required_scope',
  wwwAuthenticate: 'www_authenticate',
} as const;
