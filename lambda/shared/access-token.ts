import { randomToken } from './crypto';
import type { JwtSigner } from './signer';
import { MACHINE_GRANT_CLAIM } from '../../lib/machine-clients';

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

export async function mintAccessToken(
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
