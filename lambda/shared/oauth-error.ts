/**
 * An OAuth error answered to the caller. `reason` is the stable internal reason for the audit log
 * (e.g. `pkce_mismatch`); `description` is generic wire text that never echoes input.
 */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly reason: string,
    readonly description?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(`${error}: ${reason}`);
    this.name = 'OAuthError';
  }
}

/** Infrastructure failures (DynamoDB throttling, KMS unavailable) become 503 temporarily_unavailable. */
export class TemporarilyUnavailableError extends Error {
  constructor(readonly dependency: 'dynamodb' | 'kms' | 'upstream' | 'secretsmanager', readonly causeName: string) {
    super(`${dependency} unavailable: ${causeName}`);
    this.name = 'TemporarilyUnavailableError';
  }
}

export const invalidRequest = (reason: string, description = 'The request is malformed.') =>
  new OAuthError(400, 'invalid_request', reason, description);
export const invalidGrant = (reason: string) =>
  new OAuthError(400, 'invalid_grant', reason, 'The grant is invalid, expired, revoked or was issued to another client.');
export const invalidClient = (reason: string) =>
  new OAuthError(401, 'invalid_client', reason, 'Client authentication failed.', { 'WWW-Authenticate': 'Basic realm="token"' });
export const invalidTarget = (reason: string) =>
  new OAuthError(400, 'invalid_target', reason, 'The requested resource is not served by this authorization server.');
export const invalidScope = (reason: string) => new OAuthError(400, 'invalid_scope', reason, 'The requested scope is invalid or exceeds what may be granted.');
export const invalidClientMetadata = (reason: string, description: string) =>
  new OAuthError(400, 'invalid_client_metadata', reason, description);
export const invalidRedirectUri = (reason: string, description: string) =>
  new OAuthError(400, 'invalid_redirect_uri', reason, description);
