import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RunningStack, startStackProcess } from '../support/local-stack';

/** The local stack's contract (README): what tests and tools rely on. */
let stack: RunningStack;
beforeAll(async () => {
  stack = await startStackProcess();
}, 60_000);
afterAll(() => stack?.stop());

test('MRS-01 it prints one "MCP endpoint: <url>" line per MCP server, on 127.0.0.1 under the stage base path', () => {
  const lines = stack.output.join('').split('\n').filter((line) => line.startsWith('MCP endpoint: '));
  expect(lines).toEqual([`MCP endpoint: ${stack.issuer}/mcp`, `MCP endpoint: ${stack.issuer}/tools/mcp`]);
  expect(stack.mcpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/prod\/mcp$/);
  expect(stack.mcpUrls).toEqual([stack.mcpUrl, `${stack.issuer}/tools/mcp`]);
});

test('paths outside the base path answer 403 {"message":"Forbidden"} as API Gateway does', async () => {
  const root = new URL(stack.issuer).origin;
  for (const path of ['/', '/mcp', '/.well-known/oauth-authorization-server', '/dev/mcp']) {
    const response = await fetch(`${root}${path}`);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: 'Forbidden' });
  }
});

test('unknown paths under the stage are 404 and other methods on known paths 405, as the construct deploys them', async () => {
  const unknown = await fetch(`${stack.issuer}/nope`);
  expect(unknown.status).toBe(404);
  expect(await unknown.json()).toEqual({ error: 'not_found', error_description: 'No such endpoint.' });
  const deleted = await fetch(stack.mcpUrl, { method: 'DELETE' });
  expect(deleted.status).toBe(405);
  expect(deleted.headers.get('allow')).toBe('POST, OPTIONS');
  expect((await fetch(`${stack.issuer}/token`)).status).toBe(405);
});

test('RS-2 HEAD and GET /mcp without a token get the same 401 challenge as POST (clients probe before they POST)', async () => {
  const challenge = `Bearer resource_metadata="${stack.issuer}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`;
  for (const method of ['HEAD', 'GET', 'POST']) {
    const response = await fetch(stack.mcpUrl, { method, headers: { accept: 'application/json, text/event-stream' } });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(challenge);
  }
});

test('RS-2 the 401 carries the resource_metadata challenge, readable cross-origin; metadata answers CORS preflights', async () => {
  const response = await fetch(stack.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  expect(response.status).toBe(401);
  expect(response.headers.get('www-authenticate')).toBe(
    `Bearer resource_metadata="${stack.issuer}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`,
  );
  expect(response.headers.get('access-control-expose-headers')).toContain('WWW-Authenticate');
  const preflight = await fetch(`${stack.issuer}/.well-known/oauth-protected-resource/mcp`, { method: 'OPTIONS' });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
  // A 2026-07-28 browser client may send Mcp-Param-<Name> headers named by the tools.
  const mcpPreflight = await fetch(stack.mcpUrl, { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-headers': 'authorization,mcp-param-name' } });
  expect(mcpPreflight.headers.get('access-control-allow-headers')?.split(',')).toEqual(expect.arrayContaining(['Authorization', '*']));
});

test('--data-dir keeps registrations across restarts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcp-local-'));
  try {
    const first = await startStackProcess({}, ['--data-dir', dir]);
    const registered = (await (
      await fetch(`${first.issuer}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: ['http://127.0.0.1:3000/callback'], token_endpoint_auth_method: 'none' }),
      })
    ).json()) as { client_id: string; registration_access_token: string };
    await first.stop();
    const second = await startStackProcess({}, ['--data-dir', dir]);
    const read = await fetch(`${second.issuer}/register/${registered.client_id}`, { headers: { authorization: `Bearer ${registered.registration_access_token}` } });
    await second.stop();
    expect(read.status).toBe(200);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

describe('REV-01 REV-02 machine clients on the running stack', () => {
  const MACHINE_SECRET = 'local-machine-secret-for-the-e2e-test-0123456789';
  let machineStack: RunningStack;
  beforeAll(async () => {
    machineStack = await startStackProcess({ LOCAL_MACHINE_CLIENT_SECRET: MACHINE_SECRET });
  }, 60_000);
  afterAll(() => machineStack?.stop());

  const token = (body: Record<string, string>, authorization?: string) =>
    fetch(`${machineStack.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      body: new URLSearchParams(body),
    });
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  test('REV-01 an anonymous registration for client_credentials is refused; the declared machine client (secret from Secrets Manager) calls the MCP endpoint', async () => {
    const registered = await fetch(`${machineStack.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:admin mcp:tools' }),
    });
    expect(registered.status).toBe(400);
    expect(((await registered.json()) as { error: string }).error).toBe('invalid_client_metadata');

    const resource = machineStack.mcpUrl;
    expect((await token({ grant_type: 'client_credentials', resource }, basic('machine.local-batch', 'wrong'))).status).toBe(401);
    const wider = (await (await token({ grant_type: 'client_credentials', scope: 'mcp:admin', resource }, basic('machine.local-batch', MACHINE_SECRET))).json()) as { error: string };
    expect(wider.error).toBe('invalid_scope');
    const issued = await token({ grant_type: 'client_credentials', resource }, basic('machine.local-batch', MACHINE_SECRET));
    expect(issued.status).toBe(200);
    const { access_token: accessToken, scope } = (await issued.json()) as { access_token: string; scope: string };
    expect(scope).toBe('mcp:tools');
    const listed = await fetch(machineStack.mcpUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(listed.status).toBe(200);
  });

  test('MRS-06 MRS-09 MRS-03 with two servers a machine token names its server, gets that server\'s scopes, and works there only', async () => {
    const auth = basic('machine.local-batch', MACHINE_SECRET);
    const unnamed = await token({ grant_type: 'client_credentials' }, auth);
    expect(unnamed.status).toBe(400);
    expect(((await unnamed.json()) as { error: string }).error).toBe('invalid_target');
    expect(((await (await token({ grant_type: 'client_credentials', resource: machineStack.mcpUrl, scope: 'tools:use' }, auth)).json()) as { error: string }).error).toBe('invalid_scope');

    const [mcpUrl, toolsUrl] = machineStack.mcpUrls;
    const issued = (await (await token({ grant_type: 'client_credentials', resource: toolsUrl }, auth)).json()) as { access_token: string; scope: string };
    expect(issued.scope).toBe('tools:use');
    const list = (url: string) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${issued.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    const own = await list(toolsUrl);
    expect(own.status).toBe(200);
    const tools = ((await own.json()) as { result: { tools: Array<{ name: string }> } }).result.tools.map((tool) => tool.name);
    // The tools server's model: greet and admin_stats need tools:admin there.
    expect(tools.sort()).toEqual(['echo', 'whoami']);
    const foreign = await list(mcpUrl);
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toBe(`Bearer error="invalid_token", resource_metadata="${machineStack.issuer}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools"`);
  });
});
