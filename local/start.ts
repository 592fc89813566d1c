import { parseArgs } from 'node:util';
import { startLocalStack } from './stack';

/**
 * `npm start -- [--port N] [--data-dir DIR]`: the local stack on 127.0.0.1. Prints one line
 * `MCP endpoint: <url>` per MCP server once ready (tests and tools wait for it).
 */
const DEFAULT_PORT = 4000;

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: String(DEFAULT_PORT) },
      'data-dir': { type: 'string' },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a port number, got ${values.port}`);
  // LOCAL_MACHINE_CLIENT_SECRET fixes the local machine client's secret (else random, never printed).
  const stack = await startLocalStack({ port, dataDir: values['data-dir'], machineClientSecret: process.env.LOCAL_MACHINE_CLIENT_SECRET || undefined });
  process.stdout.write(`Issuer: ${stack.issuer}\n`);
  process.stdout.write(`Upstream sign-in: ${stack.upstreamIssuer} (users: alice, bob; password = username; local only)\n`);
  process.stdout.write(`Machine client: ${stack.machineClient.clientId} (client_credentials, mcp:tools and tools:use; secret: LOCAL_MACHINE_CLIENT_SECRET)\n`);
  // One line per MCP server, in one write: whoever waits for the first line finds them all.
  process.stdout.write(stack.mcpUrls.map((url) => `MCP endpoint: ${url}\n`).join(''));
  const shutdown = () => void stack.stop().then(() => process.exit(0));
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exit(1);
});
