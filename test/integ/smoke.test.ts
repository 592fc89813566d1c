import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { main } from '../../lib/cli/main';
import { challengeParameter, runSmoke } from '../../lib/cli/smoke';
import { RunningStack, startStackProcess } from '../support/local-stack';

/**
 * The post-deploy smoke command (`npx cdk-secure-mcp-server smoke <mcpUrl>`), run against the
 * local stack (the same handler bundles as a deployment), and against a deliberately broken server on
 * 127.0.0.1 to show each check can fail.
 */

const repo = join(__dirname, '..', '..');
let stack: RunningStack;
beforeAll(async () => {
  stack = await startStackProcess();
}, 60_000);
afterAll(() => stack?.stop());

describe('against the local stack', () => {
  it('passes every check, registration included, and deletes the client it registered', async () => {
    const results = await runSmoke(stack.mcpUrl, { register: true });
    expect(results.map((result) => [result.name, result.ok])).toEqual([
      ['MCP URL is https', true],
      ['unauthenticated POST /mcp: 401 with a resource_metadata challenge', true],
      ['CORS preflight OPTIONS /mcp: 2xx allowing POST and Authorization', true],
      ['protected resource metadata: resource is the MCP URL', true],
      ['authorization server metadata: issuer matches, S256 PKCE', true],
      ['JWKS has signing keys', true],
      ['registration of a public client with a loopback redirect URI', true],
    ]);
    // The registration answered with an RFC 7592 management token, and the DELETE with it answered 204.
    expect(results.at(-1)!.detail).toMatch(/^client \S+, deleted again$/);
  });

  it('runs as the package bin (shebang, exit code 0) and prints a pass/fail list', async () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[] };
    expect(pkg.bin['cdk-secure-mcp-server']).toBe('dist/lib/cli/main.js');
    expect(pkg.files).toContain('dist/lib');
    expect(readFileSync(join(repo, 'lib', 'cli', 'main.ts'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'smoke', stack.mcpUrl], { cwd: repo });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, -1).every((line) => line.startsWith('PASS  '))).toBe(true);
    expect(lines.at(-1)).toBe('All 6 checks passed.');
  });
});

describe('against a broken server', () => {
  let server: Server;
  let base = '';
  let handler: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
  beforeAll(async () => {
    server = createServer((request, response) => handler(request, response));
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  const send = (response: ServerResponse, status: number, body?: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(body === undefined ? undefined : JSON.stringify(body));
  };
  /** A well-behaved server, with one answer replaced. */
  const serve = (override: (path: string, method: string) => [number, unknown, Record<string, string>?] | undefined) => {
    handler = (request, response) => {
      const path = request.url!;
      const method = request.method!;
      const replaced = override(path, method);
      if (replaced) return send(response, ...replaced);
      if (path === '/prod/mcp' && method === 'POST') return send(response, 401, undefined, { 'www-authenticate': `Bearer resource_metadata="${base}/prod/.well-known/oauth-protected-resource/mcp"` });
      if (path === '/prod/mcp' && method === 'OPTIONS') return send(response, 204, undefined, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST,OPTIONS', 'access-control-allow-headers': 'Authorization,Content-Type' });
      if (path === '/prod/.well-known/oauth-protected-resource/mcp') return send(response, 200, { resource: `${base}/prod/mcp`, authorization_servers: [`${base}/prod`] });
      if (path === '/prod/.well-known/oauth-authorization-server') {
        return send(response, 200, { issuer: `${base}/prod`, authorization_endpoint: `${base}/prod/authorize`, token_endpoint: `${base}/prod/token`, jwks_uri: `${base}/prod/jwks.json`, code_challenge_methods_supported: ['S256'] });
      }
      if (path === '/prod/jwks.json') return send(response, 200, { keys: [{ kid: 'k1', kty: 'RSA', n: 'AQAB', e: 'AQAB' }] });
      send(response, 404, {});
    };
  };
  const failures = async (register = false) => (await runSmoke(`${base}/prod/mcp`, { register })).filter((result) => !result.ok).map((result) => `${result.name}: ${result.detail}`);

  it('passes when nothing is broken (the stand-in is faithful)', async () => {
    serve(() => undefined);
    expect(await failures()).toEqual([]);
  });

  it.each<[string, (path: string, method: string) => [number, unknown, Record<string, string>?] | undefined, string[]]>([
    [
      'an MCP endpoint open to anyone',
      (path, method) => (path === '/prod/mcp' && method === 'POST' ? [200, { jsonrpc: '2.0', id: 1, result: {} }] : undefined),
      [
        'unauthenticated POST /mcp: 401 with a resource_metadata challenge: answered 200, expected 401',
        'protected resource metadata: resource is the MCP URL: not run: no resource_metadata URL',
        'authorization server metadata: issuer matches, S256 PKCE: not run: no authorization server',
        'JWKS has signing keys: not run: no authorization server metadata',
      ],
    ],
    [
      'a challenge without resource_metadata',
      (path, method) => (path === '/prod/mcp' && method === 'POST' ? [401, undefined, { 'www-authenticate': 'Bearer realm="mcp"' }] : undefined),
      [
        'unauthenticated POST /mcp: 401 with a resource_metadata challenge: no resource_metadata in: Bearer realm="mcp"',
        'protected resource metadata: resource is the MCP URL: not run: no resource_metadata URL',
        'authorization server metadata: issuer matches, S256 PKCE: not run: no authorization server',
        'JWKS has signing keys: not run: no authorization server metadata',
      ],
    ],
    [
      'metadata naming another resource',
      (path) => (path.endsWith('oauth-protected-resource/mcp') ? [200, { resource: 'https://other.example/mcp', authorization_servers: ['https://other.example'] }] : undefined),
      [
        `protected resource metadata: resource is the MCP URL: resource is "https://other.example/mcp", expected "${'BASE'}/prod/mcp"`,
        'authorization server metadata: issuer matches, S256 PKCE: not run: no authorization server',
        'JWKS has signing keys: not run: no authorization server metadata',
      ],
    ],
    [
      'an issuer that differs from the authorization server URL',
      (path) => (path.endsWith('oauth-authorization-server') ? [200, { issuer: 'https://other.example', jwks_uri: 'https://other.example/jwks.json' }] : undefined),
      [
        'authorization server metadata: issuer matches, S256 PKCE: issuer is "https://other.example", expected "BASE/prod"',
        'JWKS has signing keys: not run: no authorization server metadata',
      ],
    ],
    ['an empty JWKS', (path) => (path === '/prod/jwks.json' ? [200, { keys: [] }] : undefined), ['JWKS has signing keys: no keys']],
    ['a JWKS leaking a private key', (path) => (path === '/prod/jwks.json' ? [200, { keys: [{ kid: 'k1', kty: 'RSA', d: 'secret' }] }] : undefined), ['JWKS has signing keys: key k1 has a private part']],
    [
      'no CORS on the MCP endpoint',
      (path, method) => (path === '/prod/mcp' && method === 'OPTIONS' ? [403, { message: 'Forbidden' }] : undefined),
      ['CORS preflight OPTIONS /mcp: 2xx allowing POST and Authorization: answered 403'],
    ],
  ])('reports %s', async (_, override, expected) => {
    serve(override);
    expect(await failures()).toEqual(expected.map((line) => line.replace(/BASE/g, base)));
  });

  it('reports a registration a web ACL blocks, with the likely cause', async () => {
    serve((path) =>
      path.endsWith('oauth-authorization-server')
        ? [200, { issuer: `${base}/prod`, authorization_endpoint: `${base}/prod/authorize`, token_endpoint: `${base}/prod/token`, jwks_uri: `${base}/prod/jwks.json`, registration_endpoint: `${base}/prod/register`, code_challenge_methods_supported: ['S256'] }]
        : path === '/prod/register'
          ? [403, { message: 'Forbidden' }]
          : undefined,
    );
    expect(await failures(true)).toEqual(['registration of a public client with a loopback redirect URI: answered 403, expected 201 (a web ACL rule may block loopback redirect URIs)']);
  });

  it('refuses plain http to anything but loopback, without sending a request', async () => {
    let requests = 0;
    const results = await runSmoke('http://mcp.example.com/prod/mcp', { fetch: (async () => (requests++, new Response())) as typeof fetch });
    expect(results).toEqual([{ name: 'MCP URL is https', ok: false, detail: 'the MCP URL must use https (http only on loopback), got http://mcp.example.com/prod/mcp' }]);
    expect(requests).toBe(0);
  });

  it('exits 1 on a failed check and 2 on bad arguments, printing the usage', async () => {
    serve((path) => (path === '/prod/jwks.json' ? [200, { keys: [] }] : undefined));
    const output: string[] = [];
    expect(await main(['smoke', `${base}/prod/mcp`], (text) => output.push(text))).toBe(1);
    expect(output.join('')).toContain('FAIL  JWKS has signing keys (no keys)');
    expect(output.join('')).toContain('1 of 6 checks failed.');
    expect(await main(['smoke'], () => undefined)).toBe(2);
    expect(await main(['smoke', base, '--timeout', 'soon'], () => undefined)).toBe(2);
    expect(await main(['deploy', base], () => undefined)).toBe(2);
  });

  it('reads challenge parameters wherever they stand', () => {
    expect(challengeParameter('Bearer error="insufficient_scope", scope="a b", resource_metadata="https://x/y"', 'resource_metadata')).toBe('https://x/y');
    expect(challengeParameter('Bearer resource_metadata="https://x/y", scope="a"', 'scope')).toBe('a');
    expect(challengeParameter('Bearer xresource_metadata="https://x/y"', 'resource_metadata')).toBeUndefined();
  });
});
