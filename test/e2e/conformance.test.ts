import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { playBrowser } from '../support/browser-player';
import { freePort } from '../support/ports';
import { RunningStack, startStackProcess } from '../support/local-stack';

/**
 * The official MCP conformance suite's authorization-server scenarios against the local stack:
 * `conformance authorization --url <issuer> --client-id <id>`. The suite prints an authorization URL
 * for a person to open; the headless browser signs in as alice and approves, and the suite receives
 * the callback, redeems the code and checks every response.
 */
const CONFORMANCE = resolve(__dirname, '..', '..', 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js');

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStackProcess();
}, 60_000);
afterAll(() => stack?.stop());

test('the MCP conformance suite (authorization server scenarios) passes against the local stack', async () => {
  // Registered as the suite documents it; the loopback rule (RFC 8252) lets the suite use any free port.
  const registration = await fetch(`${stack.issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'MCP conformance suite', redirect_uris: ['http://127.0.0.1:3000/callback'], token_endpoint_auth_method: 'none' }),
  });
  const { client_id: clientId } = (await registration.json()) as { client_id: string };
  const port = await freePort();

  const child = spawn(process.execPath, [CONFORMANCE, 'authorization', '--url', stack.issuer, '--client-id', clientId, '--resource', stack.mcpUrl, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let browsed = false;
  const exited = new Promise<number>((done) => child.on('exit', (code) => done(code ?? -1)));
  const onOutput = (chunk: Buffer) => {
    output += chunk.toString();
    const url = /^(http\S+\/authorize\?\S+)$/m.exec(output)?.[1];
    if (url && !browsed) {
      browsed = true;
      void playBrowser(url, { username: 'alice', password: 'alice', redirectUri: `http://127.0.0.1:${port}/callback` })
        .then((callback) => fetch(callback))
        .catch((error: Error) => {
          output += `\nbrowser failed: ${error.message}\n`;
          child.kill();
        });
    }
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', onOutput);
  const code = await exited;
  if (code !== 0) throw new Error(`conformance exited with ${code}:\n${output}`);
  expect(browsed).toBe(true);
  expect(output).toMatch(/✓ authorization-server-metadata-endpoint: \d+ passed, 0 failed/);
  expect(output).toMatch(/✓ authorization-code-grant: \d+ passed, 0 failed/);
  expect(output).toMatch(/Total: [1-9]\d* passed, 0 failed/);
}, 120_000);
