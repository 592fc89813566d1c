import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { ResolvedAddress } from './address-policy';
import { CimdError } from './errors';

/** CIMD-6 / SSRF-03 caps. */
export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_DOCUMENT_BYTES = 5 * 1024;

export interface PinnedGetOptions {
  /** A URL already checked by `parseClientIdMetadataUrl`. */
  readonly url: URL;
  /** The address already checked by the address policy: the only one this request may connect to. */
  readonly address: ResolvedAddress;
  /** Total budget for connect, TLS, headers and body. */
  readonly timeoutMs: number;
  readonly maxBytes: number;
  /** Trusted CA certificates (tests); @default - Node's bundled root store */
  readonly ca?: string | Buffer;
}

export interface PinnedGetResponse {
  readonly body: Buffer;
  readonly cacheControl?: string;
}

const TLS_ERROR = /CERT|TLS|SSL|SELF_SIGNED|UNABLE_TO_VERIFY|HOSTNAME|ALTNAME/;

/** A stable reason for a low-level failure; the error code only, never the message (it names addresses). */
function failure(error: NodeJS.ErrnoException): CimdError {
  const code = typeof error.code === 'string' ? error.code : 'unknown';
  return new CimdError(TLS_ERROR.test(code) ? 'tls' : 'network', code);
}

/**
 * One `GET` over TLS to `address`, whatever DNS says now (SSRF-02: the custom `lookup` hands the
 * socket the already-checked address, so a rebinding answer is never consulted). SNI and certificate
 * checks use the URL's hostname. Redirects are not followed (any 3xx fails), the status must be 200,
 * and the body is capped by `Content-Length` up front and by counting while streaming.
 */
export function pinnedGet(options: PinnedGetOptions): Promise<PinnedGetResponse> {
  const { url, address, timeoutMs, maxBytes } = options;
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const pinnedLookup: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [{ address: address.address, family: address.family }]);
    else callback(null, address.address, address.family);
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    const settle = (outcome: { error: CimdError } | { response: PinnedGetResponse }) => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      request.destroy();
      if ('error' in outcome) reject(outcome.error);
      else resolve(outcome.response);
    };

    const request = https.request({
      host,
      port: url.port === '' ? 443 : Number(url.port),
      path: url.pathname,
      method: 'GET',
      headers: { Accept: 'application/json', 'User-Agent': 'cdk-secure-mcp-server CIMD fetcher', Connection: 'close' },
      // A fresh socket per fetch: a pooled one may have been opened to another address.
      agent: false,
      lookup: pinnedLookup,
      // RFC 6066 forbids IP literals as SNI names; for those the certificate is checked against the IP.
      servername: isIP(host) ? undefined : host,
      ca: options.ca,
      maxHeaderSize: 8 * 1024,
    });
    const deadline = setTimeout(() => settle({ error: new CimdError('timeout') }), timeoutMs);

    request.on('error', (error) => settle({ error: failure(error) }));
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      if (status >= 300 && status < 400) return settle({ error: new CimdError('redirect', String(status)) });
      if (status !== 200) return settle({ error: new CimdError('bad_status', String(status)) });
      const declared = response.headers['content-length'];
      if (declared !== undefined && !(Number(declared) <= maxBytes)) return settle({ error: new CimdError('too_large') });

      const chunks: Buffer[] = [];
      let received = 0;
      response.on('data', (chunk: Buffer) => {
        received += chunk.length;
        if (received > maxBytes) return settle({ error: new CimdError('too_large') });
        chunks.push(chunk);
      });
      response.on('error', (error) => settle({ error: failure(error) }));
      // A body cut short ends in 'close' without 'end' (settle ignores the 'close' after a clean 'end').
      response.on('close', () => settle({ error: new CimdError('network', 'truncated') }));
      response.on('end', () => {
        const cacheControl = response.headers['cache-control'];
        settle({ response: { body: Buffer.concat(chunks), cacheControl } });
      });
    });
    request.end();
  });
}
