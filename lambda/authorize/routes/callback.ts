import { isRandomToken, sha256 } from '../../shared/crypto';
import type { HttpEvent, HttpResult } from '../../shared/http';
import { askForConsent } from '../ask-consent';
import { clearCookie, readCookie, signInCookieName } from '../cookies';
import { isMachineClientId } from '../../../lib/machine-clients';
import type { AuthorizeDeps } from '../deps';
import type { SignedInUser } from '../pending-table';
import { issueCode, revalidateClient } from '../issue-code';
import { consentSubjectHash, rememberConsent } from '../remembered-consent';
import { QueryParameters } from '../query';
import { errorLocation, PageRefusal, redirect, type ResponseTarget } from '../responses';
import { grantedScope, NOT_ENTITLED, scopeModelOf } from '../scopes';
import { startSession } from '../session';
import { signInParameters, UpstreamFailure, type UpstreamIdentity } from '../upstream';

/** Upstream `state` values are ours: 43 characters. Anything else is not looked up. */
const MAX_USERNAME_LENGTH = 256;

/** UPS-04: the client learns only that access was denied; upstream text is never passed on. */
const UPSTREAM_DENIED = 'The user or the identity provider denied the request.';

const callbackRefused = (reason: string, cookies: string[] = [], fields = {}) =>
  new PageRefusal(400, 'upstream.callback_rejected', reason, 'The sign-in could not be completed. Start again from the application.', fields, cookies);

/**
 * The display name the token carries as `preferred_username`: the provider's user name, or the email
 * address only when the provider says it verified it (REV-11: an unverified email is whatever the user
 * typed, and an MCP server showing or trusting `caller.user` must not be fooled by it). `sub` stays the
 * identity.
 */
export function usernameOf(claims: Readonly<Record<string, unknown>>): string | undefined {
  const usable = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_USERNAME_LENGTH;
  for (const claim of ['preferred_username', 'cognito:username']) {
    if (usable(claims[claim])) return claims[claim] as string;
  }
  return claims.email_verified === true && usable(claims.email) ? claims.email : undefined;
}

/**
 * GET /callback from the upstream provider. The state is looked up by hash, must come with this
 * browser's sign-in cookie, and is consumed before the code is redeemed (UPS-01, UPS-02). Upstream
 * failures never reach the client as upstream text (UPS-04); a slow provider ends within the upstream
 * budget with `temporarily_unavailable` and nothing issued (ROB-09).
 */
export async function finishSignIn(event: HttpEvent, deps: AuthorizeDeps): Promise<HttpResult> {
  const query = QueryParameters.of(event);
  if (query.repeated('state')) throw callbackRefused('state_repeated');
  const state = query.get('state');
  if (state === undefined) throw callbackRefused('state_missing');
  if (!isRandomToken(state)) throw callbackRefused('state_unknown');
  const stateHash = sha256(state);
  const cookieName = signInCookieName(stateHash);
  const cleared = [clearCookie(cookieName)];
  const signIn = await deps.stores.signIns.get(stateHash, deps.clock());
  if (!signIn) throw callbackRefused('state_unknown', cleared);
  const clientId = signIn.request.clientId;
  const cookieSecret = readCookie(event, cookieName);
  if (cookieSecret === undefined || sha256(cookieSecret) !== signIn.browserHash) {
    throw callbackRefused('cookie_mismatch', [], { client_id: clientId });
  }
  if ((await deps.stores.signIns.consume(stateHash)) === 'gone') throw callbackRefused('state_replayed', cleared, { client_id: clientId });
  const client = await revalidateClient(signIn.request, deps);
  const target: ResponseTarget = { redirectUri: signIn.request.redirectUri, state: signIn.request.state };
  const toClient = (error: string, description: string, cookies = cleared) => redirect(errorLocation(deps.config.issuer, target, error, description), cookies);

  let identity: UpstreamIdentity;
  try {
    identity = await deps.upstream.completeSignIn(query.toSearchParams(), signInParameters(state, cookieSecret));
  } catch (error) {
    if (!(error instanceof UpstreamFailure)) throw error;
    const fields = { reason: error.reason, client_id: clientId };
    switch (error.kind) {
      case 'denied':
        deps.audit('upstream.error', fields);
        return toClient('access_denied', UPSTREAM_DENIED);
      case 'timeout':
      case 'unavailable':
        deps.audit(error.kind === 'timeout' ? 'upstream.timeout' : 'upstream.unavailable', fields);
        return toClient('temporarily_unavailable', 'The identity provider is not available. Try again shortly.');
      case 'id_token':
        throw new PageRefusal(400, 'upstream.id_token_invalid', error.reason, 'The identity provider\'s answer could not be verified.', { client_id: clientId }, cleared);
      case 'callback':
        if (error.reason === 'iss') {
          throw new PageRefusal(400, 'upstream.id_token_invalid', 'callback_iss', 'The identity provider\'s answer could not be verified.', { client_id: clientId }, cleared);
        }
        throw callbackRefused(error.reason, cleared, { client_id: clientId });
      case 'token_endpoint':
        throw new PageRefusal(400, 'upstream.error', `token_endpoint_${error.reason}`, 'The identity provider did not complete the sign-in.', { client_id: clientId }, cleared);
    }
  }

  // REV-02: a user can never look like a machine client, whose tokens' sub is its `machine.<name>` id.
  if (isMachineClientId(identity.sub)) {
    throw new PageRefusal(400, 'upstream.callback_rejected', 'machine_subject', 'This account cannot sign in here.', { client_id: clientId }, cleared);
  }
  const model = scopeModelOf(deps.config.servers, signIn.request);
  const username = usernameOf(identity.claims);
  // MRS-10: the sign-in itself succeeded, whatever this server grants: later authorizations from this
  // browser, for any server here, reuse it instead of the upstream.
  const cookies = [...cleared, ...(await startSession(identity, username, deps))];
  const scope = grantedScope(model, signIn.request.scope, identity.claims);
  if (scope === undefined) {
    deps.audit('authorize.rejected', { reason: 'scope_not_entitled', client_id: clientId, sub: identity.sub });
    return toClient('access_denied', NOT_ENTITLED, cookies);
  }
  const user: SignedInUser = { sub: identity.sub, username, grantedScope: scope };

  if (signIn.consent.kind === 'approved') {
    const consentCookies = await rememberConsent(signIn.request, user.sub, deps);
    return issueCode(signIn.request, user, client, deps, [...cookies, ...consentCookies]);
  }
  const remembered = await deps.stores.consents.get(signIn.consent.consentId, deps.clock());
  if (remembered && remembered.subjectHash === consentSubjectHash(user.sub)) {
    return issueCode(signIn.request, user, client, deps, cookies);
  }
  // The consent remembered in this browser belongs to someone else (or just expired): ask this user.
  deps.audit('consent.required', { reason: remembered ? 'other_user' : 'consent_expired', client_id: clientId, sub: user.sub });
  return askForConsent(signIn.request, user, deps, cookies);
}
