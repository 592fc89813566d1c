/**
 * The environment variable names the handlers read. The source of truth is `ENV` in
 * lambda/shared/config.ts (and `AUTHORIZER_ENV` / `GUARD_ENV` in lambda/runtime/edge.ts, which lib/
 * imports directly). lambda/shared is bundled into the handlers but not shipped as JavaScript in the
 * npm package, so the construct cannot import it at run time; test/infra/environment.test.ts fails
 * when these names drift from `ENV`.
 */
export const HANDLER_ENV = {
  issuer: 'ISSUER',
  scopeModel: 'SCOPE_MODEL',
  clientsTable: 'CLIENTS_TABLE',
  codesTable: 'CODES_TABLE',
  grantsTable: 'GRANTS_TABLE',
  pendingTable: 'PENDING_TABLE',
  consentsTable: 'CONSENTS_TABLE',
  signingKeyArn: 'SIGNING_KEY_ARN',
  signingAlgorithm: 'SIGNING_ALGORITHM',
  previousSigningKeyArns: 'PREVIOUS_SIGNING_KEY_ARNS',
  accessTokenTtl: 'ACCESS_TOKEN_TTL_SECONDS',
  refreshTokenTtl: 'REFRESH_TOKEN_TTL_SECONDS',
  refreshTokenIdleTtl: 'REFRESH_TOKEN_IDLE_TTL_SECONDS',
  unusedClientTtl: 'UNUSED_CLIENT_TTL_SECONDS',
  maxRegistrationsPerDay: 'MAX_REGISTRATIONS_PER_DAY',
  allowedRedirectHosts: 'ALLOWED_REDIRECT_HOSTS',
  extraRedirectSchemes: 'EXTRA_REDIRECT_SCHEMES',
  cimdEnabled: 'CIMD_ENABLED',
  upstreamIssuer: 'UPSTREAM_ISSUER',
  upstreamClientId: 'UPSTREAM_CLIENT_ID',
  upstreamClientSecretArn: 'UPSTREAM_CLIENT_SECRET_ARN',
  upstreamScopes: 'UPSTREAM_SCOPES',
  consentTtl: 'CONSENT_TTL_SECONDS',
} as const;

/** Lambda refuses a function whose environment variables (names and values) exceed 4 KB in total. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
