import { ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Starts the local stack exactly as `npm start` does, in its own process, and waits for its
 * `MCP endpoint: <url>` line. Extra environment (short token lifetimes, ...) goes to every handler.
 */
export interface RunningStack {
  readonly issuer: string;
  /** The first MCP server (`/mcp`). */
  readonly mcpUrl: string;
  /** Every MCP server the stack printed, `/mcp` first. */
  readonly mcpUrls: readonly string[];
  readonly output: string[];
  stop(): Promise<void>;
}

const ROOT = resolve(__dirname, '..', '..');

export async function startStackProcess(environment: Record<string, string> = {}, args: string[] = []): Promise<RunningStack> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--port', '0', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const endpoints = await new Promise<string[]>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`the local stack did not start:\n${output.join('')}`)), 30_000);
    const collect = (chunk: Buffer) => {
      output.push(chunk.toString());
      // The stack writes every endpoint line at once; the lines are complete when the last ends.
      const text = output.join('');
      const matches = [...text.matchAll(/MCP endpoint: (\S+)\n/g)];
      if (matches.length > 0 && text.endsWith('\n')) {
        clearTimeout(timer);
        done(matches.map((match) => match[1]));
      }
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    child.on('exit', (code) => fail(new Error(`the local stack exited with ${code}:\n${output.join('')}`)));
  });
  const endpoint = endpoints[0];
  return {
    issuer: endpoint.replace(/\/mcp$/, ''),
    mcpUrl: endpoint,
    mcpUrls: endpoints,
    output,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

/** The audit lines the stack's handlers wrote to stdout. */
export function auditEvents(stack: RunningStack): Array<Record<string, unknown>> {
  return stack.output
    .join('')
    .split('\n')
    .filter((line) => line.startsWith('{"event"'))
    .map((line) => JSON.parse(line));
}
