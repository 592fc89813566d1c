/**
 * The environment variables the handlers read: the contract between the construct (and the local
 * stack), which sets them, and each function's loader (lambda/<function>/config.ts), which reads them.
 * Which function gets which variable is lib/functions.ts. Plain data, so both the construct library and
 * the handler bundles import this one definition.
 */
export const ENV = {
  issuer: 'ISSUER',
  /** The scope model of one MCP server: read by the runtime guard in that server's function (and by handlers given no PROTECTED_RESOURCES). */
  scopeModel: 'SCOPE_MODEL',
  /**
   * JSON (lib/protected-resources.ts): every MCP server the authorization server serves, with its path,
   * scope model and authorizer cache TTL. Set on every authorization-server function; without it a
   * handler serves one server at `/mcp` with `SCOPE_MODEL` (the 0.2 configuration).
   */
  protectedResources: 'PROTECTED_RESOURCES',
  clientsTable: 'CLIENTS_TABLE',
  codesTable: 'CODES_TABLE',
  grantsTable: 'GRANTS_TABLE',
  pendingTable: 'PENDING_TABLE',
  consentsTable: 'CONSENTS_TABLE',
  signingKeyArn: 'SIGNING_KEY_ARN',
  signingAlgorithm: 'SIGNING_ALGORITHM',
  /** Comma-separated KMS key ARNs still published in the JWKS after a rotation (besides the signing key). */
  previousSigningKeyArns: 'PREVIOUS_SIGNING_KEY_ARNS',
  accessTokenTtl: 'ACCESS_TOKEN_TTL_SECONDS',
  refreshTokenTtl: 'REFRESH_TOKEN_TTL_SECONDS',
  refreshTokenIdleTtl: 'REFRESH_TOKEN_IDLE_TTL_SECONDS',
  refreshGrace: 'REFRESH_GRACE_SECONDS',
  unusedClientTtl: 'UNUSED_CLIENT_TTL_SECONDS',
  /** Optional cap on registrations per UTC day (a counter item, no Scan). */
  maxRegistrationsPerDay: 'MAX_REGISTRATIONS_PER_DAY',
  allowedRedirectHosts: 'ALLOWED_REDIRECT_HOSTS',
  /** Comma-separated dotless private-use schemes an operator accepts, e.g. `cursor` (off by default: REG-08). */
  extraRedirectSchemes: 'EXTRA_REDIRECT_SCHEMES',
  cimdEnabled: 'CIMD_ENABLED',
  /** JSON list of the operator's machine clients (lib/machine-clients.ts): the token function authenticates them, the metadata function advertises client_credentials when there are any. */
  machineClients: 'MACHINE_CLIENTS',
  /** The upstream OpenID Connect provider users sign in at (authorize handler only). */
  upstreamIssuer: 'UPSTREAM_ISSUER',
  upstreamClientId: 'UPSTREAM_CLIENT_ID',
  /**
   * Secrets Manager `SecretId` of the upstream client secret (read at run time; never the secret
   * itself): its complete ARN, or its name for a secret imported by name (a partial ARN can miss).
   */
  upstreamClientSecretArn: 'UPSTREAM_CLIENT_SECRET_ARN',
  /** Space-separated scopes requested upstream; `openid` is always included. */
  upstreamScopes: 'UPSTREAM_SCOPES',
  /** Budget for all upstream calls of one request (discovery, token, JWKS). */
  upstreamTimeout: 'UPSTREAM_TIMEOUT_SECONDS',
  /** How long a user's consent for a client, redirect URI and scope set is remembered; 0 = always ask. */
  consentTtl: 'CONSENT_TTL_SECONDS',
  /**
   * The longest a sign-in at this authorization server is reused before the user is sent upstream
   * again (never past the upstream ID token's expiry); 0 = every authorization signs in upstream.
   */
  signInSessionTtl: 'SIGN_IN_SESSION_TTL_SECONDS',
} as const;

/** Environment variables of the authorizer function (besides ISSUER, PROTECTED_RESOURCES and SIGNING_ALGORITHM). */
export const AUTHORIZER_ENV = {
  /** A JWKS JSON string with the verification keys, put into the function configuration at deploy time. */
  trustedJwks: 'TRUSTED_JWKS',
  /** A JWKS URL fetched once per container (https, or http on loopback for the local stack). */
  jwksUri: 'JWKS_URI',
  /** Must equal the API Gateway authorizer result TTL: a non-zero value switches the authorizer to cache-safe decisions. */
  cacheTtl: 'AUTHORIZER_CACHE_TTL_SECONDS',
  /** Seconds a token is still accepted past `exp` (and before `nbf`/`iat`); read by the guard too. Default 60. */
  clockTolerance: 'CLOCK_TOLERANCE_SECONDS',
} as const;

/** Environment variables the runtime guard reads in the team's MCP function (besides ISSUER and SCOPE_MODEL). */
export const GUARD_ENV = {
  /** Comma-separated origins allowed to call the MCP endpoint from a browser (RS-10). */
  allowedOrigins: 'MCP_ALLOWED_ORIGINS',
  /** The MCP endpoint's path relative to ISSUER, e.g. `/tools/mcp`: the token audience the guard accepts. Default `/mcp`. */
  resourcePath: 'MCP_RESOURCE_PATH',
} as const;
