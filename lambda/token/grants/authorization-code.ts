import { presentedClient, unauthorizedClient } from '../client-authentication';
import { sha256 } from '../../shared/crypto';
import type { FormParameters } from '../../shared/http';
import { invalidGrant, invalidRequest } from '../../shared/oauth-error';
import { isPkceValue, s256Challenge } from '../../shared/pkce';
import { grantIdForCode, MAX_CODE_FAILURES } from '../../shared/code-store';
import { accessTokenScope, checkResource, issuedAudit, mayRefresh, mint, newRefreshToken, respond } from '../issuance';
import { readAuthenticated } from '../client-authentication';
import type { TokenDeps, TokenResponse } from '../exchange';

/** grant_type=authorization_code (OAuth 2.1 §4.1.3): PKCE, the code's single use, a grant and its refresh-token family. */

/** Our codes and refresh-token secrets are 43 characters; anything far longer is not ours (CODE-07). */
export const MAX_CODE_LENGTH = 256;

/**
 * A client that POSTs the same code twice within this many seconds (ChatGPT does, on a slow first
 * response) is retrying, not replaying: the second request fails without revoking the grant the first
 * one created. Later, a valid redemption is a replay and revokes (CODE-01). docs/SECURITY.md weighs it.
 */
export const CODE_RETRY_WINDOW_SECONDS = 5;

/** authorization_code: one BatchGetItem (code, client, any earlier grant), one KMS Sign, one conditional Put. */
export async function redeemCode(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const { config, stores, clock, audit } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const code = form.get('code');
  if (code === undefined) throw invalidRequest('code_missing', 'code is required.');
  const codeHash = sha256(code.length > MAX_CODE_LENGTH ? code.slice(0, MAX_CODE_LENGTH) : code);
  const grantId = grantIdForCode(codeHash);
  const { code: record, client, grant: earlier } = await readAuthenticated(presented, { codeHash, grantId }, deps, now);
  if (!client.metadata.grant_types.includes('authorization_code')) throw unauthorizedClient('grant_not_registered');

  if (!record || code.length > MAX_CODE_LENGTH) throw invalidGrant('code_unknown');
  if (record.expiresAt <= now) throw invalidGrant('code_expired');
  if (record.failures >= MAX_CODE_FAILURES) throw invalidGrant('code_burned');
  if (record.clientId !== client.clientId) throw invalidGrant('client_mismatch');

  // Failed bindings do not consume the code (OAuth 2.1 §7.5.2) but count towards burning it.
  const bindingFailure = async (reason: string) => {
    await stores.codes.recordFailure(codeHash);
    return invalidGrant(reason);
  };
  if (form.get('redirect_uri') !== record.redirectUri) throw await bindingFailure('redirect_mismatch');
  const verifier = form.get('code_verifier');
  if (verifier === undefined) throw await bindingFailure('pkce_missing');
  if (!isPkceValue(verifier)) throw await bindingFailure('pkce_malformed');
  if (s256Challenge(verifier) !== record.codeChallenge) throw await bindingFailure('pkce_mismatch');
  checkResource(form, record.resource);

  // Every binding holds, yet the code was already redeemed: the same client, with the same verifier.
  // Moments later it is a retry and the first grant stands; after that, a replay that revokes it.
  if (earlier && now - earlier.createdAt < CODE_RETRY_WINDOW_SECONDS) throw invalidGrant('code_retried');
  if (earlier) {
    await stores.grants.revoke(grantId, 'code_replay', now);
    audit('security.code_replay', { client_id: client.clientId, sub: record.sub, grant_id: grantId, severity: 'HIGH' });
    throw invalidGrant('code_replay');
  }

  // Sign first, then commit: a KMS failure leaves the code redeemable (FAULT-03).
  const { token, claims } = await mint(deps, now, {
    resource: record.resource,
    sub: record.sub,
    clientId: client.clientId,
    scope: accessTokenScope(record.scope),
    username: record.username,
  });
  const refreshToken = mayRefresh(client, record) ? newRefreshToken(grantId) : undefined;
  const created = await stores.grants.create({
    grantId,
    clientId: client.clientId,
    sub: record.sub,
    username: record.username,
    scope: record.scope,
    resource: record.resource,
    createdAt: now,
    expiresAt: now + (refreshToken ? config.lifetimes.refreshToken : config.lifetimes.accessToken),
    ...(refreshToken
      ? { currentHash: sha256(refreshToken), idleExpiresAt: now + config.lifetimes.refreshTokenIdle, rotatedAt: now, retiredHashes: [] }
      : {}),
  });
  if (created === 'exists') {
    // A parallel redemption won the race (CODE-02) just now: a retry, so it fails and the winner's grant stands.
    throw invalidGrant('code_retried');
  }
  audit('token.issued', { ...issuedAudit(claims, grantId), grant_type: 'authorization_code', refresh: refreshToken !== undefined });
  return respond(claims, token, refreshToken);
}
