/**
 * Parsing JSON that came from outside (request bodies, Client ID Metadata Documents, JWKS): the rules
 * every such reader applies, written once.
 */

/** Keys that could reach an object's prototype are dropped while parsing (REG-16). */
export const POLLUTING_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** `JSON.parse` without prototype-polluting keys at any depth; throws on invalid JSON like `JSON.parse`. */
export function parseUntrustedJson(text: string): unknown {
  return JSON.parse(text, (key, value) => (POLLUTING_KEYS.has(key) ? undefined : value));
}

/** JWK members that only private or symmetric keys have (RFC 7518 §6.2.2, §6.3.2, §6.4). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/** Whether a JWK carries private or symmetric key material: a published key set must never. */
export const hasPrivateKeyMaterial = (jwk: object): boolean => PRIVATE_JWK_MEMBERS.some((member) => Object.hasOwn(jwk, member));
