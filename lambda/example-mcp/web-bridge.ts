import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { collectHeaders } from '../runtime/mcp-headers';

/** Between an API Gateway REST proxy event and the web-standard Request/Response the MCP SDK's transport speaks. */

/** Hop-by-hop and framing headers: the body is handed over whole, so they no longer describe it. */
const DROPPED_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade']);

export function toWebRequest(event: APIGatewayProxyEvent): Request {
  const headers = new Headers();
  for (const [name, values] of collectHeaders(event)) {
    if (DROPPED_HEADERS.has(name)) continue;
    for (const value of values) headers.append(name, value);
  }
  // The domain API Gateway served, never the client's Host header.
  const url = new URL(event.path || '/', `https://${event.requestContext?.domainName ?? 'localhost'}`);
  const hasBody = event.body !== null && event.body !== undefined && event.httpMethod !== 'GET' && event.httpMethod !== 'HEAD';
  const body = hasBody ? (event.isBase64Encoded ? Buffer.from(event.body!, 'base64') : event.body!) : undefined;
  return new Request(url, { method: event.httpMethod, headers, body });
}

export async function toProxyResult(response: Response): Promise<APIGatewayProxyResult> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  return { statusCode: response.status, headers, body: await response.text() };
}
