import { randomToken, sha256 } from '../shared/crypto';
import type { ResourceServers } from '../shared/config';
import type { HttpEvent } from '../shared/http';
import { clearCookie, readCookie, sessionCookieName, setCookie } from './cookies';
import type { AuthorizeDeps } from './deps';
import type { SignInSession } from './pending-table';
import type { UpstreamIdentity } from './upstream';

/**
 * One sign-in for every MCP server of this authorization server (MRS-10). After a verified upstream
 * sign-in the browser gets a session cookie; later authorizations from it, for any server, know the
 * user without contacting the upstream again. Each server still gets its own consent (MRS-08): the
 * session only replaces the upstream round trip, never the consent page.
 *
 * The session lives in the `pending` table under the hash of its cookie, holds the subject, the
 * display name and the claims the entitlement rules read, and lasts until the ID token's `exp` or the
 * configured maximum, whichever is earlier: the upstream's own view of how long its sign-in is good
 * bounds ours. No upstream token is kept (UPS-06).
 */

/** Every claim some server's entitlement rules read: the only claims a session keeps. */
export function entitlementClaimNames(servers: ResourceServers): Set<string> {
  return new Set([...servers.byResource.values()].flatMap((server) => server.scopeModel.entitlements.map((entitlement) => entitlement.claim)));
}

function entitlementClaims(servers: ResourceServers, claims: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const name of entitlementClaimNames(servers)) if (claims[name] !== undefined) kept[name] = claims[name];
  return kept;
}

const cookieNameOf = (deps: AuthorizeDeps) => sessionCookieName(deps.config.issuer, deps.config.upstream.issuer);

/**
 * Starts a session for the user the upstream just verified; returns its cookie. None when sessions
 * are off (`SIGN_IN_SESSION_TTL_SECONDS=0`) or the ID token has no lifetime left by our clock.
 */
export async function startSession(identity: UpstreamIdentity, username: string | undefined, deps: AuthorizeDeps): Promise<string[]> {
  const maximum = deps.config.lifetimes.signInSession;
  if (maximum === 0) return [];
  const now = deps.clock();
  // oauth4webapi has checked that `exp` is a number in the future; a token without one gets no session.
  const idTokenExpiry = typeof identity.claims.exp === 'number' ? identity.claims.exp : now;
  const expiresAt = Math.min(Math.floor(idTokenExpiry), now + maximum);
  if (expiresAt <= now) return [];
  const secret = randomToken(32);
  const created = await deps.stores.sessions.create({
    sessionHash: sha256(secret),
    sub: identity.sub,
    username,
    claims: entitlementClaims(deps.config.servers, identity.claims),
    createdAt: now,
    expiresAt,
  });
  // A collision of 256 random bits does not happen; if it did, the cookie must not point at another's session.
  if (created === 'exists') throw new Error('Sign-in session collision');
  deps.audit('signin.session_started', { sub: identity.sub, expires_in: expiresAt - now });
  return [setCookie(cookieNameOf(deps), secret, expiresAt - now)];
}

/**
 * This browser's live session, if any. A well-formed cookie that names no live session (expired, or
 * from another deployment) is cleared; a malformed or repeated one reads as absent (`readCookie`).
 */
export async function currentSession(event: HttpEvent, deps: AuthorizeDeps): Promise<{ session?: SignInSession; cookies: string[] }> {
  if (deps.config.lifetimes.signInSession === 0) return { cookies: [] };
  const name = cookieNameOf(deps);
  const secret = readCookie(event, name);
  if (secret === undefined) return { cookies: [] };
  const now = deps.clock();
  const session = await deps.stores.sessions.get(sha256(secret), now);
  // A maximum lowered since the session started applies to it too.
  const live = session !== undefined && session.createdAt + deps.config.lifetimes.signInSession > now;
  return live ? { session, cookies: [] } : { cookies: [clearCookie(name)] };
}
