/**
 * Loopback: the only place plain http is accepted (the local stack, tests, native clients' redirect
 * URIs). One definition for the issuer, the upstream issuer, the JWKS URI, redirect URIs and the
 * smoke CLI. Host names as WHATWG URL serialises them (IPv6 in brackets).
 */
export const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', '[::1]', 'localhost']);

export const isLoopbackHost = (hostname: string): boolean => LOOPBACK_HOSTS.has(hostname);

/** `https:`, or `http:` on a loopback host (AS-9: every endpoint is HTTPS outside local development). */
export const isHttpsOrLoopback = (url: URL): boolean => url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
