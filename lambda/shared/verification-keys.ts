import { hasPrivateKeyMaterial } from './untrusted-json';
import { isHttpsOrLoopback } from '../../lib/loopback';
import { createPublicKey, type JsonWebKey, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import type { SigningAlgorithm } from './config';
import { AUTHORIZER_ENV } from '../../lib/environment';
import type { VariableReader } from '../../lib/environment-reader';

export const MAX_KID_LENGTH = 128;
/** A JWKS document larger than this is refused (ours holds a handful of public keys). */
const MAX_JWKS_BYTES = 64 * 1024;
const JWKS_FETCH_TIMEOUT_MS = 3000;
const MIN_RSA_BITS = 2048;

/**
 * The pinned verification keys: built once per container from the JWKS in the function configuration
 * and/or one fetch of the JWKS URL. Never extended at request time: an unknown `kid` is refused, not
 * looked up (JWT-04), and header-supplied keys (`jku`, `jwk`, `x5u`, `x5c`) are never used (JWT-05).
 */
export interface VerificationKey {
  /** What `crypto.verify` takes, prepared once (ES256 signatures are raw r||s, RFC 7518 §3.4). */
  readonly verifyWith: KeyObject | VerifyKeyObjectInput;
  /** The exact base64url length of a signature by this key: RSA modulus bytes, or 64 for P-256. */
  readonly signatureChars: number;
}

export interface VerificationKeys {
  readonly algorithm: SigningAlgorithm;
  readonly byKid: ReadonlyMap<string, VerificationKey>;
  /**
   * The encoded JOSE headers the issuer produces for each key (`{"alg","typ":"at+jwt","kid"}` in any
   * member order, compact JSON), mapped to their key. A header found here is valid by construction, so
   * the hot path skips decoding it; any other header goes through the strict parse. Built once by
   * `pinKeys`, never changed; without it every header takes the strict parse (same results, slower).
   */
  readonly byEncodedHeader?: ReadonlyMap<string, VerificationKey>;
}

const HEADER_ORDERS: ReadonlyArray<ReadonlyArray<'alg' | 'typ' | 'kid'>> = [
  ['alg', 'typ', 'kid'],
  ['alg', 'kid', 'typ'],
  ['typ', 'alg', 'kid'],
  ['typ', 'kid', 'alg'],
  ['kid', 'alg', 'typ'],
  ['kid', 'typ', 'alg'],
];

/** Pins keys for an algorithm, with the lookup of well-known encoded headers. */
export function pinKeys(algorithm: SigningAlgorithm, byKid: ReadonlyMap<string, VerificationKey>): VerificationKeys {
  const byEncodedHeader = new Map<string, VerificationKey>();
  for (const [kid, key] of byKid) {
    const members = { alg: algorithm, typ: 'at+jwt', kid };
    for (const order of HEADER_ORDERS) {
      const json = `{${order.map((name) => `${JSON.stringify(name)}:${JSON.stringify(members[name])}`).join(',')}}`;
      byEncodedHeader.set(Buffer.from(json).toString('base64url'), key);
    }
  }
  return { algorithm, byKid, byEncodedHeader };
}

const base64urlLength = (bytes: number) => Math.ceil((bytes * 4) / 3);

function keyFromJwk(jwk: Record<string, unknown>, algorithm: SigningAlgorithm): VerificationKey | undefined {
  if (hasPrivateKeyMaterial(jwk)) throw new Error('the JWKS must hold public keys only');
  // Keys for another algorithm or use may share the document (e.g. during a migration); they are not ours to use.
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.alg !== undefined && jwk.alg !== algorithm) return undefined;
  if (Array.isArray(jwk.key_ops) && !jwk.key_ops.includes('verify')) return undefined;
  if (algorithm === 'RS256') {
    if (jwk.kty !== 'RSA') return undefined;
    const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) throw new Error(`RSA key ${String(jwk.kid)} has ${bits} bits; at least ${MIN_RSA_BITS} are required`);
    return { verifyWith: key, signatureChars: base64urlLength(Math.ceil(bits / 8)) };
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256') return undefined;
  const key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  return { verifyWith: { key, dsaEncoding: 'ieee-p1363' }, signatureChars: base64urlLength(64) };
}

/** Parses a JWKS into pinned keys for `algorithm`. Throws on a malformed document, a duplicate `kid` or a private key. */
export function keysFromJwks(jwks: unknown, algorithm: SigningAlgorithm): Map<string, VerificationKey> {
  const keys = (jwks as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new Error('a JWKS must be an object with a "keys" array');
  const byKid = new Map<string, VerificationKey>();
  for (const jwk of keys) {
    if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new Error('every JWKS entry must be an object');
    const kid = (jwk as Record<string, unknown>).kid;
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH) {
      throw new Error(`every JWKS key needs a kid of 1 to ${MAX_KID_LENGTH} characters`);
    }
    if (byKid.has(kid)) throw new Error(`duplicate kid ${kid} in the JWKS`);
    const key = keyFromJwk(jwk as Record<string, unknown>, algorithm);
    if (key) byKid.set(kid, key);
  }
  return byKid;
}

function jwksUrl(raw: string): URL {
  const url = new URL(raw);
  if (!isHttpsOrLoopback(url)) {
    throw new Error(`${AUTHORIZER_ENV.jwksUri} must be an https URL (http only on loopback), got ${raw}`);
  }
  return url;
}

export type Fetch = (url: URL, init: RequestInit) => Promise<Response>;

/** One GET of the JWKS URL: no redirects, a time limit and a size cap, so a slow or hostile endpoint cannot stall the container. */
export async function fetchJwks(raw: string, fetchJwksDocument: Fetch = fetch): Promise<unknown> {
  const response = await fetchJwksDocument(jwksUrl(raw), { redirect: 'error', signal: AbortSignal.timeout(JWKS_FETCH_TIMEOUT_MS) });
  if (response.status !== 200) throw new Error(`JWKS fetch failed with HTTP ${response.status}`);
  const text = await response.text();
  if (text.length > MAX_JWKS_BYTES) throw new Error('the JWKS document is too large');
  return JSON.parse(text);
}

/**
 * A loader for the container's keys. TRUSTED_JWKS is parsed immediately (a bad value fails the init);
 * JWKS_URI is fetched on first use and then kept for the container's life: a successful fetch is never
 * repeated, not even for an unknown `kid`. Only a failed fetch is retried, on the next request.
 * Keys pinned in TRUSTED_JWKS win over a fetched key with the same `kid`.
 */
export function verificationKeysLoader(
  read: VariableReader<typeof AUTHORIZER_ENV.trustedJwks | typeof AUTHORIZER_ENV.jwksUri>,
  algorithm: SigningAlgorithm,
  fetchJwksDocument: Fetch = fetch,
): () => VerificationKeys | Promise<VerificationKeys> {
  const trustedRaw = read[AUTHORIZER_ENV.trustedJwks];
  const uri = read[AUTHORIZER_ENV.jwksUri];
  if (!trustedRaw && !uri) throw new Error(`Set ${AUTHORIZER_ENV.trustedJwks} or ${AUTHORIZER_ENV.jwksUri}`);
  const pinned = trustedRaw ? keysFromJwks(JSON.parse(trustedRaw), algorithm) : new Map<string, VerificationKey>();
  if (!uri) {
    if (pinned.size === 0) throw new Error(`${AUTHORIZER_ENV.trustedJwks} holds no ${algorithm} verification key`);
    const keys = pinKeys(algorithm, pinned);
    return () => keys;
  }
  const load = async (): Promise<VerificationKeys> => {
    const byKid = keysFromJwks(await fetchJwks(uri, fetchJwksDocument), algorithm);
    for (const [kid, key] of pinned) byKid.set(kid, key);
    if (byKid.size === 0) throw new Error(`no ${algorithm} verification key in ${AUTHORIZER_ENV.trustedJwks} or at ${AUTHORIZER_ENV.jwksUri}`);
    return pinKeys(algorithm, byKid);
  };
  // Once loaded, the keys are handed out directly (no await on the hot path).
  let loaded: VerificationKeys | undefined;
  let loading: Promise<VerificationKeys> | undefined;
  return () => {
    if (loaded) return loaded;
    loading ??= load().then(
      (keys) => (loaded = keys),
      (error: unknown) => {
        loading = undefined;
        throw error;
      },
    );
    return loading;
  };
}
