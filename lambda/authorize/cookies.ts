import { isRandomToken, sha256 } from '../shared/crypto';
import { headerValues, type HttpEvent } from '../shared/http';

/**
 * The authorize flow's cookies (AS-20, CONS-06): `__Host-` prefix (so Secure, Path=/ and no Domain
 * are enforced by the browser too), HttpOnly, SameSite=Lax. Each value is 256 random bits; the server
 * keeps only its SHA-256 next to the flow it belongs to (and so to that flow's client id).
 *
 * A cookie's name carries a short, public prefix of that flow's hash, so parallel flows in one
 * browser (two tabs, two clients) never overwrite each other's cookie.
 *
 * Several instances on one host (base paths of one custom domain, a brought REST API) share the cookie
 * jar, since `__Host-` requires Path=/ (REV-14). Flow and sign-in names derive from random per-flow
 * hashes, and every value is looked up by hash in the instance's own table, so they never collide or
 * cross over. The consent cookie's name derives from the client id, which a metadata-document client
 * shares across instances, and there is one session cookie per instance: both names include the
 * issuer, so each instance keeps its own.
 */

/** Binds a pending authorization (consent page) to the browser that started it. */
export const flowCookieName = (handleHash: string) => `__Host-mcp-authz-${handleHash.slice(0, 16)}`;
/** Binds an upstream sign-in to the browser that approved it; set only after consent (UPS-03). */
export const signInCookieName = (stateHash: string) => `__Host-mcp-signin-${stateHash.slice(0, 16)}`;
/**
 * Points at the remembered consent for one client of one instance (AS-20: bound to the client id;
 * REV-14: to the issuer), one per resource (MRS-08): consenting for one MCP server never replaces another's.
 */
export const consentCookieName = (issuer: string, clientId: string, resource: string) =>
  `__Host-mcp-consent-${sha256(`client:${issuer}\n${clientId}\n${resource}`).slice(0, 16)}`;

/**
 * Points at this browser's sign-in session (MRS-10): one per instance (REV-14) and upstream provider,
 * so a session from a provider the operator since replaced is never read.
 */
export const sessionCookieName = (issuer: string, upstreamIssuer: string) => `__Host-mcp-session-${sha256(`session:${issuer}\n${upstreamIssuer}`).slice(0, 16)}`;

export function setCookie(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Max-Age=${maxAgeSeconds}; Path=/; Secure; HttpOnly; SameSite=Lax`;
}

export function clearCookie(name: string): string {
  return setCookie(name, '', 0);
}

/** Our values are base64url; anything else in a cookie of ours is tampering and reads as absent. */

/** The value of one of our cookies, or undefined when absent, repeated or malformed. */
export function readCookie(event: HttpEvent, name: string): string | undefined {
  const found: string[] = [];
  for (const header of headerValues(event, 'cookie')) {
    for (const pair of header.split(';')) {
      const separator = pair.indexOf('=');
      if (separator === -1 || pair.slice(0, separator).trim() !== name) continue;
      found.push(pair.slice(separator + 1).trim());
    }
  }
  return found.length === 1 && isRandomToken(found[0]) ? found[0] : undefined;
}
