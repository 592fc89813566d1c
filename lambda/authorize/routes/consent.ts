import { OFFLINE_ACCESS } from '../../../lib/scopes';
import { constantTimeEqual, isRandomToken, sha256 } from '../../shared/crypto';
import { type HttpEvent, type HttpResult, parseForm, singleHeader } from '../../shared/http';
import { hostForDisplay, redirectDestination } from '../../shared/redirect-uri';
import { type AuthorizingClient, isLocalhostOnly } from '../clients';
import { clearCookie, flowCookieName, readCookie } from '../cookies';
import type { AuthorizeDeps } from '../deps';
import type { AuthorizationRequest, PendingAuthorization } from '../pending-table';
import { issueCode, revalidateClient } from '../issue-code';
import { rememberConsent } from '../remembered-consent';
import { consentPage, type ConsentScope, displayName } from '../pages';
import { QueryParameters } from '../query';
import { errorLocation, PageRefusal, redirect } from '../responses';
import { alreadyDecided, startSignIn } from '../upstream-redirect';
import { scopeModelOf } from '../scopes';

const EXPIRED = 'This sign-in request has expired or is unknown. Start again from the application.';

/** The CSRF token of one pending authorization in one browser: derived, so nothing more is stored. */
const csrfToken = (handle: string, flowSecret: string) => sha256(`consent-csrf:${handle}:${flowSecret}`);

interface LoadedPending {
  readonly handle: string;
  readonly handleHash: string;
  readonly pending: PendingAuthorization;
}

async function loadPending(handle: string | undefined, deps: AuthorizeDeps): Promise<LoadedPending> {
  if (handle === undefined || !isRandomToken(handle)) throw new PageRefusal(400, 'authorize.rejected', 'pending_unknown', EXPIRED);
  const handleHash = sha256(handle);
  const pending = await deps.stores.pendingAuthorizations.get(handleHash, deps.clock());
  if (!pending) throw new PageRefusal(400, 'authorize.rejected', 'pending_unknown', EXPIRED);
  return { handle, handleHash, pending };
}

/** CONS-06: the flow cookie must be present and match; anything else (absent, tampered, another browser's) is refused. */
function flowSecretOf(event: HttpEvent, loaded: LoadedPending, auditEvent: string): string {
  const secret = readCookie(event, flowCookieName(loaded.handleHash));
  if (secret === undefined || !constantTimeEqual(sha256(secret), loaded.pending.browserHash)) {
    throw new PageRefusal(400, auditEvent, 'cookie_mismatch', 'This sign-in request belongs to another browser. Start again from the application.', {
      client_id: loaded.pending.request.clientId,
    });
  }
  return secret;
}

function describeScopes(request: AuthorizationRequest, scope: string, deps: AuthorizeDeps): ConsentScope[] {
  // The descriptions of the server the request is for: the same name on another server may mean something else (MRS-09).
  const descriptions = new Map(scopeModelOf(deps.config.servers, request).scopes.map((definition) => [definition.name, definition.description]));
  descriptions.set(OFFLINE_ACCESS, 'Stay connected without signing in again (a refresh token)');
  return scope
    .split(' ')
    .filter((name) => name.length > 0)
    .map((name) => ({ name, description: descriptions.get(name) ?? name }));
}

function renderConsent(loaded: LoadedPending, client: AuthorizingClient, flowSecret: string, deps: AuthorizeDeps): HttpResult {
  const { request, user } = loaded.pending;
  return consentPage({
    clientName: displayName(client.name),
    clientId: client.clientId,
    metadataDomain: client.source === 'cimd' ? hostForDisplay(client.clientId) : undefined,
    selfRegistered: client.source === 'registered',
    // Private-use schemes (`com.example.app:/cb`) have no host: show the scheme.
    redirectTarget: redirectDestination(request.redirectUri),
    localhostOnly: isLocalhostOnly(client),
    scopes: describeScopes(request, user?.grantedScope ?? request.scope, deps),
    resource: request.resource,
    serviceName: new URL(deps.config.issuer).host,
    signedInAs: user ? (user.username ?? 'your account') : undefined,
    formAction: `${deps.config.issuer}/consent`,
    handle: loaded.handle,
    csrfToken: csrfToken(loaded.handle, flowSecret),
  });
}

/** GET /consent?request=<handle>: the consent page of a pending authorization in this browser. */
export async function showConsent(event: HttpEvent, deps: AuthorizeDeps): Promise<HttpResult> {
  const query = QueryParameters.of(event);
  const loaded = await loadPending(query.repeated('request') ? undefined : query.get('request'), deps);
  const flowSecret = flowSecretOf(event, loaded, 'authorize.rejected');
  const client = await revalidateClient(loaded.pending.request, deps);
  return renderConsent(loaded, client, flowSecret, deps);
}

/**
 * The form must come from our own page. Our pages are served with `Referrer-Policy: no-referrer`, under
 * which browsers send `Origin: null` even for a same-origin form post (Fetch, "serialize a request
 * origin"); so `null`, or no Origin at all, is accepted only with the browser-set
 * `Sec-Fetch-Site: same-origin`. Returns the failure reason, or undefined.
 */
function checkOrigin(event: HttpEvent, ourOrigin: string): string | undefined {
  const origin = singleHeader(event, 'origin');
  if (origin === ourOrigin) return undefined;
  if (origin !== undefined && origin !== 'null') return 'origin_mismatch';
  if (singleHeader(event, 'sec-fetch-site') === 'same-origin') return undefined;
  return origin === undefined ? 'origin_missing' : 'origin_null';
}

/**
 * POST /consent: the user's decision. CSRF defence (CONS-02): the request must come from our page, the flow
 * cookie must match the pending authorization, and the form's token must be the one derived from both.
 * Deny: 303 back with `access_denied` (CONS-04). Approve: on to the upstream sign-in, or (when the
 * user signed in already) the code.
 */
export async function decideConsent(event: HttpEvent, deps: AuthorizeDeps): Promise<HttpResult> {
  const form = parseForm(event);
  const loaded = await loadPending(form.get('request'), deps);
  const { request, user } = loaded.pending;
  const csrfFailure = (reason: string) =>
    new PageRefusal(403, 'consent.csrf_failed', reason, 'This request did not come from the consent page. Start again from the application.', {
      client_id: request.clientId,
    });

  const originFailure = checkOrigin(event, new URL(deps.config.issuer).origin);
  if (originFailure) throw csrfFailure(originFailure);
  const flowSecret = flowSecretOf(event, loaded, 'consent.csrf_failed');
  const presented = form.get('csrf');
  if (presented === undefined || !constantTimeEqual(presented, csrfToken(loaded.handle, flowSecret))) throw csrfFailure('csrf_mismatch');

  const decision = form.get('decision');
  if (decision !== 'approve' && decision !== 'deny') {
    throw new PageRefusal(400, 'authorize.rejected', 'decision_invalid', 'Choose Allow or Deny on the consent page.', { client_id: request.clientId });
  }
  const client = await revalidateClient(request, deps);
  const cleared = [clearCookie(flowCookieName(loaded.handleHash))];
  const consume = () => deps.stores.pendingAuthorizations.consume(loaded.handleHash);

  if (decision === 'deny') {
    if ((await consume()) === 'gone') throw alreadyDecided(request.clientId);
    deps.audit('consent.denied', { client_id: request.clientId, scope: request.scope, ...(user ? { sub: user.sub } : {}) });
    const location = errorLocation(deps.config.issuer, request, 'access_denied', 'The user denied the request.');
    return redirect(location, cleared);
  }

  const granted = () =>
    deps.audit('consent.granted', {
      client_id: request.clientId,
      scope: user?.grantedScope ?? request.scope,
      redirect_host: hostForDisplay(request.redirectUri),
      ...(user ? { sub: user.sub } : {}),
    });
  if (user) {
    if ((await consume()) === 'gone') throw alreadyDecided(request.clientId);
    granted();
    const consentCookies = await rememberConsent(request, user.sub, deps);
    return issueCode(request, user, client, deps, [...cleared, ...consentCookies]);
  }
  const response = await startSignIn(request, { kind: 'approved' }, deps, { consumePending: consume, cookies: cleared });
  granted();
  return response;
}
