import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { createMcpHandler, isLegacyRequest, WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/server';
import { toAuthInfo, type McpCaller } from '../runtime/caller';
import type { McpProxyResult } from '../runtime/guard';
import { withMcpGuard } from '../runtime/middleware';
import type { McpGuardOptions } from '../runtime/options';
import { createExampleServer } from './server';
import { toProxyResult, toWebRequest } from './web-bridge';

/** 2026-07-28 requests: the SDK's per-request entry (no sessions; JSON unless a tool streams). */
const modern = createMcpHandler(createExampleServer, { legacy: 'reject' });

/** 2025-era requests: a fresh stateless server and transport per request, answering with JSON. */
async function serveLegacy(request: Request, authInfo: ReturnType<typeof toAuthInfo>): Promise<Response> {
  const server = createExampleServer();
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    return await transport.handleRequest(request, { authInfo });
  } finally {
    await server.close();
  }
}

/** One JSON-RPC message through the SDK, with the caller (never a token) as authInfo (RS-9). */
export async function serveMcp(event: APIGatewayProxyEvent, _context: Context, caller: McpCaller): Promise<APIGatewayProxyResult> {
  const request = toWebRequest(event);
  const authInfo = toAuthInfo(caller);
  const response = (await isLegacyRequest(request)) ? await serveLegacy(request, authInfo) : await modern.fetch(request, { authInfo });
  return toProxyResult(response);
}

function methodNotAllowed(): McpProxyResult {
  return {
    statusCode: 405,
    headers: { Allow: 'POST', 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Method Not Allowed' } }),
  };
}

/** POST /mcp behind the runtime guard; GET, HEAD and DELETE (no SSE stream, no sessions) answer 405. */
export function createExampleHandler(options: McpGuardOptions): (event: APIGatewayProxyEvent, context: Context) => Promise<McpProxyResult> {
  const guarded = withMcpGuard(serveMcp, options);
  return async (event, context) => (event.httpMethod === 'POST' ? guarded(event, context) : methodNotAllowed());
}
