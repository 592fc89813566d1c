import { randomToken, sha256 } from '../shared/crypto';
import type { HttpResult } from '../shared/http';
import { flowCookieName, setCookie } from './cookies';
import type { AuthorizeDeps } from './deps';
import type { AuthorizationRequest, SignedInUser } from './pending-table';
import { redirect } from './responses';

const consentUrl = (issuer: string, handle: string) => `${issuer}/consent?${new URLSearchParams({ request: handle })}`;

/**
 * Parks the request as a pending authorization (hashed handle, at most 10 minutes) bound to this
 * browser by a flow cookie, and sends the browser to the consent page. `user` is set when consent is
 * asked after the upstream sign-in.
 */
export async function askForConsent(request: AuthorizationRequest, user: SignedInUser | undefined, deps: AuthorizeDeps, cookies: string[] = []): Promise<HttpResult> {
  const handle = randomToken(32);
  const flowSecret = randomToken(32);
  const handleHash = sha256(handle);
  const now = deps.clock();
  const lifetime = deps.config.lifetimes.pendingAuthorization;
  // 256 random bits do not collide; if they did, another browser's pending authorization must stay its own.
  if ((await deps.stores.pendingAuthorizations.create({ handleHash, request, user, browserHash: sha256(flowSecret), createdAt: now, expiresAt: now + lifetime })) === 'exists') {
    throw new Error('Pending authorization collision');
  }
  return redirect(consentUrl(deps.config.issuer, handle), [...cookies, setCookie(flowCookieName(handleHash), flowSecret, lifetime)]);
}
