import { OFFLINE_ACCESS } from '../../lib/scopes';
import { MACHINE_GRANT_CLAIM } from '../../lib/machine-clients';
import { isRandomToken, randomToken, sha256 } from '../shared/crypto';
import type { JwtSigner } from '../shared/signer';
import type { FormParameters } from '../shared/http';
import { invalidTarget } from '../shared/oauth-error';
import type { ClientRecord } from '../shared/client-store';
import type { CodeRecord } from '../shared/code-store';
import type { TokenDeps, TokenResponse } from './exchange';

/** RFC 9068 access token claims. `aud` is a single string: the canonical MCP URL. */
export interface AccessTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  client_id: string;
  scope: string;
  iat: number;
  exp: number;
  jti: string;
  preferred_username?: string;
  /** `client_credentials` on tokens obtained without a user (machine clients). */
  gty?: typeof MACHINE_GRANT_CLAIM.value;
}

async function mintAccessToken(
  signer: JwtSigner,
  input: { issuer: string; resource: string; sub: string; clientId: string; scope: string; username?: string; machine?: boolean; now: number; lifetime: number },
): Promise<{ token: string; claims: AccessTokenClaims }> {
  const claims: AccessTokenClaims = {
    iss: input.issuer,
    sub: input.sub,
    aud: input.resource,
    client_id: input.clientId,
    scope: input.scope,
    iat: input.now,
    exp: input.now + input.lifetime,
    jti: randomToken(16),
    ...(input.username ? { preferred_username: input.username } : {}),
    ...(input.machine ? { [MACHINE_GRANT_CLAIM.name]: MACHINE_GRANT_CLAIM.value } : {}),
  };
  return { token: await signer.sign(claims as unknown as Record<string, unknown>, 'at+jwt'), claims };
}

/**
 * What every grant shares once the client is authenticated: the token response, the access token's
 * mint (one KMS Sign), refresh-token format, the resource binding and the issuance audit line.
 */

/** Refresh tokens are `<grant id>.<256 random bits>`: opaque to clients, stored only as a hash. */
export function newRefreshToken(grantId: string): string {
  return `${grantId}.${randomToken(32)}`;
}

export function parseRefreshToken(token: string): { grantId: string } | undefined {
  const [grantId, secret, ...rest] = token.split('.');
  if (rest.length > 0 || !isRandomToken(grantId ?? '') || !isRandomToken(secret ?? '')) return undefined;
  return { grantId };
}

/**
 * RFC 8707 for a code or refresh token: it is bound to the resource it was issued for, so `resource` may
 * be absent or name exactly that resource; another server's is invalid_target (MRS-02, MRS-04).
 */
export function checkResource(form: FormParameters, expected: string): void {
  const resource = form.get('resource');
  if (resource !== undefined && resource !== expected) throw invalidTarget('unknown_resource');
}

export function issuedAudit(claims: AccessTokenClaims, grantId: string | undefined) {
  return {
    client_id: claims.client_id,
    sub: claims.sub,
    grant_id: grantId,
    jti_hash: sha256(claims.jti).slice(0, 22),
    aud: claims.aud,
    scope: claims.scope,
    exp: claims.exp,
  };
}

export function respond(claims: AccessTokenClaims, token: string, refreshToken?: string): TokenResponse {
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: claims.exp - claims.iat,
    scope: claims.scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/** `offline_access` asks for a refresh token; it means nothing to the resource server, so tokens omit it. */
export const accessTokenScope = (scope: string) => scope.split(' ').filter((s) => s && s !== OFFLINE_ACCESS).join(' ');

/**
 * AS-15: every client that registered the `refresh_token` grant gets a refresh token, whether or not
 * it asked for `offline_access`: MCP clients that never ask (the AI SDK, the 1.x SDK) would otherwise
 * send their users back to sign in whenever a token expires. A refresh can never widen the grant: a
 * client that asks for more scope on refresh gets invalid_scope and re-authorizes (step-up). A
 * metadata-document client is known here only through its code, which carries the grants its document
 * listed (REV-12); codes issued before that field existed keep the old rule.
 */
export const mayRefresh = (client: ClientRecord, code?: CodeRecord) => (code?.clientGrantTypes ?? client.metadata.grant_types).includes('refresh_token');

/** One access token for this deployment: our issuer, the configured lifetime, one KMS Sign. */
export function mint(deps: TokenDeps, now: number, subject: { resource: string; sub: string; clientId: string; scope: string; username?: string; machine?: boolean }) {
  return mintAccessToken(deps.signer, { ...subject, issuer: deps.config.issuer, now, lifetime: deps.config.lifetimes.accessToken });
}
