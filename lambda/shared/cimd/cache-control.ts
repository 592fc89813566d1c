export interface CacheBounds {
  readonly minSeconds: number;
  readonly maxSeconds: number;
}

/** CIMD-3 / SSRF-05: node-oidc-provider's bounds, 30 s to one day. */
export const DEFAULT_CACHE_BOUNDS: CacheBounds = { minSeconds: 30, maxSeconds: 86_400 };

/**
 * How long to keep a document, from its `Cache-Control` header, clamped to `bounds`.
 * `no-store`, `no-cache` and a missing or unparsable `max-age` give the minimum: the floor is what
 * stops a hostile document from making us fetch on every request. `Expires` is not consulted.
 * One split and one pass: linear in the header length.
 */
export function cacheLifetimeSeconds(header: string | undefined, bounds: CacheBounds = DEFAULT_CACHE_BOUNDS): number {
  let seconds: number | undefined;
  for (const part of (header ?? '').split(',')) {
    const directive = part.trim().toLowerCase();
    if (directive === 'no-store' || directive === 'no-cache') return bounds.minSeconds;
    if (directive.startsWith('max-age=')) {
      const value = directive.slice('max-age='.length).replace(/^"|"$/g, '');
      if (value.length > 0 && value.length <= 12 && [...value].every((c) => c >= '0' && c <= '9')) seconds = Number(value);
    }
  }
  return Math.min(bounds.maxSeconds, Math.max(bounds.minSeconds, seconds ?? bounds.minSeconds));
}
