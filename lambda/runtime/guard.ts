import { expandScopes, requiredScopesFor } from '../../lib/scopes';
import { CORS_EXPOSE_HEADERS } from '../../lib/routes';
import { callerFromAuthorizerContext, type McpCaller } from './caller';
import { insufficientScopeChallenge, invalidTokenChallenge, unauthorizedChallenge } from '../../lib/challenges';
import {
  collectHeaders,
  decodeMcpHeaderValue,
  HEADER_MISMATCH,
  headersAreValidated,
  METHOD_HEADER,
  NAME_HEADER,
  NAMED_METHODS,
  PARAM_HEADER_PREFIX,
  PROTOCOL_VERSION_HEADER,
  REPEATED,
  singleValue,
  type HeaderSource,
} from './mcp-headers';
import { normalizeOrigin, type ResolvedGuardOptions } from './options';

/**
 * The runtime guard's two halves, as plain functions: `guardRequest` runs before the MCP server and
 * either answers the request itself or hands it on (without its Authorization header, with the
 * caller); `guardResponse` filters a `tools/list` result to the tools the caller may call.
 */

/** What the guard needs of an API Gateway REST proxy event; `APIGatewayProxyEvent` satisfies it. */
export interface McpProxyEvent extends HeaderSource {
  readonly httpMethod: string;
  readonly body: string | null;
  readonly isBase64Encoded?: boolean;
  readonly requestContext: { readonly authorizer?: Readonly<Record<string, unknown>> | null };
}

/** An API Gateway REST proxy result; `APIGatewayProxyResult` satisfies it. */
export interface McpProxyResult {
  statusCode: number;
  headers?: Record<string, boolean | number | string>;
  multiValueHeaders?: Record<string, Array<boolean | number | string>>;
  body: string;
  isBase64Encoded?: boolean;
}

type JsonRpcId = string | number | null;

/** The JSON-RPC message the guard let through. */
export interface GuardedCall {
  readonly id: JsonRpcId;
  readonly method?: string;
  readonly toolName?: string;
}

export type GuardOutcome<E> =
  | { readonly proceed: false; readonly response: McpProxyResult }
  | { readonly proceed: true; readonly event: E; readonly caller: McpCaller; readonly call?: GuardedCall };

const JSON_RPC_PARSE_ERROR = -32700;
const JSON_RPC_INVALID_REQUEST = -32600;
const JSON_RPC_INTERNAL_ERROR = -32603;
/** Implementation-defined server error (JSON-RPC reserves -32000 to -32099): Origin and authorization refusals. */
const JSON_RPC_FORBIDDEN = -32000;
const PROTOCOL_VERSION_META = 'io.modelcontextprotocol/protocolVersion';

/**
 * A challenge must be readable by browser-based clients, as API Gateway's own 401/403 answers are
 * (lib/private/rest-api.ts): it carries no data, and the wildcard never admits credentials.
 */
const CHALLENGE_CORS = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS.join(',') };

function jsonRpcError(statusCode: number, code: number, message: string, id: JsonRpcId = null, headers: Record<string, string> = {}): McpProxyResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...('WWW-Authenticate' in headers ? CHALLENGE_CORS : {}), ...headers },
    body: JSON.stringify({ jsonrpc: '2.0', id, error: { code, message } }),
  };
}

function withoutAuthorization<T>(map: Readonly<Record<string, T>> | null | undefined): Record<string, T> | null | undefined {
  if (!map) return map;
  const copy: Record<string, T> = {};
  for (const name in map) if (name.toLowerCase() !== 'authorization') copy[name] = map[name];
  return copy;
}

/** The event the MCP server sees: identical except that the client's token is gone (RS-9, no token passthrough). */
export function stripAuthorization<E extends McpProxyEvent>(event: E): E {
  return { ...event, headers: withoutAuthorization(event.headers), multiValueHeaders: withoutAuthorization(event.multiValueHeaders) };
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);

/**
 * RS-12: the mirrored headers must agree with the body, for every protocol version; from 2026-07-28 on
 * they are also required. Returns what is wrong (no request values echoed), or undefined.
 */
export function headerMismatch(headers: ReadonlyMap<string, readonly string[]>, message: Record<string, unknown>): string | undefined {
  const method = typeof message.method === 'string' ? message.method : undefined;
  const params = isObject(message.params) ? message.params : undefined;
  const isRequest = method !== undefined && 'id' in message;

  const version = singleValue(headers, PROTOCOL_VERSION_HEADER);
  if (version === REPEATED) return 'MCP-Protocol-Version is repeated';
  const meta = params && isObject(params._meta) ? params._meta : undefined;
  const bodyVersion = meta?.[PROTOCOL_VERSION_META];
  if (bodyVersion !== undefined && bodyVersion !== version) return 'MCP-Protocol-Version does not match the protocol version in _meta';
  const required = isRequest && headersAreValidated(version);

  const methodHeader = singleValue(headers, METHOD_HEADER);
  if (methodHeader === REPEATED) return 'Mcp-Method is repeated';
  if (methodHeader === undefined) {
    if (required) return 'Mcp-Method is required';
  } else if (methodHeader !== method) {
    return 'Mcp-Method does not match the method in the body';
  }

  // Mcp-Param-* values are checked against the arguments by the MCP SDK, which holds the tools' input
  // schemas; a value no conforming client could send (repeated, undecodable) is refused here already.
  for (const [header, values] of headers) {
    if (!header.startsWith(PARAM_HEADER_PREFIX)) continue;
    if (values.length > 1) return 'an Mcp-Param-* header is repeated';
    if (decodeMcpHeaderValue(values[0]) === undefined) return 'an Mcp-Param-* header is not a valid header value';
  }

  const nameField = method !== undefined && Object.hasOwn(NAMED_METHODS, method) ? NAMED_METHODS[method] : undefined;
  const nameHeader = singleValue(headers, NAME_HEADER);
  if (nameHeader === REPEATED) return 'Mcp-Name is repeated';
  if (nameHeader === undefined) return required && nameField ? 'Mcp-Name is required' : undefined;
  const name = decodeMcpHeaderValue(nameHeader);
  if (name === undefined) return 'Mcp-Name is not a valid header value';
  if (!nameField || params?.[nameField] !== name) return `Mcp-Name does not match params.${nameField ?? 'name'}`;
  return undefined;
}

function bodyText(event: McpProxyEvent, maxBytes: number): string | 'too_large' {
  const raw = event.body ?? '';
  const bytes = event.isBase64Encoded ? Buffer.from(raw, 'base64') : Buffer.from(raw, 'utf8');
  if (bytes.length > maxBytes) return 'too_large';
  return bytes.toString('utf8');
}

/** 403 insufficient_scope naming every scope the operation needs (RS-7), with this server's metadata. */
function insufficient(options: ResolvedGuardOptions, requiredScopes: readonly string[], id: JsonRpcId = null): { readonly proceed: false; readonly response: McpProxyResult } {
  return {
    proceed: false,
    response: jsonRpcError(403, JSON_RPC_FORBIDDEN, 'Forbidden: insufficient scope', id, { 'WWW-Authenticate': insufficientScopeChallenge(options.resourceMetadataUrl, requiredScopes) }),
  };
}

export function guardRequest<E extends McpProxyEvent>(event: E, options: ResolvedGuardOptions): GuardOutcome<E> {
  const headers = collectHeaders(event);

  // RS-10 first: a refused browser origin learns nothing else.
  const origins = headers.get('origin');
  if (origins) {
    const origin = origins.length === 1 ? normalizeOrigin(origins[0]) : undefined;
    if (!origin || !options.allowedOrigins.has(origin)) {
      return { proceed: false, response: jsonRpcError(403, JSON_RPC_FORBIDDEN, 'Forbidden: Origin not allowed') };
    }
  }

  // RS-11: never serve a request the authorizer did not allow (e.g. a route wired without it).
  const caller = callerFromAuthorizerContext(event.requestContext?.authorizer);
  if (!caller) {
    return {
      proceed: false,
      response: jsonRpcError(401, JSON_RPC_FORBIDDEN, 'Unauthorized', null, { 'WWW-Authenticate': unauthorizedChallenge(options.resourceMetadataUrl, options.defaultScopes) }),
    };
  }
  // MRS-03: a token for another MCP server of the same authorization server is not a token for this one,
  // even if a route were wired to the wrong authorizer configuration.
  if (caller.resource !== options.resource) {
    return {
      proceed: false,
      response: jsonRpcError(401, JSON_RPC_FORBIDDEN, 'Unauthorized: the access token is for another MCP server', null, {
        'WWW-Authenticate': invalidTokenChallenge(options.resourceMetadataUrl, options.defaultScopes),
      }),
    };
  }
  // A cached authorizer result can outlive its token; the token's exp travels in the context.
  if (options.clock() >= caller.expiresAt + options.clockToleranceSeconds) {
    return {
      proceed: false,
      response: jsonRpcError(401, JSON_RPC_FORBIDDEN, 'Unauthorized: the access token has expired', null, {
        'WWW-Authenticate': invalidTokenChallenge(options.resourceMetadataUrl, options.defaultScopes),
      }),
    };
  }

  // The edge found a scope missing and left the answer to us (per-server challenges): refuse, whatever
  // this function's own scope model says.
  if (caller.scopeDenied) return insufficient(options, caller.scopeDenied.length > 0 ? caller.scopeDenied : options.defaultScopes);

  const stripped = stripAuthorization(event);
  if (event.httpMethod !== 'POST') {
    // GET/HEAD (probes, a stream) name no operation: they need the default scopes.
    if (!options.satisfies(caller.scopes, options.defaultScopes)) return insufficient(options, options.defaultScopes);
    return { proceed: true, event: stripped, caller };
  }

  const text = bodyText(event, options.maxBodyBytes);
  if (text === 'too_large') return { proceed: false, response: jsonRpcError(413, JSON_RPC_INVALID_REQUEST, 'Payload Too Large') };
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return { proceed: false, response: jsonRpcError(400, JSON_RPC_PARSE_ERROR, 'Parse error: Invalid JSON') };
  }
  // Batches were removed from MCP in 2025-06-18 and their mirrored headers could only describe one message.
  if (Array.isArray(message)) return { proceed: false, response: jsonRpcError(400, JSON_RPC_INVALID_REQUEST, 'Invalid Request: JSON-RPC batches are not supported') };
  if (!isObject(message) || message.jsonrpc !== '2.0') return { proceed: false, response: jsonRpcError(400, JSON_RPC_INVALID_REQUEST, 'Invalid Request') };
  const rawId = message.id;
  const id: JsonRpcId = typeof rawId === 'string' || typeof rawId === 'number' ? rawId : null;
  const method = typeof message.method === 'string' ? message.method : undefined;
  if (method === undefined && !('result' in message) && !('error' in message)) {
    return { proceed: false, response: jsonRpcError(400, JSON_RPC_INVALID_REQUEST, 'Invalid Request', id) };
  }

  const mismatch = headerMismatch(headers, message);
  if (mismatch) return { proceed: false, response: jsonRpcError(400, HEADER_MISMATCH, `Header mismatch: ${mismatch}`, id) };

  const params = isObject(message.params) ? message.params : undefined;
  const toolName = method === 'tools/call' && typeof params?.name === 'string' ? params.name : undefined;
  const requiredScopes = requiredScopesFor(options.scopeModel, method ?? '', toolName);
  if (!options.satisfies(caller.scopes, requiredScopes)) return insufficient(options, requiredScopes, id);
  return { proceed: true, event: stripped, caller, call: { id, method, toolName } };
}

function headerValue(response: McpProxyResult, name: string): string | undefined {
  for (const key in response.headers ?? {}) if (key.toLowerCase() === name) return String(response.headers![key]);
  return undefined;
}

/** Keeps the tools of a `tools/list` result the caller may call; undefined when the message is not one. */
function filterToolsResult(message: unknown, mayCall: (tool: string) => boolean): unknown {
  if (!isObject(message) || !isObject(message.result) || !Array.isArray(message.result.tools)) return undefined;
  const tools = message.result.tools.filter((tool: unknown) => isObject(tool) && typeof tool.name === 'string' && mayCall(tool.name));
  return { ...message, result: { ...message.result, tools } };
}

/**
 * Filters the response to a `tools/list` request to the tools the caller holds the scopes for. Handles
 * JSON and SSE bodies; a successful response it cannot read is replaced by an error (fail closed).
 */
export function guardResponse(response: McpProxyResult, outcome: GuardOutcome<unknown>, options: ResolvedGuardOptions): McpProxyResult {
  if (!outcome.proceed || outcome.call?.method !== 'tools/list' || response.statusCode !== 200) return response;
  const held = expandScopes(options.scopeModel, outcome.caller.scopes);
  const mayCall = (tool: string) => requiredScopesFor(options.scopeModel, 'tools/call', tool).every((scope) => held.has(scope));
  const unreadable = () => jsonRpcError(500, JSON_RPC_INTERNAL_ERROR, 'Internal error', outcome.call?.id ?? null);
  const body = response.isBase64Encoded ? Buffer.from(response.body, 'base64').toString('utf8') : response.body;
  const contentType = headerValue(response, 'content-type') ?? '';
  try {
    if (contentType.startsWith('application/json')) {
      const parsed: unknown = JSON.parse(body);
      const filtered = filterToolsResult(parsed, mayCall);
      if (filtered !== undefined) return { ...response, isBase64Encoded: false, body: JSON.stringify(filtered) };
      return isObject(parsed) && 'error' in parsed ? response : unreadable();
    }
    if (contentType.startsWith('text/event-stream')) {
      const lines = body.split(/\r?\n/).map((line) => {
        if (!line.startsWith('data:')) return line;
        const filtered = filterToolsResult(JSON.parse(line.slice(5)), mayCall);
        return filtered === undefined ? line : `data: ${JSON.stringify(filtered)}`;
      });
      return { ...response, isBase64Encoded: false, body: lines.join('\n') };
    }
  } catch {
    return unreadable();
  }
  return unreadable();
}
