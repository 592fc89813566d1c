import type { Consumption } from '../shared/dynamo';
import { randomToken, sha256 } from '../shared/crypto';
import type { HttpResult } from '../shared/http';
import { TemporarilyUnavailableError } from '../shared/oauth-error';
import { setCookie, signInCookieName } from './cookies';
import type { AuthorizeDeps } from './deps';
import type { AuthorizationRequest, ConsentBasis } from './pending-table';
import { PageRefusal, redirect } from './responses';
import { signInParameters, UpstreamFailure } from './upstream';

/**
 * Starts the upstream sign-in after consent (AS-18, AS-21, UPS-03): a fresh random `state` (single
 * use, 10 minutes) is stored only now, bound to this browser by a new sign-in cookie from which the
 * upstream PKCE verifier and nonce are derived. The URL is built first, so a provider that cannot be
 * reached leaves the pending authorization untouched; `consumePending` then makes the decision single-use.
 */
export async function startSignIn(
  request: AuthorizationRequest,
  consent: ConsentBasis,
  deps: AuthorizeDeps,
  options: { consumePending?: () => Promise<Consumption>; cookies?: string[] } = {},
): Promise<HttpResult> {
  const state = randomToken(32);
  const cookieSecret = randomToken(32);
  const stateHash = sha256(state);
  let location: string;
  try {
    location = await deps.upstream.authorizationUrl(signInParameters(state, cookieSecret));
  } catch (error) {
    if (!(error instanceof UpstreamFailure)) throw error;
    deps.audit(error.kind === 'timeout' ? 'upstream.timeout' : 'upstream.unavailable', { reason: error.reason, client_id: request.clientId });
    throw new TemporarilyUnavailableError('upstream', error.reason);
  }
  if (options.consumePending && (await options.consumePending()) === 'gone') throw alreadyDecided(request.clientId);
  const now = deps.clock();
  const lifetime = deps.config.lifetimes.pendingAuthorization;
  // 256 random bits do not collide; if they did, another flow's state must not be taken over.
  if ((await deps.stores.signIns.create({ stateHash, request, browserHash: sha256(cookieSecret), consent, createdAt: now, expiresAt: now + lifetime })) === 'exists') {
    throw new Error('Upstream state collision');
  }
  return redirect(location, [...(options.cookies ?? []), setCookie(signInCookieName(stateHash), cookieSecret, lifetime)]);
}

export const alreadyDecided = (clientId: string) =>
  new PageRefusal(400, 'authorize.rejected', 'pending_consumed', 'This request was already answered. Start again from the application.', { client_id: clientId });
