import { collectHeaders } from '../runtime/mcp-headers';
import { parseUntrustedJson } from './untrusted-json';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { invalidRequest, invalidTarget, OAuthError } from './oauth-error';

export type HttpEvent = APIGatewayProxyEvent;
export type HttpResult = APIGatewayProxyResult;

/** Form and JSON bodies above this size are refused with 413 (API Gateway itself caps at 10 MB). */
export const MAX_BODY_BYTES = 16 * 1024;

export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;

export function jsonResponse(statusCode: number, body: unknown, headers: Record<string, string> = {}): HttpResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', ...NO_STORE, ...headers },
    body: JSON.stringify(body),
  };
}

export function oauthErrorResponse(error: OAuthError): HttpResult {
  const body: Record<string, string> = { error: error.error };
  if (error.description) body.error_description = error.description;
  return jsonResponse(error.status, body, error.headers);
}

/** All values of a header, matched case-insensitively, read as the runtime guard reads them (`collectHeaders`). */
export function headerValues(event: HttpEvent, name: string): string[] {
  return collectHeaders(event).get(name.toLowerCase()) ?? [];
}

/** The single value of a header; a repeated header is a malformed request. */
export function singleHeader(event: HttpEvent, name: string): string | undefined {
  const values = headerValues(event, name);
  if (values.length > 1) throw invalidRequest(`duplicate_header_${name.toLowerCase()}`);
  return values[0];
}

export function rawBody(event: HttpEvent): Buffer {
  if (event.body === null || event.body === undefined) return Buffer.alloc(0);
  const body = event.isBase64Encoded ? Buffer.from(event.body, 'base64') : Buffer.from(event.body, 'utf8');
  if (body.length > MAX_BODY_BYTES) throw new OAuthError(413, 'invalid_request', 'body_too_large', 'The request body is too large.');
  return body;
}

function mediaType(event: HttpEvent): { type: string; charset?: string } | undefined {
  const header = singleHeader(event, 'content-type');
  if (header === undefined) return undefined;
  const [type, ...parameters] = header.split(';').map((part) => part.trim().toLowerCase());
  const charset = parameters.find((p) => p.startsWith('charset='))?.slice('charset='.length).replace(/"/g, '');
  return { type, charset };
}

function decodeUtf8(bytes: Buffer, reason: string): string {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) throw invalidRequest(`${reason}_bom`);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalidRequest(`${reason}_not_utf8`);
  }
}

/** At most this many form parameters; OAuth requests need about ten. */
const MAX_FORM_PARAMETERS = 32;
const MALFORMED_PERCENT = /%(?![0-9A-Fa-f]{2})/;

/**
 * Parses an `application/x-www-form-urlencoded` body strictly (OAuth 2.1 §3.1, ROB-01/02): UTF-8 only,
 * no repeated parameter, no `a[]`/`a[x]` array syntax, no NUL, no malformed percent-encoding.
 * Empty values count as omitted (AZR-10).
 */
export function parseForm(event: HttpEvent): FormParameters {
  const type = mediaType(event);
  if (!type || type.type !== 'application/x-www-form-urlencoded' || (type.charset && type.charset !== 'utf-8')) {
    throw invalidRequest('unsupported_content_type', 'The body must be application/x-www-form-urlencoded (UTF-8).');
  }
  const text = decodeUtf8(rawBody(event), 'form');
  return parseUrlEncoded(text);
}

/** Parsed parameters; `get` treats an empty value as omitted, `sent` tells whether the name appeared at all. */
export class FormParameters {
  constructor(private readonly values: Map<string, string>) {}

  get(name: string): string | undefined {
    const value = this.values.get(name);
    return value === '' ? undefined : value;
  }

  sent(name: string): boolean {
    return this.values.has(name);
  }

  static of(record: Record<string, string>): FormParameters {
    return new FormParameters(new Map(Object.entries(record)));
  }
}

export function parseUrlEncoded(text: string): FormParameters {
  if (MALFORMED_PERCENT.test(text)) throw invalidRequest('form_bad_encoding');
  const params = new Map<string, string>();
  let count = 0;
  for (const [key, value] of new URLSearchParams(text)) {
    if (++count > MAX_FORM_PARAMETERS) throw invalidRequest('form_too_many_parameters');
    if (key.includes('[') || key.includes(']')) throw invalidRequest('form_array_syntax');
    if (key.includes('\0') || value.includes('\0')) throw invalidRequest('form_nul');
    // RFC 8707 §2: several resources in one request are refused as invalid_target (MRS-05): a token here has one audience.
    if (params.has(key) && key === 'resource') throw invalidTarget('multiple_resources');
    if (params.has(key)) throw invalidRequest(`duplicate_parameter`, 'A parameter was repeated.');
    params.set(key, value);
  }
  return new FormParameters(params);
}

/** Parses an `application/json` object body; anything else is `errorCode` (e.g. invalid_client_metadata). */
export function parseJsonObject(event: HttpEvent, errorCode: string): Record<string, unknown> {
  const type = mediaType(event);
  if (!type || type.type !== 'application/json' || (type.charset && type.charset !== 'utf-8')) {
    throw new OAuthError(400, errorCode, 'unsupported_content_type', 'The body must be application/json.');
  }
  const text = decodeUtf8(rawBody(event), 'json');
  let parsed: unknown;
  try {
    parsed = parseUntrustedJson(text);
  } catch {
    throw new OAuthError(400, errorCode, 'malformed_json', 'The body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new OAuthError(400, errorCode, 'json_not_object', 'The body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

export function sourceIp(event: HttpEvent): string | undefined {
  return event.requestContext?.identity?.sourceIp ?? undefined;
}
