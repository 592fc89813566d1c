/**
 * The MCP request-metadata headers (Streamable HTTP, revision 2026-07-28, "Request Metadata"): clients
 * mirror the JSON-RPC `method` into `Mcp-Method` and `params.name` / `params.uri` into `Mcp-Name`.
 * Shared by the authorizer (policy from headers) and the runtime guard (headers checked against the body).
 */

export const PROTOCOL_VERSION_HEADER = 'mcp-protocol-version';
export const METHOD_HEADER = 'mcp-method';
export const NAME_HEADER = 'mcp-name';
/** Tool parameters a tool's input schema marks with `x-mcp-header` travel as `Mcp-Param-<Name>` (2026-07-28). */
export const PARAM_HEADER_PREFIX = 'mcp-param-';

/** The first protocol revision whose servers must validate mirrored headers against the body (RS-12). */
export const HEADER_VALIDATION_SINCE = '2026-07-28';

/** JSON-RPC error code for a header that is missing, malformed or disagrees with the body. */
export const HEADER_MISMATCH = -32020;

/** Methods whose `Mcp-Name` mirrors a body field, and which field. */
export const NAMED_METHODS: Readonly<Record<string, 'name' | 'uri'>> = {
  'tools/call': 'name',
  'prompts/get': 'name',
  'resources/read': 'uri',
};

const PROTOCOL_VERSION = /^\d{4}-\d{2}-\d{2}$/;

/**
 * True when the client speaks a revision whose servers validate `Mcp-Method`/`Mcp-Name` against the
 * body. Only then may an intermediary base policy on those headers (the spec's "Server Validation" note).
 */
export function headersAreValidated(protocolVersion: string | undefined): boolean {
  return protocolVersion !== undefined && PROTOCOL_VERSION.test(protocolVersion) && protocolVersion >= HEADER_VALIDATION_SINCE;
}

const BASE64_SENTINEL = /^=\?base64\?([A-Za-z0-9+/]*={0,2})\?=$/;
/** Visible ASCII and inner spaces: what a plain (not Base64-encoded) header value may contain. */
const PLAIN_VALUE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Decodes an `Mcp-Name` (or `Mcp-Param-*`) value: `=?base64?...?=` carries UTF-8 in Base64, anything else
 * must be plain visible ASCII. Returns undefined for a value a conforming client could not have sent.
 */
export function decodeMcpHeaderValue(raw: string): string | undefined {
  const encoded = BASE64_SENTINEL.exec(raw);
  // The sentinel around something that is not Base64 is a broken encoding, never a literal (SEP-2243).
  if (!encoded && /^=\?base64\?.*\?=$/i.test(raw)) return undefined;
  if (encoded) {
    const bytes = Buffer.from(encoded[1], 'base64');
    if (bytes.toString('base64') !== encoded[1]) return undefined;
    try {
      return utf8.decode(bytes);
    } catch {
      return undefined;
    }
  }
  return PLAIN_VALUE.test(raw) ? raw : undefined;
}

/** The header maps of an API Gateway REST event (proxy integration or REQUEST authorizer). */
export interface HeaderSource {
  readonly headers?: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueHeaders?: Readonly<Record<string, readonly string[] | undefined>> | null;
}

/** Every value of every header, keyed by lower-case name. REST events carry both maps; the multi-value one is complete. */
export function collectHeaders(source: HeaderSource): Map<string, string[]> {
  const byName = new Map<string, string[]>();
  const multi = source.multiValueHeaders;
  if (multi) {
    for (const name in multi) {
      const values = multi[name];
      if (!values || values.length === 0) continue;
      const key = name.toLowerCase();
      const existing = byName.get(key);
      if (existing) existing.push(...values);
      else byName.set(key, [...values]);
    }
  }
  if (byName.size === 0 && source.headers) {
    for (const name in source.headers) {
      const value = source.headers[name];
      if (value === undefined) continue;
      const key = name.toLowerCase();
      const existing = byName.get(key);
      if (existing) existing.push(value);
      else byName.set(key, [value]);
    }
  }
  return byName;
}

/**
 * Like `collectHeaders`, for a few names only (lower case): for hot paths, it skips without lowercasing
 * them the dozen or so headers API Gateway adds (CloudFront-*, X-Forwarded-*, Via, ...).
 */
export function headerPicker(names: readonly string[]): (source: HeaderSource) => Map<string, string[]> {
  const lengths = new Set(names.map((name) => name.length));
  const wanted = new Set(names);
  return (source) => {
    const byName = new Map<string, string[]>();
    const add = (name: string, values: readonly string[]) => {
      if (!lengths.has(name.length)) return;
      const key = name.toLowerCase();
      if (!wanted.has(key)) return;
      const existing = byName.get(key);
      if (existing) existing.push(...values);
      else byName.set(key, [...values]);
    };
    let multiValued = false;
    const multi = source.multiValueHeaders;
    if (multi) {
      for (const name in multi) {
        const values = multi[name];
        if (!values || values.length === 0) continue;
        multiValued = true;
        add(name, values);
      }
    }
    if (!multiValued && source.headers) {
      for (const name in source.headers) {
        const value = source.headers[name];
        if (value !== undefined) add(name, [value]);
      }
    }
    return byName;
  };
}

/** Marks a header that was sent more than once: never a usable value. */
export const REPEATED: unique symbol = Symbol('repeated header');

/** A header's value when it was sent exactly once, undefined when absent, REPEATED when repeated. */
export function singleValue(headers: ReadonlyMap<string, readonly string[]>, name: string): string | undefined | typeof REPEATED {
  const values = headers.get(name);
  if (!values) return undefined;
  return values.length === 1 ? values[0] : REPEATED;
}
