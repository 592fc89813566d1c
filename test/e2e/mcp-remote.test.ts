import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser, signInWithBrowser } from '../support/browser';
import { freePort } from '../support/ports';
import { auditEvents, RunningStack, startStackProcess } from '../support/local-stack';

/**
 * mcp-remote, the stdio proxy Claude Desktop and Cursor users run (`npx mcp-remote <url>`), against the
 * local stack: its own discovery, registration, PKCE and token storage. The authorization URL it prints
 * is opened in a real Chromium (consent, sign-in as alice), which delivers the redirect to its callback server.
 */
const PROXY = resolve(__dirname, '..', '..', 'node_modules', 'mcp-remote', 'dist', 'proxy.js');

interface Remote {
  request(method: string, params?: Record<string, unknown>): Promise<{ result?: any; error?: { message: string } }>;
  notify(method: string): void;
  readonly authorizations: URL[];
  stop(): Promise<void>;
}

function startRemote(browser: Browser, mcpUrl: string, port: number, configDir: string): Remote {
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, [PROXY, mcpUrl, String(port), '--allow-http', '--host', '127.0.0.1'], {
    // No browser to open: mcp-remote falls back to printing the authorization URL.
    env: { ...process.env, MCP_REMOTE_CONFIG_DIR: configDir, BROWSER: 'none', DISPLAY: '' },
  });
  const authorizations: URL[] = [];
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    const url = /Please authorize this client by visiting:\s*(http\S+)/.exec(log.slice(log.lastIndexOf('Please authorize')))?.[1];
    if (url && !authorizations.some((seen) => seen.href === url)) {
      authorizations.push(new URL(url));
      const redirectUri = `http://127.0.0.1:${port}/oauth/callback`;
      void signInWithBrowser(browser, url, { username: 'alice', password: 'alice', redirectUri });
    }
  });
  const pending = new Map<number, (message: any) => void>();
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).trim();
      buffer = buffer.slice(newline + 1);
      if (!line) continue;
      const message = JSON.parse(line);
      if (message.id !== undefined && pending.has(message.id)) {
        pending.get(message.id)!(message);
        pending.delete(message.id);
      }
    }
  });
  let nextId = 1;
  return {
    authorizations,
    request: (method, params) =>
      new Promise((done, fail) => {
        const id = nextId++;
        const timer = setTimeout(() => fail(new Error(`mcp-remote did not answer ${method}:\n${log}`)), 30_000);
        pending.set(id, (message) => {
          clearTimeout(timer);
          done(message);
        });
        child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, ...(params ? { params } : {}) }) + '\n');
      }),
    notify: (method) => child.stdin.write(JSON.stringify({ jsonrpc: '2.0', method }) + '\n'),
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGTERM');
      }),
  };
}

async function session(remote: Remote) {
  const init = await remote.request('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'e2e-stdio-host', version: '1.0.0' } });
  expect(init.result?.serverInfo?.name).toBe('cdk-secure-mcp-server-example');
  remote.notify('notifications/initialized');
  const whoami = await remote.request('tools/call', { name: 'whoami', arguments: {} });
  return { init, whoami: JSON.parse(whoami.result.content[0].text) as { user: string; client_id: string } };
}

let stack: RunningStack;
let configDir: string;
let browser: Browser;
beforeAll(async () => {
  stack = await startStackProcess();
  configDir = mkdtempSync(join(tmpdir(), 'mcp-remote-'));
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  rmSync(configDir, { recursive: true, force: true });
});

test('mcp-remote signs in once, lists and calls tools (whoami = alice), reuses its tokens after a restart and refreshes a rejected token', async () => {
  const port = await freePort();
  const first = startRemote(browser, stack.mcpUrl, port, configDir);
  try {
    const { whoami } = await session(first);
    expect(whoami.user).toBe('alice');
    const tools = (await first.request('tools/list')).result.tools.map((tool: { name: string }) => tool.name);
    expect(tools).toEqual(expect.arrayContaining(['echo', 'greet', 'whoami']));
    expect(tools).not.toContain('admin_stats');
    expect(first.authorizations).toHaveLength(1);
  } finally {
    await first.stop();
  }

  // A restart reuses the stored tokens: no second authorization.
  const second = startRemote(browser, stack.mcpUrl, port, configDir);
  try {
    expect((await session(second)).whoami.user).toBe('alice');
    expect(second.authorizations).toHaveLength(0);
  } finally {
    await second.stop();
  }
  const issued = auditEvents(stack).filter((event) => event.event === 'token.issued');
  expect(issued).toHaveLength(1);
  expect(issued[0].refresh).toBe(true);

  // The stored access token no longer verifies (as after a key rotation): the 401 makes mcp-remote refresh.
  const tokensFile = readdirSync(configDir, { recursive: true, encoding: 'utf8' }).find((name) => name.endsWith('_tokens.json'))!;
  const stored = JSON.parse(readFileSync(join(configDir, tokensFile), 'utf8'));
  writeFileSync(join(configDir, tokensFile), JSON.stringify({ ...stored, access_token: `${stored.access_token.slice(0, -8)}AAAAAAAA` }));
  const third = startRemote(browser, stack.mcpUrl, port, configDir);
  try {
    expect((await session(third)).whoami.user).toBe('alice');
    expect(third.authorizations).toHaveLength(0);
  } finally {
    await third.stop();
  }
  const events = auditEvents(stack);
  // The edge refused the tampered token itself (a presented token, not the token-less discovery probe) ...
  const refused = events.findIndex((event) => event.event === 'rs.denied' && event.reason !== 'missing');
  expect(refused).toBeGreaterThanOrEqual(0);
  // ... and only then did mcp-remote refresh, with the refresh token from the one sign-in.
  const refreshed = events.findIndex((event) => event.event === 'token.refreshed');
  expect(refreshed).toBeGreaterThan(refused);
  expect(events.filter((event) => event.event === 'token.issued')).toHaveLength(1);
}, 120_000);
