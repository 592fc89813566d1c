import { grantState } from '../shared/grant-store';
import { keysFromJwks, pinKeys, VerificationKeys } from '../shared/verification-keys';
import { unverifiedAudience, verifyAccessToken } from '../shared/access-token-verifier';
import { DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../../lib/authorizer-gateway';
import { isConfidential, presentedClient } from './client-authentication';
import { sha256 } from '../shared/crypto';
import type { FormParameters } from '../shared/http';
import { invalidClient, invalidRequest } from '../shared/oauth-error';
import type { KmsJwksProvider } from '../shared/signer';
import { readAuthenticated } from './client-authentication';
import type { TokenDeps } from './exchange';
import { parseRefreshToken } from './issuance';

export interface IntrospectionDeps extends TokenDeps {
  readonly jwks: Pick<KmsJwksProvider, 'jwks'>;
}

const INACTIVE = { active: false } as const;

/**
 * Verification keys built once per JWKS document: the provider returns the same cached document for
 * the container's life, so KeyObjects are not rebuilt on every introspection.
 */
const pinnedByJwks = new WeakMap<object, VerificationKeys>();

async function verificationKeys(deps: IntrospectionDeps): Promise<VerificationKeys> {
  const jwks = await deps.jwks.jwks();
  let keys = pinnedByJwks.get(jwks);
  if (!keys) {
    keys = pinKeys(deps.config.signing.algorithm, keysFromJwks(jwks, deps.config.signing.algorithm));
    pinnedByJwks.set(jwks, keys);
  }
  return keys;
}

/**
 * RFC 7662 introspection, for authenticated confidential clients only. Access tokens are checked with
 * the same verifier as the Lambda authorizer (signature, iss, aud, typ, expiry) and are active only for
 * the client they were issued to, or for a machine client the operator declared with `introspection`
 * (a resource server); refresh tokens are active only for the client they were issued to, while
 * current and not revoked or expired.
 * Anything unknown, expired or revoked is `{"active": false}` and reveals nothing more.
 */
export async function introspect(form: FormParameters, authorization: string | undefined, deps: IntrospectionDeps) {
  const { config, clock } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const token = form.get('token');
  const refresh = token === undefined ? undefined : parseRefreshToken(token);
  const read = await readAuthenticated(presented, { grantId: refresh?.grantId }, deps, now);
  const client = read.client;
  if (!isConfidential(client)) throw invalidClient('introspection_public_client');
  if (token === undefined) throw invalidRequest('token_missing', 'token is required.');

  if (refresh) {
    const grant = read.grant;
    const hash = sha256(token);
    const live = grant && grant.clientId === client.clientId && grantState(grant, now) === 'live' && hash === grant.currentHash;
    if (!live) return INACTIVE;
    return { active: true, token_type: 'refresh_token', client_id: grant.clientId, sub: grant.sub, scope: grant.scope, exp: grant.expiresAt, iss: config.issuer };
  }

  // The audience picks the server whose resource the verifier then requires (MRS-03); an audience no
  // server has is inactive before any signature work.
  // The keys first: they are cached per container, and a KMS outage is a 503 whatever was presented.
  const keys = await verificationKeys(deps);
  const server = config.servers.byResource.get(unverifiedAudience(token) ?? '');
  if (!server) return INACTIVE;
  const verified = verifyAccessToken(token, keys, { issuer: config.issuer, resource: server.resource, clockToleranceSeconds: DEFAULT_CLOCK_TOLERANCE_SECONDS }, now);
  if (!verified.ok || verified.claims.exp <= now) return INACTIVE;
  const { claims } = verified;
  // REV-04: another client's token is none of this caller's business (no validity or revocation
  // oracle), unless the operator designated the caller as a resource server.
  if (claims.clientId !== client.clientId && client.machine?.introspection !== true) return INACTIVE;
  return {
    active: true,
    token_type: 'Bearer',
    client_id: claims.clientId,
    sub: claims.sub,
    scope: claims.scope,
    aud: server.resource,
    iss: config.issuer,
    iat: claims.iat,
    exp: claims.exp,
    jti: claims.jti,
    ...(claims.username ? { username: claims.username } : {}),
  };
}
