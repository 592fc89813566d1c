import { randomToken, sha256 } from '../shared/crypto';
import { redirectUriMatches } from '../shared/redirect-uri';
import { grantIdForCode } from '../shared/code-store';
import type { HttpResult } from '../shared/http';
import type { AuthorizingClient } from './clients';
import type { AuthorizeDeps } from './deps';
import type { AuthorizationRequest, SignedInUser } from './pending-table';
import { PageRefusal, redirect, responseLocation } from './responses';

/**
 * AZR-18: before anything is redirected or issued from stored flow state, the client and redirect
 * URI are checked against the registry again. A client deleted or changed since the flow began, or
 * a stored value that no longer matches, ends the flow with a page.
 */
export async function revalidateClient(request: AuthorizationRequest, deps: AuthorizeDeps): Promise<AuthorizingClient> {
  const client = await deps.clients(request.clientId, deps.clock());
  if (!client || redirectUriMatches(client.redirectUris, request.redirectUri) !== request.registeredRedirectUri) {
    throw new PageRefusal(400, 'authorize.rejected', 'client_revalidation_failed', 'The application changed while you were signing in. Start again from the application.', {
      client_id: request.clientId,
    });
  }
  return client;
}

/**
 * Issues the authorization code (AZR-16): 256 random bits, stored only as its hash with everything
 * it is bound to, valid 60 s; then 303 to the exact redirect URI with `code`, `state` and `iss`.
 * A registration that completes an authorization stops expiring.
 */
export async function issueCode(
  request: AuthorizationRequest,
  user: SignedInUser,
  client: AuthorizingClient,
  deps: AuthorizeDeps,
  cookies: string[] = [],
): Promise<HttpResult> {
  const now = deps.clock();
  if (client.source === 'registered' && client.unused) await deps.stores.clients.markUsed(client.clientId);
  const code = randomToken(32);
  const codeHash = sha256(code);
  const created = await deps.stores.codes.create({
    codeHash,
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    codeChallenge: request.codeChallenge,
    resource: request.resource,
    scope: user.grantedScope,
    sub: user.sub,
    username: user.username,
    createdAt: now,
    expiresAt: now + deps.config.lifetimes.authorizationCode,
    failures: 0,
    // The token endpoint never fetches the document: the grants it lists travel with the code (REV-12).
    ...(client.source === 'cimd' ? { clientGrantTypes: [...client.grantTypes] } : {}),
  });
  // A collision of 256 random bits does not happen; if it did, the existing code must stay untouched.
  if (created === 'exists') throw new Error('Authorization code collision');
  deps.audit('authorize.code_issued', {
    client_id: request.clientId,
    sub: user.sub,
    scope: user.grantedScope,
    resource: request.resource,
    // The grant the code becomes when redeemed: token.issued carries the same id (AUDIT-03).
    grant_id: grantIdForCode(codeHash),
  });
  return redirect(responseLocation(request.redirectUri, { code, state: request.state, iss: deps.config.issuer }), cookies);
}
