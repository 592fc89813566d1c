import { hasOnlyUriCharacters, hasValidPercentEncoding } from '../redirect-uri';

/**
 * A client_id that claims to be a URL (a scheme, then `:`): never looked up among registered clients
 * (whose ids are base64url), but judged as a metadata document, at /authorize and /token alike.
 */
export const isUrlShapedClientId = (clientId: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(clientId);

/** Client ID Metadata Document URLs longer than this are refused before parsing. */
export const MAX_CLIENT_ID_URL_LENGTH = 512;

/**
 * SSRF-04 / CIMD-1: a client_id that names a metadata document. Policy:
 * - `https://` exactly, then a host and a path other than `/`;
 * - no fragment, no userinfo, no `.`/`..` segments (also as `%2e`), only RFC 3986 characters;
 * - no query: the draft allows one but discourages it, and refusing it keeps an attacker from minting
 *   unlimited cache keys (and fetches) for one document by varying `?x=` (SSRF-05);
 * - byte-equal to its WHATWG serialisation, so nothing was repaired (`HTTPS://`, `:443`, `0x7f.1`,
 *   uppercase hosts, unicode hosts and `\` are all refused rather than silently rewritten).
 * Returns the parsed URL, or undefined when the client_id is not such a URL.
 */
export function parseClientIdMetadataUrl(clientId: unknown): URL | undefined {
  if (typeof clientId !== 'string' || clientId.length > MAX_CLIENT_ID_URL_LENGTH) return undefined;
  if (!clientId.startsWith('https://') || !hasOnlyUriCharacters(clientId) || !hasValidPercentEncoding(clientId)) return undefined;
  if (clientId.includes('#') || clientId.includes('?')) return undefined;
  const pathStart = clientId.indexOf('/', 'https://'.length);
  if (pathStart === -1) return undefined;
  if (clientId.slice('https://'.length, pathStart).includes('@')) return undefined;
  const rawPath = clientId.slice(pathStart);
  const dotSegment = rawPath.split('/').some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
  if (dotSegment || rawPath === '/') return undefined;
  const url = URL.parse(clientId);
  if (!url || url.href !== clientId || url.username !== '' || url.password !== '') return undefined;
  return url;
}

export function isClientIdMetadataUrl(clientId: unknown): clientId is string {
  return parseClientIdMetadataUrl(clientId) !== undefined;
}
