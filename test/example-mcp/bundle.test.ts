import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { allowContext, ISSUER, proxyEvent, rpc, toolCall } from '../support/mcp-events';
// The exact esbuild options of scripts/bundle.mjs, so the test builds what is deployed.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file, shared with scripts/bundle.mjs
const { bundleOptions } = require('../../scripts/bundle-options.cjs');

// The example server as Lambda runs it: the ES module bundle in a fresh Node process, configured only
// through the environment the construct sets (ISSUER, SCOPE_MODEL, MCP_ALLOWED_ORIGINS).

const run = promisify(execFile);
let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'example-mcp-bundle-'));
  bundle = join(dir, 'index.mjs');
  await build({ ...bundleOptions('lambda/example-mcp/index.ts', bundle), logLevel: 'silent' });
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUNNER = `
const { handler } = await import(process.argv[1]);
const results = [];
for (const event of JSON.parse(process.env.TEST_EVENTS)) results.push(await handler(event, {}));
console.log(JSON.stringify(results));
`;

test('the bundled example server answers initialize, tools/list and tools/call, and refuses a foreign Origin', async () => {
  const future = String(Math.floor(Date.now() / 1000) + 600);
  const admin = allowContext({ scope: 'mcp:admin', username: 'grace', exp: future });
  const V = { 'MCP-Protocol-Version': '2025-11-25' };
  const events = [
    proxyEvent({ body: rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } }), authorizer: admin }),
    proxyEvent({ body: rpc('tools/list'), headers: V, authorizer: allowContext({ exp: future }) }),
    proxyEvent({ body: toolCall('whoami'), headers: V, authorizer: admin }),
    proxyEvent({ body: rpc('tools/list'), headers: { ...V, Origin: 'https://evil.example' }, authorizer: admin }),
    proxyEvent({ method: 'DELETE', authorizer: null }),
  ];
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', RUNNER, bundle], {
    env: { PATH: process.env.PATH, ISSUER, MCP_ALLOWED_ORIGINS: 'https://app.example.com', TEST_EVENTS: JSON.stringify(events) },
  });
  const [initialize, list, whoami, foreign, deleted] = JSON.parse(stdout) as Array<{ statusCode: number; body: string }>;
  expect(JSON.parse(initialize.body).result.serverInfo.name).toBe('cdk-secure-mcp-server-example');
  expect(JSON.parse(list.body).result.tools.map((tool: { name: string }) => tool.name)).toEqual(['echo', 'greet', 'whoami']);
  expect(JSON.parse(JSON.parse(whoami.body).result.content[0].text)).toEqual({ user: 'grace', client_id: 'client-abc' });
  expect(foreign.statusCode).toBe(403);
  expect(deleted.statusCode).toBe(405);
});

test('the bundled example server refuses to start without ISSUER', async () => {
  await expect(run(process.execPath, ['--input-type=module', '-e', RUNNER, bundle], { env: { PATH: process.env.PATH, TEST_EVENTS: '[]' } })).rejects.toThrow(
    'Missing required environment variable ISSUER',
  );
});
