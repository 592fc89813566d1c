import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { signIn, startEdgeProxy, type EdgeProxy } from './edge-proxy';
import { RunningStack, startStackProcess } from '../support/local-stack';

/**
 * The official MCP conformance suite's server scenarios against the example MCP server through the
 * whole edge of the local stack (authorizer, runtime guard), with alice's real access token added by
 * a loopback proxy. Scenarios that need the suite's own fixture tools, prompts, resources or
 * long-lived SSE streams (which a Lambda behind a REST API cannot hold) do not apply; the applicable
 * checks of mixed scenarios are named one by one.
 */
const CONFORMANCE = resolve(__dirname, '..', '..', 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

let stack: RunningStack;
let proxy: EdgeProxy;
beforeAll(async () => {
  stack = await startStackProcess();
  proxy = await startEdgeProxy(stack, await signIn(stack, 'alice'));
}, 60_000);
afterAll(async () => {
  await proxy?.close();
  await stack?.stop();
});

/** Runs one scenario; returns every check's status by id (a check id may repeat: all must agree) and the raw output. */
async function scenario(name: string): Promise<{ checks: Map<string, string[]>; output: string }> {
  const child = spawn(process.execPath, [CONFORMANCE, 'server', '--url', proxy.url, '--scenario', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((done) => child.on('exit', done));
  // eslint-disable-next-line no-control-regex -- the suite colours its report with ANSI escapes, which start with ESC
  const plain = output.replace(/\u001b\[\d+m/g, '');
  const checks = new Map<string, string[]>();
  for (const [, id, status] of plain.matchAll(/\[([\w.-]+)\s*\] (SUCCESS|FAILURE|WARNING|SKIPPED)/g)) checks.set(id, [...(checks.get(id) ?? []), status]);
  return { checks, output: plain };
}

test.each(['dns-rebinding-protection', 'http-header-validation', 'http-custom-header-server-validation', 'tools-list', 'server-initialize', 'ping'])(
  'conformance %s passes through the edge with a real token',
  async (name) => {
    const { checks, output } = await scenario(name);
    expect(checks.size).toBeGreaterThan(0);
    const failed = [...checks].filter(([, statuses]) => statuses.some((status) => status !== 'SUCCESS'));
    if (failed.length > 0) throw new Error(`${name}: ${failed.map(([id]) => id).join(', ')} did not pass:\n${output}`);
    expect(output).toMatch(/Passed: (\d+)\/\1, 0 failed/);
  },
  60_000,
);

test.each<[string, string[]]>([
  [
    'server-stateless',
    [
      'sep-2575-server-unsupported-version-error',
      'sep-2575-http-server-unsupported-version-400',
      'sep-2575-http-server-header-mismatch-400',
      'sep-2575-http-server-method-not-found-404-initialize',
      'sep-2575-http-server-method-not-found-404',
      'sep-2575-http-server-error-jsonrpc-id',
    ],
  ],
  ['caching', ['sep-2549-tools-list-caching-hints', 'sep-2549-ttl-non-negative', 'sep-2549-cache-scope-valid']],
])('conformance %s: the checks that apply to a stateless tools-only server behind a REST API pass', async (name, applicable) => {
  const { checks, output } = await scenario(name);
  for (const id of applicable) {
    if (!checks.get(id)?.every((status) => status === 'SUCCESS')) throw new Error(`${name}: ${id} is ${checks.get(id) ?? 'missing'}:\n${output}`);
  }
}, 60_000);
