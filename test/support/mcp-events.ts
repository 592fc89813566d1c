import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';
export const PRM_URL = `${ISSUER}/.well-known/oauth-protected-resource/mcp`;
export const RESOURCE = `${ISSUER}/mcp`;
export const NOW = 1_800_000_000;

export interface CallerContext {
  sub?: string;
  client_id?: string;
  scope?: string;
  jti?: string;
  username?: string;
  exp?: string;
  caller_type?: string;
  aud?: string;
  scope_denied?: string;
}

/** What the authorizer puts into `requestContext.authorizer` for an allowed call (plus API Gateway's principalId). */
export function allowContext(overrides: CallerContext = {}): Record<string, string> {
  const context: Record<string, string | undefined> = {
    principalId: overrides.sub ?? 'user-123',
    sub: 'user-123',
    client_id: 'client-abc',
    scope: 'mcp:tools',
    jti: 'jti-0001',
    exp: String(NOW + 300),
    aud: RESOURCE,
    ...overrides,
  };
  return Object.fromEntries(Object.entries(context).filter(([, value]) => value !== undefined)) as Record<string, string>;
}

export interface ProxyEventOptions {
  readonly method?: string;
  readonly body?: unknown;
  /** A raw body string (invalid JSON, base64, ...); wins over `body`. */
  readonly rawBody?: string;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string | string[]>;
  /** `null` leaves the authorizer context out (a route wired without the authorizer). */
  readonly authorizer?: Record<string, string> | null;
}

/** An API Gateway REST proxy event for /mcp, as the MCP function receives it. */
export function proxyEvent(options: ProxyEventOptions = {}): APIGatewayProxyEvent {
  const multiValueHeaders: Record<string, string[]> = {
    Host: ['abc123.execute-api.eu-west-1.amazonaws.com'],
    'Content-Type': ['application/json'],
    Accept: ['application/json, text/event-stream'],
    Authorization: ['Bearer eyJhbGciOiJSUzI1NiJ9.canary-token.signature'],
  };
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    for (const existing of Object.keys(multiValueHeaders)) if (existing.toLowerCase() === name.toLowerCase()) delete multiValueHeaders[existing];
    multiValueHeaders[name] = Array.isArray(value) ? value : [value];
  }
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).filter(([, values]) => values.length > 0).map(([name, values]) => [name, values[values.length - 1]]));
  const body = options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body));
  return {
    httpMethod: options.method ?? 'POST',
    path: '/mcp',
    resource: '/mcp',
    headers,
    multiValueHeaders,
    body,
    isBase64Encoded: options.isBase64Encoded ?? false,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      requestId: 'req-1',
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      stage: 'prod',
      authorizer: options.authorizer === null ? undefined : (options.authorizer ?? allowContext()),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export function rpc(method: string, params?: Record<string, unknown>, id: number | string | null = 1): Record<string, unknown> {
  return { jsonrpc: '2.0', ...(id !== null ? { id } : {}), method, ...(params ? { params } : {}) };
}

export function toolCall(name: string, args: Record<string, unknown> = {}, meta?: Record<string, unknown>): Record<string, unknown> {
  return rpc('tools/call', { name, arguments: args, ...(meta ? { _meta: meta } : {}) });
}

export function jsonBody(result: APIGatewayProxyResult | { body: string }): any {
  return JSON.parse(result.body);
}
