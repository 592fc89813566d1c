#!/usr/bin/env node
import { formatSmoke, runSmoke } from './smoke';

const USAGE = `Usage: npx cdk-secure-mcp-server smoke <mcpUrl> [--register] [--timeout <seconds>]

Checks a deployed SecureMcpServer the way an MCP client discovers it: the 401 challenge naming the
protected resource metadata, that metadata, the authorization server metadata and its JWKS, and a CORS
preflight. --register also registers (and deletes again) a public client with a loopback redirect URI.
Exits 0 when every check passes, 1 when one fails, 2 on bad arguments.`;

/** Parses argv (after the node and script paths); returns the exit code. */
export async function main(argv: readonly string[], write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    write(`${USAGE}\n`);
    return 0;
  }
  const positional: string[] = [];
  let register = false;
  let timeoutMs: number | undefined;
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '--register') register = true;
    else if (rest[i] === '--timeout') {
      const seconds = Number(rest[++i]);
      if (!Number.isFinite(seconds) || seconds <= 0) {
        write(`--timeout needs a number of seconds, got ${JSON.stringify(rest[i])}\n\n${USAGE}\n`);
        return 2;
      }
      timeoutMs = seconds * 1000;
    } else if (rest[i].startsWith('-')) {
      write(`Unknown option ${rest[i]}\n\n${USAGE}\n`);
      return 2;
    } else positional.push(rest[i]);
  }
  if (command !== 'smoke' || positional.length !== 1) {
    write(`${USAGE}\n`);
    return 2;
  }
  const results = await runSmoke(positional[0], { register, timeoutMs });
  write(`${formatSmoke(results)}\n`);
  return results.every((result) => result.ok) ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
