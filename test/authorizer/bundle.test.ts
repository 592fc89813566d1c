import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build, type Metafile } from 'esbuild';
import { authorizerEvent, ISSUER, jwksOf, mint, testKey } from '../support/tokens';
// The exact esbuild options of scripts/bundle.mjs, so the test builds what is deployed.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a CommonJS file, shared with scripts/bundle.mjs
const { bundleOptions } = require('../../scripts/bundle-options.cjs');

// The authorizer as Lambda runs it: an ES module bundle loaded in a fresh Node process, configured only
// through its environment. Tokens are minted for the real clock here, since the bundle uses it.

const run = promisify(execFile);
const rsa = testKey('RS256');
const now = () => Math.floor(Date.now() / 1000);
const fresh = (claims: Record<string, unknown> = {}, header: Record<string, unknown> = {}) =>
  mint(rsa, { claims: { iat: now() - 5, exp: now() + 600, ...claims }, header });

let dir: string;
let bundle: string;
let metafile: Metafile;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'authorizer-bundle-'));
  bundle = join(dir, 'index.mjs');
  metafile = (await build({ ...bundleOptions('lambda/authorizer/index.ts', bundle), logLevel: 'silent' })).metafile!;
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const RUNNER = `
const { handler } = await import(process.argv[1]);
const results = [];
for (const event of JSON.parse(process.env.TEST_EVENTS)) {
  try { results.push({ result: await handler(event) }); } catch (error) { results.push({ error: error.message }); }
}
console.log('RESULTS ' + JSON.stringify(results));
`;

async function invokeBundle(env: Record<string, string>, events: unknown[]): Promise<{ results: Array<{ result?: any; error?: string }>; audit: any[] }> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', RUNNER, bundle], {
    env: { PATH: process.env.PATH, ISSUER, ...env, TEST_EVENTS: JSON.stringify(events) },
  });
  const lines = stdout.trim().split('\n');
  const results = JSON.parse(lines.find((line) => line.startsWith('RESULTS '))!.slice('RESULTS '.length));
  const audit = lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line));
  return { results, audit };
}

test('the bundle holds only our own modules and imports only Node built-ins (no AWS SDK, no jose)', () => {
  expect(Object.keys(metafile.inputs).filter((input) => input.includes('node_modules'))).toEqual([]);
  const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((entry) => entry.path));
  expect(imports.length).toBeGreaterThan(0);
  for (const path of imports) expect(path).toMatch(/^node:/);
  expect(statSync(bundle).size).toBe(Object.values(metafile.outputs)[0].bytes);
});

test('the bundled authorizer with TRUSTED_JWKS allows a valid token and answers 401 (with one audit line) for a missing one', async () => {
  const { results, audit } = await invokeBundle({ TRUSTED_JWKS: JSON.stringify(jwksOf(rsa)) }, [
    authorizerEvent({ authorization: `Bearer ${fresh()}` }),
    authorizerEvent({}),
  ]);
  expect(results[0].result).toMatchObject({ principalId: 'user-123', context: { client_id: 'client-abc', scope: 'mcp:tools' } });
  expect(results[1]).toEqual({ error: 'Unauthorized' });
  expect(audit).toEqual([expect.objectContaining({ event: 'rs.denied', reason: 'missing' })]);
});

describe('JWKS_URI', () => {
  let server: Server;
  let hits = 0;
  let uri: string;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      hits++;
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(jwksOf(rsa)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test('JWT-04 the bundled authorizer fetches JWKS_URI once per container, not again for unknown kids', async () => {
    const { results } = await invokeBundle({ JWKS_URI: uri }, [
      authorizerEvent({ authorization: `Bearer ${fresh()}` }),
      authorizerEvent({ authorization: `Bearer ${fresh({}, { kid: 'rotated-key' })}` }),
      authorizerEvent({ authorization: `Bearer ${fresh({}, { kid: 'another-unknown' })}` }),
      authorizerEvent({ authorization: `Bearer ${fresh({ sub: 'second-user' })}` }),
    ]);
    expect(results.map((entry) => entry.error ?? entry.result.principalId)).toEqual(['user-123', 'Unauthorized', 'Unauthorized', 'second-user']);
    expect(hits).toBe(1);
  });
});

test('a misconfigured function fails its init instead of answering', async () => {
  await expect(invokeBundle({ TRUSTED_JWKS: '{"keys":[]}' }, [])).rejects.toThrow('holds no RS256 verification key');
  await expect(invokeBundle({ TRUSTED_JWKS: JSON.stringify(jwksOf(rsa)), SIGNING_ALGORITHM: 'HS256' }, [])).rejects.toThrow('must be RS256 or ES256');
});
