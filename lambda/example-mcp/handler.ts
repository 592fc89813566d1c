import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { toAuthInfo, type McpCaller } from '../runtime/caller';
import type { McpProxyResult } from '../runtime/guard';
import { withMcpGuard } from '../runtime/middleware';
import type { McpGuardOptions } from '../runtime/options';
import { createExampleServer } from './server';
import { toProxyResult, toWebRequest } from './web-bridge';

/** One JSON-RPC message through a fresh stateless server and transport (no sessions, JSON responses). */
export async function serveMcp(event: APIGatewayProxyEvent, _context: Context, caller: McpCaller): Promise<APIGatewayProxyResult> {
  const server = createExampleServer();
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  try {
    // The caller, never a token, reaches the tools as extra.authInfo (RS-9).
    return await toProxyResult(await transport.handleRequest(toWebRequest(event), { authInfo: toAuthInfo(caller) }));
  } finally {
    await server.close();
  }
}

function methodNotAllowed(): McpProxyResult {
  return {
    statusCode: 405,
    headers: { Allow: 'POST', 'Content-Type': 'application/json', 'Cache-Control': 'no-store' },
    body: JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'Method Not Allowed' } }),
  };
}

/** POST /mcp behind the runtime guard; GET and DELETE (no SSE stream, no sessions) answer 405. */
export function createExampleHandler(options: McpGuardOptions): (event: APIGatewayProxyEvent, context: Context) => Promise<McpProxyResult> {
  const guarded = withMcpGuard(serveMcp, options);
  return async (event, context) => (event.httpMethod === 'POST' ? guarded(event, context) : methodNotAllowed());
}
