import { presentedClient } from './client-authentication';
import { sha256 } from '../shared/crypto';
import type { FormParameters } from '../shared/http';
import { invalidRequest } from '../shared/oauth-error';
import { readAuthenticated } from './client-authentication';
import type { TokenDeps } from './exchange';
import { parseRefreshToken } from './issuance';

/**
 * RFC 7009 revocation. Revoking a refresh token (current or any remembered earlier one) revokes its
 * whole family. A client can revoke only its own tokens; unknown tokens, other clients' tokens and
 * access tokens (short-lived JWTs, not tracked) all answer 200 so nothing can be probed.
 */
export async function revokeToken(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<void> {
  const now = deps.clock();
  const presented = presentedClient(form, authorization);
  const token = form.get('token');
  if (token === undefined) throw invalidRequest('token_missing', 'token is required.');
  const parsed = parseRefreshToken(token);
  const { client, grant } = await readAuthenticated(presented, { grantId: parsed?.grantId }, deps, now);
  if (!parsed || !grant || grant.clientId !== client.clientId || grant.revokedAt !== undefined) return;
  const hash = sha256(token);
  const known = hash === grant.currentHash || hash === grant.previousHash || (grant.retiredHashes ?? []).includes(hash);
  if (!known) return;
  await deps.stores.grants.revoke(grant.grantId, 'revoked_by_client', now);
  deps.audit('token.revoked', { client_id: client.clientId, sub: grant.sub, grant_id: grant.grantId });
}
