import { CimdError } from '../../shared/cimd';
import { sha256 } from '../../shared/crypto';
import type { HttpEvent, HttpResult } from '../../shared/http';
import { isPkceValue } from '../../shared/pkce';
import { MAX_REDIRECT_URI_LENGTH, redirectDestination, redirectUriMatches } from '../../shared/redirect-uri';
import type { AuthorizingClient } from '../clients';
import { askForConsent } from '../ask-consent';
import { consentCookieName, readCookie } from '../cookies';
import type { AuthorizeDeps } from '../deps';
import type { RememberedConsent } from '../consent-store';
import type { AuthorizationRequest, SignedInUser, SignInSession } from '../pending-table';
import { issueCode } from '../issue-code';
import { consentSubjectHash } from '../remembered-consent';
import { errorPage } from '../pages';
import { QueryParameters } from '../query';
import { errorLocation, PageRefusal, type ResponseTarget } from '../responses';
import { grantedScope, scopeModelOf, scopesToAsk, NOT_ENTITLED } from '../scopes';
import { currentSession } from '../session';
import { serverFor } from '../../shared/config';
import { startSignIn } from '../upstream-redirect';

/** Parameters OAuth 2.1 forbids repeating (AZR-09); unknown extras are ignored (AZR-11). */
const SINGLE_VALUED = ['response_type', 'state', 'scope', 'code_challenge', 'code_challenge_method', 'resource', 'response_mode'];
/** A longer state is refused rather than echoed (AZR-14): the Location header has to fit API Gateway's limits. */
const MAX_STATE_LENGTH = 4096;
/** Our client ids are 22 characters and metadata document URLs at most 512: longer is not looked up. */
const MAX_CLIENT_ID_LENGTH = 512;
/** The same challenge this many times in an hour from one client is reported (PKCE-10). */
const CONSTANT_CHALLENGE_THRESHOLD = 3;

/** A refusal answered to the client's redirect URI (through the interstitial page, REV-03). */
interface RedirectRefusal {
  readonly error: string;
  readonly reason: string;
  readonly description: string;
  /** False when the state itself is suspect (repeated or oversized): it is not echoed. */
  readonly echoState: boolean;
}

const refusal = (error: string, reason: string, description: string, echoState = true): RedirectRefusal => ({ error, reason, description, echoState });

const UNKNOWN_CLIENT = 'The application is not known to this server.';
const UNTRUSTED_REDIRECT = 'The application asked to return to an address it has not registered, so this request was stopped.';

/** True when the authority holds userinfo, e.g. `http://localhost:80@evil.example/cb` (AZR-07, CVE-2024-8883). */
function hasUserinfo(uri: string): boolean {
  const start = uri.indexOf('//');
  if (start === -1) return false;
  const rest = uri.slice(start + 2);
  const end = rest.search(/[/?#]/);
  return (end === -1 ? rest : rest.slice(0, end)).includes('@');
}

/**
 * AS-11: the client and the redirect URI are validated before anything may redirect. Any failure
 * here is an HTML page (AZR-01..08, SSRF-06); the returned target is safe to redirect to.
 */
async function clientAndRedirect(query: QueryParameters, deps: AuthorizeDeps): Promise<{ client: AuthorizingClient; target: ResponseTarget; registered: string }> {
  const page = (reason: string, message: string, clientId?: string) =>
    new PageRefusal(400, 'authorize.rejected', reason, message, clientId ? { client_id: clientId } : {});
  if (query.repeated('client_id')) throw page('duplicate_client_id', UNKNOWN_CLIENT);
  const clientId = query.get('client_id');
  if (clientId === undefined || clientId.length > MAX_CLIENT_ID_LENGTH) throw page('unknown_client', UNKNOWN_CLIENT);
  let client: AuthorizingClient | undefined;
  try {
    client = await deps.clients(clientId, deps.clock());
  } catch (error) {
    if (error instanceof CimdError) {
      throw new PageRefusal(400, 'cimd.fetch_refused', error.cimdReason, UNKNOWN_CLIENT, { client_id: clientId, detail: error.detail });
    }
    throw error;
  }
  if (!client) throw page('unknown_client', UNKNOWN_CLIENT);

  if (query.repeated('redirect_uri')) throw page('duplicate_redirect_uri', UNTRUSTED_REDIRECT, clientId);
  const requested = query.get('redirect_uri');
  // Required even with one registered URI: the token endpoint compares it, and clients always send it.
  if (requested === undefined) throw page('redirect_uri_missing', 'The application did not say where to return to.', clientId);
  if (requested.length > MAX_REDIRECT_URI_LENGTH) throw page('redirect_mismatch', UNTRUSTED_REDIRECT, clientId);
  const registered = redirectUriMatches(client.redirectUris, requested);
  if (registered === undefined) throw page(hasUserinfo(requested) ? 'userinfo' : 'redirect_mismatch', UNTRUSTED_REDIRECT, clientId);
  return { client, target: { redirectUri: requested }, registered };
}

/** Everything after the redirect URI is trusted: errors from here on go back to the client (AS-7). */
function checkParameters(
  query: QueryParameters,
  client: AuthorizingClient,
  deps: AuthorizeDeps,
): { ok: true; state?: string; codeChallenge: string; resource: string; scope: string } | { ok: false; refusal: RedirectRefusal } {
  const fail = (r: RedirectRefusal) => ({ ok: false as const, refusal: r });
  const repeated = query.firstRepeated(SINGLE_VALUED);
  if (repeated === 'resource') return fail(refusal('invalid_target', 'multiple_resources', 'Only one resource may be requested.', false));
  if (repeated) return fail(refusal('invalid_request', `duplicate_${repeated}`, 'A parameter was repeated.', false));
  const state = query.get('state');
  if (state !== undefined && state.length > MAX_STATE_LENGTH) return fail(refusal('invalid_request', 'state_too_long', 'The state parameter is too long.', false));

  const responseType = query.get('response_type');
  if (responseType === undefined) return fail(refusal('invalid_request', 'response_type_missing', 'response_type is required.'));
  if (responseType !== 'code') return fail(refusal('unsupported_response_type', 'unsupported_response_type', 'Only response_type=code is supported.'));
  if (!client.grantTypes.includes('authorization_code') || !client.responseTypes.includes('code')) {
    return fail(refusal('unauthorized_client', 'grant_not_registered', 'This client may not use the authorization code flow.'));
  }
  const responseMode = query.get('response_mode');
  if (responseMode !== undefined && responseMode !== 'query') {
    return fail(refusal('invalid_request', 'response_mode_unsupported', 'Only response_mode=query is supported.'));
  }

  // AS-1: PKCE with S256 for every client; `plain`, and a challenge without a method (plain by default), are refused.
  const codeChallenge = query.get('code_challenge');
  const method = query.get('code_challenge_method');
  if (codeChallenge === undefined) return fail(refusal('invalid_request', 'pkce_missing', 'code_challenge is required (PKCE, S256).'));
  if (method === undefined) return fail(refusal('invalid_request', 'pkce_method_missing', 'code_challenge_method=S256 is required.'));
  if (method === 'plain') return fail(refusal('invalid_request', 'pkce_plain', 'code_challenge_method=plain is not allowed; use S256.'));
  if (method !== 'S256') return fail(refusal('invalid_request', 'pkce_method_unsupported', 'Only code_challenge_method=S256 is supported.'));
  if (!isPkceValue(codeChallenge)) return fail(refusal('invalid_request', 'pkce_malformed', 'code_challenge is malformed.'));

  // AS-17 / RFC 8707: one of the MCP servers served here; absent means the default server, if there is one (MRS-06).
  const requested = query.get('resource');
  const server = serverFor(deps.config.servers, requested);
  if (!server) {
    return requested === undefined
      ? fail(refusal('invalid_target', 'resource_required', 'This authorization server serves several MCP servers: name one with the resource parameter.'))
      : fail(refusal('invalid_target', 'unknown_resource', 'The requested resource is not served by this authorization server.'));
  }

  // Scopes mean what this server's model says (MRS-09): another server's scope name is unknown here.
  const asked = scopesToAsk(server.scopeModel, query.get('scope'));
  if (!asked.ok) return fail(refusal('invalid_scope', asked.reason, 'The requested scope is invalid or not available to this application.'));
  return { ok: true, state, codeChallenge, resource: server.resource, scope: asked.scope };
}

/** The interstitial of an authorization error (REV-03): never an automatic redirect, the user sees where the link goes. */
function refusalPage(r: RedirectRefusal, redirectUri: string, state: string | undefined, clientId: string, deps: AuthorizeDeps, fields: Record<string, unknown> = {}): HttpResult {
  deps.audit('authorize.rejected', { reason: r.reason, client_id: clientId, error: r.error, ...fields });
  const location = errorLocation(deps.config.issuer, { redirectUri, state: r.echoState ? state : undefined }, r.error, r.description);
  return errorPage(400, r.description, { returnLink: { href: location, destination: redirectDestination(redirectUri) } });
}

/** A remembered consent covers a request only for the same client, MCP server (MRS-08), registered redirect URI and scope set. */
const covers = (remembered: RememberedConsent, request: AuthorizationRequest) =>
  remembered.clientId === request.clientId &&
  // A record without a resource (written before several servers existed) covers nothing.
  remembered.resource === request.resource &&
  remembered.redirectUri === request.registeredRedirectUri &&
  remembered.scope === request.scope;

/**
 * MRS-10: this browser signed in here before, so the user is known and nothing goes upstream. The
 * grant is computed as at the callback, with this server's model from the session's claims; a
 * remembered consent counts only if it is this user's (and for this server); otherwise this user is
 * asked, and approving issues the code.
 */
async function authorizeSignedIn(
  request: AuthorizationRequest,
  client: AuthorizingClient,
  session: SignInSession,
  consent: { cookie: boolean; remembered?: RememberedConsent },
  deps: AuthorizeDeps,
): Promise<HttpResult> {
  const scope = grantedScope(scopeModelOf(deps.config.servers, request), request.scope, session.claims);
  if (scope === undefined) {
    // No user action yet on our pages: the interstitial, as for every other refusal here (REV-03).
    return refusalPage(refusal('access_denied', 'scope_not_entitled', NOT_ENTITLED), request.redirectUri, request.state, client.clientId, deps, { sub: session.sub });
  }
  const user: SignedInUser = { sub: session.sub, username: session.username, grantedScope: scope };
  deps.audit('signin.session_reused', { client_id: client.clientId, sub: user.sub, resource: request.resource });
  const { remembered } = consent;
  if (remembered && remembered.subjectHash === consentSubjectHash(user.sub)) {
    deps.audit('consent.remembered', { client_id: client.clientId, scope: request.scope, sub: user.sub });
    return issueCode(request, user, client, deps);
  }
  const reason = remembered ? 'other_user' : consent.cookie ? 'consent_changed' : 'new_client';
  deps.audit('consent.required', { reason, client_id: client.clientId, sub: user.sub });
  return askForConsent(request, user, deps);
}

/**
 * GET /authorize: validate, then either the consent page (via a pending authorization) or, with
 * remembered consent, the upstream sign-in; with a sign-in session, no upstream at all.
 */
export async function authorize(event: HttpEvent, deps: AuthorizeDeps): Promise<HttpResult> {
  const query = QueryParameters.of(event);
  const { client, target, registered } = await clientAndRedirect(query, deps);
  const checked = checkParameters(query, client, deps);
  if (!checked.ok) {
    // REV-03 (RFC 9700 §4.11.2): never an automatic redirect. Every client here registered itself (or
    // is a metadata document), and anyone can complete an authorization with an account of their own,
    // so no client earns the trust that would make this server a safe bounce to its redirect URI. The
    // user sees the destination and may follow the link; the application still gets its error.
    return refusalPage(checked.refusal, target.redirectUri, query.get('state'), client.clientId, deps);
  }

  const request: AuthorizationRequest = {
    clientId: client.clientId,
    redirectUri: target.redirectUri,
    registeredRedirectUri: registered,
    state: checked.state,
    codeChallenge: checked.codeChallenge,
    resource: checked.resource,
    scope: checked.scope,
  };
  const now = deps.clock();
  const uses = await deps.stores.challenges.count(sha256(`${client.clientId}\n${checked.codeChallenge}`), now);
  if (uses >= CONSTANT_CHALLENGE_THRESHOLD) {
    deps.audit('security.pkce_constant_challenge', { client_id: client.clientId, reason: 'constant_challenge', uses });
  }

  const consentCookie = readCookie(event, consentCookieName(deps.config.issuer, client.clientId, request.resource));
  const consentId = consentCookie === undefined ? undefined : sha256(consentCookie);
  const stored = consentId === undefined ? undefined : await deps.stores.consents.get(consentId, now);
  const remembered = stored && covers(stored, request) ? stored : undefined;

  const { session, cookies } = await currentSession(event, deps);
  if (session) return authorizeSignedIn(request, client, session, { cookie: consentCookie !== undefined, remembered }, deps);

  if (remembered) {
    // Consent for this client was given from this browser before: forward to sign-in. The callback
    // checks that the user who signs in is the one who consented (see docs/AUTHORIZE.md).
    deps.audit('consent.remembered', { client_id: client.clientId, scope: request.scope });
    return startSignIn(request, { kind: 'remembered', consentId: remembered.consentId }, deps, { cookies });
  }

  // CONS-03: no consent from this browser for this client (or it changed): ask before contacting the upstream.
  deps.audit('consent.required', { reason: consentCookie === undefined ? 'new_client' : 'consent_changed', client_id: client.clientId });
  return askForConsent(request, undefined, deps, cookies);
}
