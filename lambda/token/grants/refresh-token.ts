import { formatScopes, parseScopeParameter } from '../../../lib/scopes';
import type { AccessTokenClaims } from '../issuance';
import { presentedClient, unauthorizedClient } from '../client-authentication';
import { sha256 } from '../../shared/crypto';
import type { FormParameters } from '../../shared/http';
import { invalidGrant, invalidRequest, invalidScope } from '../../shared/oauth-error';
import { type GrantRecord, grantState, RETIRED_HASHES_KEPT } from '../../shared/grant-store';
import { accessTokenScope, checkResource, issuedAudit, mayRefresh, mint, newRefreshToken, parseRefreshToken, respond } from '../issuance';
import { readAuthenticated } from '../client-authentication';
import type { TokenDeps, TokenResponse } from '../exchange';

/** grant_type=refresh_token (OAuth 2.1 §4.3): rotation, the grace window, reuse detection. */

/** Narrows the scope of one access token; the grant (and the new refresh token) keep the original (RT-05). */
export function narrowedScope(form: FormParameters, granted: string): string {
  const raw = form.get('scope');
  if (raw === undefined) return granted;
  const requested = parseScopeParameter(raw);
  const held = new Set(granted.split(' ').filter(Boolean));
  if (!requested || requested.some((scope) => !held.has(scope))) throw invalidScope('scope_wider_than_grant');
  return formatScopes(requested);
}

export type RefreshPresentation = 'current' | 'grace' | 'reused' | 'unknown';

export function classify(grant: GrantRecord, hash: string, now: number, graceSeconds: number): RefreshPresentation {
  if (grant.currentHash !== undefined && hash === grant.currentHash) return 'current';
  if (hash === grant.previousHash && grant.rotatedAt !== undefined && now - grant.rotatedAt < graceSeconds) return 'grace';
  if (hash === grant.previousHash || (grant.retiredHashes ?? []).includes(hash)) return 'reused';
  return 'unknown';
}

/**
 * refresh_token: one BatchGetItem (grant, client), one KMS Sign, one conditional Update.
 * Rotation on every use. Grace window (docs/SECURITY.md section 2.1, RT-09): for `refreshGrace` seconds after
 * a rotation, the previous token may be presented again (a response lost in transit); that rotates
 * once more and supersedes the token the lost response carried. Any other retired token is reuse and
 * revokes the family (RT-02). A family never has more than one current token.
 */
export async function refresh(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const { config, stores, clock, audit } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const refreshToken = form.get('refresh_token');
  if (refreshToken === undefined) throw invalidRequest('refresh_token_missing', 'refresh_token is required.');
  const parsed = parseRefreshToken(refreshToken);
  const read = await readAuthenticated(presented, { grantId: parsed?.grantId }, deps, now);
  const client = read.client;
  if (!mayRefresh(client)) throw unauthorizedClient('grant_not_registered');
  let grant = read.grant;
  if (!parsed || !grant) throw invalidGrant('refresh_unknown');
  if (grant.clientId !== client.clientId) throw invalidGrant('client_mismatch');
  const hash = sha256(refreshToken);

  let signed: { token: string; claims: AccessTokenClaims } | undefined;
  // A lost rotation race is retried once with the winner's state (then it is a grace presentation).
  for (let attempt = 0; attempt < 2; attempt++) {
    const state = grantState(grant, now);
    if (state === 'revoked') throw invalidGrant('grant_revoked');
    if (state === 'expired') throw invalidGrant('refresh_expired');
    const presentation = classify(grant, hash, now, config.lifetimes.refreshGrace);
    if (presentation === 'unknown') throw invalidGrant('refresh_unknown');
    // A request that lost a rotation race to a parallel one (same token, same moment) and then finds
    // its token superseded is refused without revoking: a refresh storm is not theft (RT-03). Its
    // token still succeeds at most once in all (REV-06).
    if (presentation === 'reused' && attempt > 0) throw invalidGrant('refresh_race');
    if (presentation === 'reused') {
      await stores.grants.revoke(grant.grantId, 'refresh_reuse', now);
      audit('security.refresh_reuse', { client_id: client.clientId, sub: grant.sub, grant_id: grant.grantId, severity: 'HIGH' });
      throw invalidGrant('refresh_reuse');
    }
    checkResource(form, grant.resource);
    const scope = narrowedScope(form, grant.scope);
    signed ??= await mint(deps, now, {
      resource: grant.resource,
      sub: grant.sub,
      clientId: client.clientId,
      scope: accessTokenScope(scope),
      username: grant.username,
    });
    const next = newRefreshToken(grant.grantId);
    const retire = presentation === 'current' ? hash : grant.currentHash!;
    const rotated = await stores.grants.rotateRefreshToken(grant, {
      currentHash: sha256(next),
      // The grace window admits the previous token once (REV-06): after that retry it is only a
      // retired hash, so presenting it again is reuse and revokes the family.
      previousHash: presentation === 'current' ? hash : undefined,
      retiredHashes: [...(grant.retiredHashes ?? []), retire].slice(-RETIRED_HASHES_KEPT),
      rotatedAt: presentation === 'current' ? now : grant.rotatedAt!,
      idleExpiresAt: Math.min(now + config.lifetimes.refreshTokenIdle, grant.expiresAt),
    });
    if (rotated === 'written') {
      audit('token.refreshed', { ...issuedAudit(signed.claims, grant.grantId), grace: presentation === 'grace' });
      return respond(signed.claims, signed.token, next);
    }
    const latest = await stores.grants.get(grant.grantId);
    if (!latest) throw invalidGrant('refresh_unknown');
    grant = latest;
  }
  throw invalidGrant('refresh_race');
}
