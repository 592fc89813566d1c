import { McpServer, type ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { callerFromAuthInfo, type McpCaller } from '../runtime/caller';

/**
 * The example MCP server's tools, on the official v2 server SDK (protocol 2026-07-28, and the 2025
 * revisions through its stateless fallback). They contain no authorization logic: the authorizer and
 * the runtime guard decide who may call what (from the scope model); a tool only reads who is calling.
 */

export const EXAMPLE_SERVER_INFO = { name: 'cdk-secure-mcp-server-example', version: '0.1.0' } as const;

function callerOf(context: ServerContext): McpCaller {
  const caller = callerFromAuthInfo(context.http?.authInfo);
  // Unreachable behind the guard; refuse rather than answer for an unknown caller.
  if (!caller) throw new Error('No authenticated caller');
  return caller;
}

const json = (value: unknown) => ({ content: [{ type: 'text' as const, text: JSON.stringify(value) }] });

/** A fresh server per request: stateless mode keeps nothing between callers (FAULT-10). */
export function createExampleServer(): McpServer {
  const server = new McpServer(EXAMPLE_SERVER_INFO);
  server.registerTool(
    'echo',
    { description: 'Returns its text argument unchanged.', inputSchema: z.object({ text: z.string().max(10_000) }) },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  // `x-mcp-header`: 2026-07-28 clients mirror `name` into an `Mcp-Param-Name` header, which the SDK checks against the body.
  server.registerTool(
    'greet',
    { description: 'Greets someone by name.', inputSchema: z.object({ name: z.string().min(1).max(64).meta({ 'x-mcp-header': 'Name' }) }) },
    async ({ name }) => ({ content: [{ type: 'text', text: `Hello, ${name}!` }] }),
  );
  server.registerTool('whoami', { description: 'Names the signed-in user and the client calling on their behalf.' }, async (context) => {
    const caller = callerOf(context);
    return json({ user: caller.user, client_id: caller.clientId });
  });
  server.registerTool('admin_stats', { description: 'Harmless runtime statistics of this server (administrators only).' }, async (context) => {
    callerOf(context);
    return json({
      server: EXAMPLE_SERVER_INFO.name,
      version: EXAMPLE_SERVER_INFO.version,
      runtime: process.version,
      uptime_seconds: Math.floor(process.uptime()),
      memory_rss_mb: Math.round(process.memoryUsage.rss() / (1024 * 1024)),
    });
  });
  return server;
}
