import { LOOPBACK_HOSTS } from '../../lib/loopback';
import { invalidRedirectUri, OAuthError } from './oauth-error';

/**
 * Redirect URI policy (REG-01..08, AS-10, AS-22, AZR-03..08, ROB-05/06/08).
 *
 * Registration accepts exactly three shapes:
 * - `https://host/...` on a canonical host (lowercase, punycode, canonical IP literal);
 * - `http://` on a loopback host spelled exactly `127.0.0.1`, `[::1]` or `localhost`, any port (RFC 8252 §7.3);
 * - a private-use scheme containing a dot, e.g. `com.example.app:/cb` (RFC 8252 §7.1, OAuth 2.1 §2.3.1),
 *   plus any dotless scheme the operator lists (`extraPrivateUseSchemes`, e.g. `cursor`).
 *
 * Everything is checked on the raw string first — WHATWG URL repairs input (strips tabs and newlines,
 * lowercases hosts, decodes `%2e`, reads decimal IPv4) and we must judge what the client sent, because
 * the authorization endpoint compares raw strings too.
 *
 * Caps: a URI is at most {@link MAX_REDIRECT_URI_LENGTH} characters; a client has at most
 * {@link MAX_REDIRECT_URIS} redirect URIs. Only printable ASCII from the RFC 3986 character set is
 * accepted (IRIs must be sent percent-encoded or in punycode), so no whitespace, control character,
 * backslash or Unicode look-alike can reach the matcher.
 *
 * Every check is a single pass over a string already capped in length: linear time (ROB-08).
 */

export const MAX_REDIRECT_URI_LENGTH = 512;
export const MAX_REDIRECT_URIS = 10;

/** The loopback hosts accepted for `http` redirect URIs, as they must be spelled (lib/loopback.ts). */
export { LOOPBACK_HOSTS };

/**
 * Schemes a browser executes or reads locally. They are refused anyway (no dot, not https), but
 * naming them gives the audit log the `scheme` reason even when spelled with spaces, tabs or mixed case.
 */
const DANGEROUS_SCHEMES = ['javascript', 'vbscript', 'data', 'file', 'blob', 'about', 'filesystem', 'view-source', 'livescript', 'mocha', 'jar'];

export type RedirectUriRejectionReason =
  | 'missing_redirect_uris'
  | 'too_many'
  | 'not_string'
  | 'empty'
  | 'too_long'
  | 'character'
  | 'encoding'
  | 'fragment'
  | 'relative'
  | 'scheme'
  | 'wildcard'
  | 'userinfo'
  | 'host'
  | 'path'
  | 'malformed'
  | 'http_non_loopback'
  | 'host_not_allowed';

/** Generic wire text per reason; never the input (META-03). */
const DESCRIPTIONS: Record<RedirectUriRejectionReason, string> = {
  missing_redirect_uris: 'At least one redirect URI is required.',
  too_many: `At most ${MAX_REDIRECT_URIS} redirect URIs may be registered.`,
  not_string: 'Every redirect URI must be a string.',
  empty: 'A redirect URI must not be empty.',
  too_long: `A redirect URI must be at most ${MAX_REDIRECT_URI_LENGTH} characters.`,
  character: 'A redirect URI contains a character that is not allowed (whitespace, control, non-ASCII or reserved).',
  encoding: 'A redirect URI contains a malformed percent-encoding.',
  fragment: 'A redirect URI must not contain a fragment.',
  relative: 'A redirect URI must be absolute.',
  scheme: 'A redirect URI must use https, http on a loopback host, or a private-use scheme containing a dot.',
  wildcard: 'A redirect URI must not contain wildcards.',
  userinfo: 'A redirect URI must not contain user information.',
  host: 'A redirect URI must have a host in canonical form (lowercase, punycode, no percent-encoding) and a valid port.',
  path: 'A redirect URI must not contain dot segments.',
  malformed: 'A redirect URI could not be parsed.',
  http_non_loopback: 'Plain http redirect URIs are allowed only for the loopback hosts 127.0.0.1, [::1] and localhost.',
  host_not_allowed: 'The redirect URI host is not on the allowed list.',
};

/** `https`: https on a non-loopback host; `loopback`: http(s) on a loopback host; `private_use`: a native app scheme. */
export type RedirectUriKind = 'https' | 'loopback' | 'private_use';

export interface AcceptedRedirectUri {
  readonly ok: true;
  readonly uri: string;
  readonly kind: RedirectUriKind;
}

export interface RedirectUriRejection {
  readonly ok: false;
  readonly reason: RedirectUriRejectionReason;
  readonly description: string;
}

export type RedirectUriValidation = AcceptedRedirectUri | RedirectUriRejection;

export interface RedirectUriPolicy {
  /**
   * When set, every http(s) redirect URI must use one of these hosts (exact, case-insensitive, punycode
   * for IDNs). Loopback clients are admitted only if `127.0.0.1`, `[::1]` or `localhost` is listed.
   * Private-use-scheme URIs have no host and are governed by `allowPrivateUseSchemes`.
   * @default - any host
   */
  readonly allowedHosts?: readonly string[];
  /**
   * Accept native-app private-use schemes (`com.example.app:/cb`).
   * @default true
   */
  readonly allowPrivateUseSchemes?: boolean;
  /**
   * Dotless private-use schemes the operator accepts besides reverse-DNS ones, e.g. `['cursor']`.
   * @default - none
   */
  readonly extraPrivateUseSchemes?: readonly string[];
}

function reject(reason: RedirectUriRejectionReason): RedirectUriRejection {
  return { ok: false, reason, description: DESCRIPTIONS[reason] };
}

/** The 400 `invalid_redirect_uri` the register handler answers for a rejection. */
export function redirectUriError(rejection: RedirectUriRejection): OAuthError {
  return invalidRedirectUri(rejection.reason, rejection.description);
}

const isAlpha = (code: number) => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
const isDigit = (code: number) => code >= 0x30 && code <= 0x39;
const isHexDigit = (code: number) => isDigit(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);

/** RFC 3986 unreserved, reserved and `%`; everything else (space, `"<>\^\`{|}`, controls, non-ASCII) is refused. */
const URI_PUNCTUATION = new Set([...'-._~:/?#[]@!$&\'()*+,;=%'].map((c) => c.charCodeAt(0)));

/** True when every character is one RFC 3986 allows in a URI. One pass, no regex. */
export function hasOnlyUriCharacters(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (!isAlpha(code) && !isDigit(code) && !URI_PUNCTUATION.has(code)) return false;
  }
  return true;
}

/** True when every `%` starts a `%XX` triplet. */
export function hasValidPercentEncoding(value: string): boolean {
  for (let i = value.indexOf('%'); i !== -1; i = value.indexOf('%', i + 1)) {
    if (!isHexDigit(value.charCodeAt(i + 1)) || !isHexDigit(value.charCodeAt(i + 2))) return false;
  }
  return true;
}

/**
 * The scheme a browser would see once it ignores leading whitespace and embedded tabs and newlines
 * (`" javascript:"`, `"java\tscript:"`), lowercased; undefined when there is no colon early on.
 */
function schemeAsBrowserReadsIt(value: string): string | undefined {
  let scheme = '';
  for (let i = 0; i < value.length && scheme.length <= 32; i++) {
    const code = value.charCodeAt(i);
    if (code <= 0x20) continue;
    if (code === 0x3a) return scheme;
    scheme += value[i].toLowerCase();
  }
  return undefined;
}

/** RFC 3986 `scheme ":"` prefix, as written; undefined for relative and protocol-relative references. */
function rawScheme(value: string): string | undefined {
  if (!isAlpha(value.charCodeAt(0))) return undefined;
  for (let i = 1; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x3a) return value.slice(0, i);
    if (!isAlpha(code) && !isDigit(code) && code !== 0x2b && code !== 0x2d && code !== 0x2e) return undefined;
  }
  return undefined;
}

interface RawParts {
  /** Everything between `//` and the first `/`, `?` or `#`; undefined when there is no `//`. */
  readonly authority?: string;
  /** The path, without query or fragment. */
  readonly path: string;
}

function rawParts(afterScheme: string): RawParts {
  const pathEnd = (from: number) => {
    const query = afterScheme.indexOf('?', from);
    const fragment = afterScheme.indexOf('#', from);
    const ends = [query, fragment, afterScheme.length].filter((i) => i !== -1);
    return Math.min(...ends);
  };
  if (!afterScheme.startsWith('//')) return { path: afterScheme.slice(0, pathEnd(0)) };
  let authorityEnd = afterScheme.length;
  for (let i = 2; i < afterScheme.length; i++) {
    const c = afterScheme[i];
    if (c === '/' || c === '?' || c === '#') {
      authorityEnd = i;
      break;
    }
  }
  return {
    authority: afterScheme.slice(2, authorityEnd),
    path: afterScheme.slice(authorityEnd, pathEnd(authorityEnd)),
  };
}

/** Splits `host[:port]` (with `[v6]` hosts); undefined when the port is not 1 to 5 digits up to 65535. */
function splitHostPort(authority: string): { host: string; port?: string } | undefined {
  let hostEnd: number;
  if (authority.startsWith('[')) {
    hostEnd = authority.indexOf(']') + 1;
    if (hostEnd === 0) return undefined;
  } else {
    hostEnd = authority.indexOf(':');
    if (hostEnd === -1) hostEnd = authority.length;
  }
  const host = authority.slice(0, hostEnd);
  const rest = authority.slice(hostEnd);
  if (rest === '') return { host };
  if (rest[0] !== ':') return undefined;
  const port = rest.slice(1);
  if (port.length < 1 || port.length > 5 || ![...port].every((c) => isDigit(c.charCodeAt(0))) || Number(port) > 65535) {
    return undefined;
  }
  return { host, port };
}

/** A `.` or `..` segment, also when spelled with `%2e` (the browser would resolve it away). */
function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}

function checkPrivateUseScheme(scheme: string, policy: RedirectUriPolicy): boolean {
  if (policy.allowPrivateUseSchemes === false) return false;
  if (policy.extraPrivateUseSchemes?.includes(scheme)) return true;
  // Reverse-DNS form: at least two non-empty labels.
  const labels = scheme.split('.');
  return labels.length >= 2 && labels.every((label) => label.length > 0);
}

/**
 * Validates one redirect URI offered at registration (or in a Client ID Metadata Document).
 * Never throws: a rejection carries a stable `reason` for the audit log and a generic description.
 */
export function validateRedirectUriForRegistration(value: unknown, policy: RedirectUriPolicy = {}): RedirectUriValidation {
  if (typeof value !== 'string') return reject('not_string');
  if (value.length === 0) return reject('empty');
  if (value.length > MAX_REDIRECT_URI_LENGTH) return reject('too_long');
  const browserScheme = schemeAsBrowserReadsIt(value);
  if (browserScheme !== undefined && DANGEROUS_SCHEMES.includes(browserScheme)) return reject('scheme');
  if (!hasOnlyUriCharacters(value)) return reject('character');
  if (!hasValidPercentEncoding(value)) return reject('encoding');
  if (value.includes('#')) return reject('fragment');

  const scheme = rawScheme(value);
  if (scheme === undefined) return reject('relative');
  // Schemes are compared as bytes at the authorization endpoint: register them as browsers send them.
  if (scheme !== scheme.toLowerCase()) return reject('scheme');
  const afterScheme = value.slice(scheme.length + 1);
  const { authority, path } = rawParts(afterScheme);
  const queryStart = afterScheme.indexOf('?');
  const beforeQuery = queryStart === -1 ? afterScheme : afterScheme.slice(0, queryStart);
  if (beforeQuery.includes('*')) return reject('wildcard');
  if (authority?.includes('@')) return reject('userinfo');
  if (hasDotSegment(path)) return reject('path');

  if (scheme === 'https' || scheme === 'http') {
    if (authority === undefined) return reject('host');
    const hostPort = splitHostPort(authority);
    if (!hostPort || hostPort.host === '' || hostPort.host.includes('%')) return reject('host');
    const parsed = URL.parse(value);
    if (!parsed) return reject('malformed');
    // The raw host must already be what WHATWG makes of it: no uppercase, no `0x7f.1`, no `[0:0::1]`.
    if (parsed.hostname !== hostPort.host) return reject('host');
    const loopback = LOOPBACK_HOSTS.has(hostPort.host);
    if (scheme === 'http' && !loopback) return reject('http_non_loopback');
    if (policy.allowedHosts && !policy.allowedHosts.some((allowed) => allowed.toLowerCase() === hostPort.host)) {
      return reject('host_not_allowed');
    }
    return { ok: true, uri: value, kind: loopback ? 'loopback' : 'https' };
  }

  if (!checkPrivateUseScheme(scheme, policy)) return reject('scheme');
  if (afterScheme.length === 0 || !URL.parse(value)) return reject('malformed');
  return { ok: true, uri: value, kind: 'private_use' };
}

/**
 * Validates the `redirect_uris` member: a non-empty array of at most {@link MAX_REDIRECT_URIS} valid
 * URIs. Duplicates are collapsed (order kept). The first invalid entry decides the rejection.
 */
export function validateRedirectUriList(
  value: unknown,
  policy: RedirectUriPolicy = {},
): { readonly ok: true; readonly uris: AcceptedRedirectUri[] } | RedirectUriRejection {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    return reject('missing_redirect_uris');
  }
  if (!Array.isArray(value)) return reject('not_string');
  if (value.length > MAX_REDIRECT_URIS) return reject('too_many');
  const accepted = new Map<string, AcceptedRedirectUri>();
  for (const entry of value) {
    const result = validateRedirectUriForRegistration(entry, policy);
    if (!result.ok) return result;
    if (!accepted.has(result.uri)) accepted.set(result.uri, result);
  }
  return { ok: true, uris: [...accepted.values()] };
}

export type ApplicationType = 'native' | 'web';

/**
 * AS-22 (OpenID Connect Registration `application_type`): web clients use https on non-loopback hosts
 * only; native clients may use loopback, private-use schemes or https (claimed https, RFC 8252 §7.2).
 */
export function applicationTypeAllows(applicationType: ApplicationType, kind: RedirectUriKind): boolean {
  return applicationType === 'native' || kind === 'https';
}

/**
 * The `application_type` of a client that did not send one: `web` when every redirect URI is https on
 * a non-loopback host (the OIDC default), else `native` (the MCP hosts that predate the field are
 * desktop apps on loopback or private-use schemes, and must keep working).
 */
export function inferApplicationType(kinds: readonly RedirectUriKind[]): ApplicationType {
  return kinds.every((kind) => kind === 'https') ? 'web' : 'native';
}

interface LoopbackParts {
  readonly host: string;
  /** Everything after the authority: path, query and fragment, byte for byte. */
  readonly rest: string;
}

/**
 * Splits `http://<loopback host>[:port]<rest>` on the raw string. Undefined for anything else —
 * including `HTTP://`, `127.000.000.001`, `localhost:80@evil.example` and an empty port.
 */
function loopbackParts(uri: string): LoopbackParts | undefined {
  if (!uri.startsWith('http://')) return undefined;
  const afterScheme = uri.slice('http:'.length);
  const { authority } = rawParts(afterScheme);
  if (authority === undefined || authority.includes('@')) return undefined;
  const hostPort = splitHostPort(authority);
  if (!hostPort || !LOOPBACK_HOSTS.has(hostPort.host)) return undefined;
  return { host: hostPort.host, rest: afterScheme.slice(2 + authority.length) };
}

/**
 * AS-10 / AZR-03..08: the registered URI that `requested` matches, or undefined.
 *
 * Matching is a simple string comparison (RFC 3986 §6.2.1): no normalisation of case,
 * percent-encoding, Unicode, default port, trailing slash, dot segments or query order (ROB-05/06).
 * The only exception (RFC 8252 §7.3, OAuth 2.1 §8.4.2): when a registered URI is `http` on a loopback
 * host, a requested URI that is byte-identical except for the port — any port or none — matches.
 */
export function redirectUriMatches(registered: readonly string[], requested: string): string | undefined {
  const exact = registered.find((uri) => uri === requested);
  if (exact !== undefined) return exact;
  const wanted = loopbackParts(requested);
  if (!wanted) return undefined;
  return registered.find((uri) => {
    const candidate = loopbackParts(uri);
    return candidate !== undefined && candidate.host === wanted.host && candidate.rest === wanted.rest;
  });
}

/** True when the URI is http(s) on a loopback host: the consent page warns about these (CIMD-8). */
export function isLoopbackRedirectUri(uri: string): boolean {
  const parsed = URL.parse(uri);
  return parsed !== null && (parsed.protocol === 'http:' || parsed.protocol === 'https:') && LOOPBACK_HOSTS.has(parsed.hostname);
}

/**
 * Where a redirect URI sends the user, as the consent page and the error interstitial name it
 * (AS-19, CIMD-8, ROB-06, REV-07). A web address is its host, in ASCII (IDNs in punycode, so
 * `exämple.com` shows as `xn--exmple-cua.com`). Any other scheme is received by whichever app claims
 * that scheme on the device: it is named by its scheme and the whole URI, never by its authority, which
 * the registrant chose freely (`com.attacker.app://claude.ai/cb` is not claude.ai).
 */
export type RedirectDestination =
  | { readonly kind: 'web'; readonly host: string }
  | { readonly kind: 'app'; readonly scheme: string; readonly uri: string };

export function redirectDestination(uri: string): RedirectDestination {
  const parsed = URL.parse(uri);
  if (parsed && (parsed.protocol === 'https:' || parsed.protocol === 'http:') && parsed.hostname !== '') return { kind: 'web', host: parsed.hostname };
  const colon = uri.indexOf(':');
  return { kind: 'app', scheme: colon > 0 ? uri.slice(0, colon).toLowerCase() : uri, uri };
}

/** The host of an http(s) URI in ASCII (for audit fields and the metadata document's domain); undefined without one. */
export function hostForDisplay(uri: string): string | undefined {
  const parsed = URL.parse(uri);
  if (!parsed || parsed.hostname === '') return undefined;
  return parsed.hostname;
}
