import { verify } from 'node:crypto';
import { parseScopeParameter } from '../../lib/scopes';
import { MACHINE_GRANT_CLAIM } from '../../lib/machine-clients';
import { MAX_KID_LENGTH, type VerificationKey, type VerificationKeys } from './verification-keys';

/**
 * Verifies an RFC 9068 access token (compact JWS) with node:crypto directly: strict parsing first, one
 * `crypto.verify` with a prepared key, then the claims. Refuses anything it does not understand, and
 * never throws: every failure is a stable reason for the audit log.
 */

/** Larger tokens are refused before any decoding (JWT-15). Ours are well under 2 KB. */
export const MAX_TOKEN_LENGTH = 8192;
/**
 * Ours is three short members. The cap refuses hostile headers (a 10 kB `kid`, deep nesting) unparsed,
 * while leaving room to parse, and name, a header that embeds an RSA key (`jwk`, JWT-05).
 */
export const MAX_HEADER_SEGMENT_LENGTH = 1024;
const MAX_CLAIM_LENGTH = 1024;

export type TokenFailure =
  | 'oversized' // longer than the caps above
  | 'malformed' // not header.payload.signature with canonical base64url header and signature, JSON objects, no duplicate header member
  | 'alg' // `alg` is not the configured algorithm (none, HS256, ...)
  | 'header' // a JOSE header member other than alg, typ and kid (crit, jku, jwk, x5u, x5c, ...)
  | 'typ' // not at+jwt
  | 'kid' // missing, not a string, or not a pinned key
  | 'signature'
  | 'iss'
  | 'aud'
  | 'expired'
  | 'not_yet_valid' // nbf or iat beyond the clock tolerance
  | 'claims'; // a required claim missing or of the wrong type

/**
 * What a verified access token says, as the authorizer and introspection use it (camel-cased, scopes
 * parsed); the claims the token endpoint signs are `AccessTokenClaims` (lambda/token/issuance.ts).
 */
export interface VerifiedAccessToken {
  readonly sub: string;
  readonly clientId: string;
  readonly scopes: readonly string[];
  /** The raw `scope` claim, passed on as authorizer context. */
  readonly scope: string;
  readonly jti: string;
  /** The one audience, equal to the server's resource (checked above): passed on so the guard checks it too. */
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly username?: string;
  /** The token was obtained without a user (an operator's machine client, `gty: client_credentials`). */
  readonly machine: boolean;
}

export type VerifyResult = { readonly ok: true; readonly claims: VerifiedAccessToken } | { readonly ok: false; readonly reason: TokenFailure };

/** What a token is verified against: the expected issuer and audience, and the clock tolerance. */
export interface VerifierConfig {
  readonly issuer: string;
  readonly resource: string;
  readonly clockToleranceSeconds: number;
}

const BASE64URL_VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => (BASE64URL_VALUE[c.charCodeAt(0)] = i));

/**
 * Canonical base64url between `start` and `end`: only the URL-safe alphabet (no padding, `+`, `/`,
 * whitespace or `.`), a length an encoder can produce, and no set bits in the unused tail of the last
 * character. Without the last rule, flipping those bits leaves the decoded bytes, and a signature, valid.
 */
function isCanonicalBase64url(token: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = token.charCodeAt(i);
    if (c > 127 || BASE64URL_VALUE[c] < 0) return false;
  }
  const remainder = (end - start) % 4;
  if (remainder === 0) return true;
  if (remainder === 1) return false;
  return (BASE64URL_VALUE[token.charCodeAt(end - 1)] & (remainder === 2 ? 0x0f : 0x03)) === 0;
}

/** Counts the members of the outermost object of valid JSON text; JSON.parse silently keeps only the last of duplicate names. */
function countTopLevelMembers(json: string): number {
  let depth = 0;
  let members = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      let j = i + 1;
      while (json.charCodeAt(j) !== 0x22) j += json.charCodeAt(j) === 0x5c ? 2 : 1;
      if (depth === 1) {
        let k = j + 1;
        while (json.charCodeAt(k) <= 0x20) k++;
        if (json.charCodeAt(k) === 0x3a) members++;
      }
      i = j;
    } else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return members;
}

/** A JSON object from a base64url segment; `checkDuplicates` refuses repeated members, which JSON.parse would silently collapse. */
function parseObject(segment: string, checkDuplicates: boolean): Record<string, unknown> | undefined {
  try {
    const text = Buffer.from(segment, 'base64url').toString('utf8');
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    if (checkDuplicates && countTopLevelMembers(text) !== Object.keys(value).length) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/**
 * The JWS signing input as received. UTF-8 maps distinct strings to distinct bytes for any non-ASCII
 * character (unlike latin1, which truncates), and the issuer signs only base64url ASCII: so a payload
 * segment differing in any way from what was signed, stray characters included, fails the signature.
 */
function signedBytes(token: string, payloadEnd: number): Buffer {
  return Buffer.from(token.slice(0, payloadEnd), 'utf8');
}

const ALLOWED_HEADER_MEMBERS = new Set(['alg', 'typ', 'kid']);

/** RFC 9068 §2.1 `typ`; media types compare case-insensitively, with or without the `application/` prefix. */
function isAccessTokenType(typ: unknown): boolean {
  if (typeof typ !== 'string') return false;
  const lower = typ.toLowerCase();
  return lower === 'at+jwt' || lower === 'application/at+jwt';
}

const isText = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_CLAIM_LENGTH;
const isNumericDate = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The strict parse of a header not in the well-known set: the key it names, or why it is refused. */
function keyFromHeader(segment: string, keys: VerificationKeys): VerificationKey | TokenFailure {
  const header = parseObject(segment, true);
  if (!header) return 'malformed';
  // alg first: `{"alg":"none"}` is an algorithm failure whatever else the header lacks (JWT-01).
  if (header.alg !== keys.algorithm) return 'alg';
  for (const member in header) if (!ALLOWED_HEADER_MEMBERS.has(member)) return 'header';
  if (!isAccessTokenType(header.typ)) return 'typ';
  const kid = header.kid;
  const key = typeof kid === 'string' && kid.length <= MAX_KID_LENGTH ? keys.byKid.get(kid) : undefined;
  return key ?? 'kid';
}

export function verifyAccessToken(token: string, keys: VerificationKeys, config: VerifierConfig, now: number): VerifyResult {
  if (token.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'oversized' };
  const headerEnd = token.indexOf('.');
  if (headerEnd > MAX_HEADER_SEGMENT_LENGTH) return { ok: false, reason: 'oversized' };
  const payloadEnd = headerEnd > 0 ? token.indexOf('.', headerEnd + 1) : -1;
  if (payloadEnd <= headerEnd + 1) return { ok: false, reason: 'malformed' };
  // Base64 decoding is lenient, so what is decoded before the signature check (the header) and the
  // signature itself must be canonical. For the signature, re-encoding and comparing is the cheapest
  // strict check. The payload's syntax is enforced by the signature itself (signedBytes).
  const signature = token.slice(payloadEnd + 1);
  const signatureBytes = Buffer.from(signature, 'base64url');
  if (signatureBytes.toString('base64url') !== signature) return { ok: false, reason: 'malformed' };
  const encodedHeader = token.slice(0, headerEnd);
  let key = keys.byEncodedHeader?.get(encodedHeader);
  if (!key) {
    if (!isCanonicalBase64url(token, 0, headerEnd)) return { ok: false, reason: 'malformed' };
    const parsed = keyFromHeader(encodedHeader, keys);
    if (typeof parsed === 'string') return { ok: false, reason: parsed };
    key = parsed;
  }

  if (signature.length !== key.signatureChars) return { ok: false, reason: 'signature' };
  let valid: boolean;
  try {
    valid = verify('sha256', signedBytes(token, payloadEnd), key.verifyWith, signatureBytes);
  } catch {
    valid = false;
  }
  if (!valid) return { ok: false, reason: 'signature' };

  // Claims are read only from a payload our key signed; our issuer never emits duplicate members.
  const claims = parseObject(token.slice(headerEnd + 1, payloadEnd), false);
  if (!claims) return { ok: false, reason: 'malformed' };
  if (claims.iss !== config.issuer) return { ok: false, reason: 'iss' };
  if (typeof claims.aud !== 'string' || claims.aud !== config.resource) return { ok: false, reason: 'aud' };
  const { exp, iat, nbf } = claims;
  if (!isNumericDate(exp) || !isNumericDate(iat) || (nbf !== undefined && !isNumericDate(nbf))) return { ok: false, reason: 'claims' };
  const tolerance = config.clockToleranceSeconds;
  if (now >= exp + tolerance) return { ok: false, reason: 'expired' };
  if (iat > now + tolerance || (nbf !== undefined && nbf > now + tolerance)) return { ok: false, reason: 'not_yet_valid' };
  const { sub, client_id: clientId, jti, scope, preferred_username: username } = claims;
  if (!isText(sub) || !isText(clientId) || !isText(jti)) return { ok: false, reason: 'claims' };
  if (username !== undefined && !isText(username)) return { ok: false, reason: 'claims' };
  // An absent scope grants nothing: the request then fails the scope check with a 403 naming what it needs.
  if (scope !== undefined && typeof scope !== 'string') return { ok: false, reason: 'claims' };
  const scopes = parseScopeParameter(scope ?? '');
  if (!scopes) return { ok: false, reason: 'claims' };
  const machine = claims[MACHINE_GRANT_CLAIM.name] === MACHINE_GRANT_CLAIM.value;
  return { ok: true, claims: { sub, clientId, scopes, scope: scopes.join(' '), jti, aud: config.resource, iat, exp, username, machine } };
}

/**
 * The `aud` of a token's payload, read WITHOUT verifying anything: only to pick which server's resource
 * the verifier then requires (introspection serves every server). Never a basis for a decision itself.
 */
export function unverifiedAudience(token: string): string | undefined {
  if (token.length > MAX_TOKEN_LENGTH) return undefined;
  const [, payload] = token.split('.', 3);
  if (!payload) return undefined;
  try {
    const aud = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud?: unknown }).aud;
    return typeof aud === 'string' ? aud : undefined;
  } catch {
    return undefined;
  }
}
