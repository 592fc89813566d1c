import { isIP } from 'node:net';
import type { ClientMetadata, RegistrationPolicy } from '../client-metadata';
import { type Clock, systemClock } from '../clock';
import { type AddressPolicy, isPublicUnicastAddress, type ResolvedAddress, type Resolver, systemResolver } from './address-policy';
import { type CacheBounds, cacheLifetimeSeconds, DEFAULT_CACHE_BOUNDS } from './cache-control';
import { parseDocument, validateClientMetadataDocument } from './document';
import { CimdError } from './errors';
import { DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_MAX_DOCUMENT_BYTES, pinnedGet } from './pinned-get';
import { parseClientIdMetadataUrl } from './url';

/** A client known from its Client ID Metadata Document, in the registry's shape. */
export interface CimdClient {
  readonly clientId: string;
  readonly metadata: ClientMetadata;
  readonly source: 'cimd';
  /** When the document was fetched (seconds since the epoch). */
  readonly createdAt: number;
  /** The cache keeps the document until then (seconds since the epoch). */
  readonly cachedUntil: number;
}

export interface HostRateLimit {
  readonly fetches: number;
  readonly windowSeconds: number;
}

export interface ClientMetadataDocumentFetcherOptions {
  /** The registration rules the document must meet (scope model, redirect URI policy). */
  readonly registration: RegistrationPolicy;
  /** @default - the operating system resolver (`dns.promises.lookup`, all addresses) */
  readonly resolve?: Resolver;
  /** @default isPublicUnicastAddress - globally routable unicast only */
  readonly isAllowedAddress?: AddressPolicy;
  /**
   * The ports a metadata document may be fetched from (REV-08): anything else would let a client_id
   * open TLS to any public host:port, a blind port probe.
   * @default [443]
   */
  readonly allowedPorts?: readonly number[];
  /** @default systemClock */
  readonly clock?: Clock;
  /** Trusted CA certificates (tests). @default - Node's bundled root store */
  readonly ca?: string | Buffer;
  /** @default 5000 (5 s for connect, TLS and the whole body) */
  readonly timeoutMs?: number;
  /** @default 5120 (5 KB) */
  readonly maxBytes?: number;
  /** @default - 30 s to 86 400 s */
  readonly cacheBounds?: CacheBounds;
  /**
   * A failed fetch is remembered (as a failure, never as a client) this long, so a broken or hostile
   * document costs one fetch per period; 0 disables it.
   * @default 10
   */
  readonly failureCacheSeconds?: number;
  /** @default 1000 documents (the oldest entry is evicted first) */
  readonly maxCacheEntries?: number;
  /**
   * Network fetches per hostname and window (SSRF-05). Keyed by the exact hostname: grouping by
   * registrable domain needs a public suffix list, which this package does not ship.
   * @default - 30 fetches per 60 s
   */
  readonly rateLimit?: HostRateLimit;
}

const HTTPS_PORT: readonly number[] = [443];

/** Above this many hosts, idle rate-limit windows are swept (keeps the sweep amortised). */
const MAX_TRACKED_HOSTS = 1000;

type CacheEntry = { readonly until: number } & ({ readonly client: CimdClient } | { readonly error: CimdError });

/**
 * Resolves URL-shaped client_ids to clients by fetching their metadata documents (AS-2, CIMD-1..6),
 * safely against SSRF. Build one per container (module scope): the cache, the in-flight map and the
 * rate limiter hold public documents only, never per-user state.
 *
 * Order: IP-literal policy → URL shape → port → rate limit → resolve once (within the time budget) →
 * every address allowed → connect to the first, pinned → caps → document rules → cache.
 */
export class ClientMetadataDocumentFetcher {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<CimdClient>>();
  private readonly fetchesByHost = new Map<string, { windowStart: number; count: number }>();
  private readonly resolve: Resolver;
  private readonly isAllowedAddress: AddressPolicy;
  private readonly clock: Clock;

  constructor(private readonly options: ClientMetadataDocumentFetcherOptions) {
    this.resolve = options.resolve ?? systemResolver;
    this.isAllowedAddress = options.isAllowedAddress ?? isPublicUnicastAddress;
    this.clock = options.clock ?? systemClock;
  }

  /**
   * The client for a URL-shaped client_id. Throws {@link CimdError} (400 `invalid_client`) with a stable
   * reason. Concurrent calls for one URL share one fetch.
   */
  async getClient(clientId: string): Promise<CimdClient> {
    const now = this.clock();
    const cached = this.cache.get(clientId);
    if (cached && cached.until > now) {
      if ('error' in cached) throw cached.error;
      return cached.client;
    }
    if (cached) this.cache.delete(clientId);

    const pending = this.inFlight.get(clientId);
    if (pending) return pending;
    const load = this.load(clientId).finally(() => this.inFlight.delete(clientId));
    this.inFlight.set(clientId, load);
    return load;
  }

  private async load(clientId: string): Promise<CimdClient> {
    const hostname = URL.parse(clientId)?.hostname;
    // An IP-literal host is judged before the shape, so `https://2852039166/` is logged as what it is.
    if (hostname !== undefined && isIP(unbracket(hostname)) && !this.isAllowedAddress(unbracket(hostname))) {
      throw new CimdError('private_ip');
    }
    const url = parseClientIdMetadataUrl(clientId);
    if (!url) throw new CimdError('url_shape');
    if (!(this.options.allowedPorts ?? HTTPS_PORT).includes(url.port === '' ? 443 : Number(url.port))) throw new CimdError('port');
    this.countFetch(url.hostname);

    try {
      // One budget for DNS, connect, TLS and body.
      const deadline = performance.now() + (this.options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS);
      const address = await this.checkedAddress(url, deadline);
      const response = await pinnedGet({
        url,
        address,
        timeoutMs: Math.max(0, deadline - performance.now()),
        maxBytes: this.options.maxBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
        ca: this.options.ca,
      });
      const metadata = validateClientMetadataDocument(parseDocument(response.body), clientId, this.options.registration);
      const createdAt = this.clock();
      const cachedUntil = createdAt + cacheLifetimeSeconds(response.cacheControl, this.options.cacheBounds ?? DEFAULT_CACHE_BOUNDS);
      const client: CimdClient = { clientId, metadata, source: 'cimd', createdAt, cachedUntil };
      this.remember(clientId, { until: cachedUntil, client });
      return client;
    } catch (error) {
      const failureSeconds = this.options.failureCacheSeconds ?? 10;
      if (error instanceof CimdError && failureSeconds > 0) {
        this.remember(clientId, { until: this.clock() + failureSeconds, error });
      }
      throw error;
    }
  }

  /** DNS is asked once; if any answer is refused the host is refused (SSRF-01), else the first is pinned. */
  private async checkedAddress(url: URL, deadline: number): Promise<ResolvedAddress> {
    const host = unbracket(url.hostname);
    const family = isIP(host);
    let addresses: ResolvedAddress[];
    if (family !== 0) {
      addresses = [{ address: host, family: family === 6 ? 6 : 4 }];
    } else {
      addresses = await withDeadline(this.resolve(host), deadline).catch((error: unknown) => {
        throw error instanceof CimdError ? error : new CimdError('dns');
      });
    }
    if (addresses.length === 0) throw new CimdError('dns');
    if (!addresses.every((answer) => this.isAllowedAddress(answer.address))) throw new CimdError('private_ip');
    return addresses[0];
  }

  private countFetch(hostname: string): void {
    const limit = this.options.rateLimit ?? { fetches: 30, windowSeconds: 60 };
    const now = this.clock();
    let window = this.fetchesByHost.get(hostname);
    if (!window || now - window.windowStart >= limit.windowSeconds) {
      window = { windowStart: now, count: 0 };
      this.fetchesByHost.set(hostname, window);
      if (this.fetchesByHost.size > MAX_TRACKED_HOSTS) this.forgetIdleHosts(now, limit.windowSeconds);
    }
    if (window.count >= limit.fetches) throw new CimdError('rate_limited');
    window.count++;
  }

  private forgetIdleHosts(now: number, windowSeconds: number): void {
    for (const [host, window] of this.fetchesByHost) {
      if (now - window.windowStart >= windowSeconds) this.fetchesByHost.delete(host);
    }
  }

  private remember(clientId: string, entry: CacheEntry): void {
    this.cache.delete(clientId);
    this.cache.set(clientId, entry);
    const max = this.options.maxCacheEntries ?? 1000;
    while (this.cache.size > max) this.cache.delete(this.cache.keys().next().value as string);
  }
}

const unbracket = (hostname: string) => (hostname.startsWith('[') ? hostname.slice(1, -1) : hostname);

/** Stops waiting at `deadline` (a lookup in progress cannot be cancelled, only abandoned). */
function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new CimdError('timeout')), Math.max(0, deadline - performance.now()));
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
