import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A running local stack imports a handler's bundle on that handler's first call, so `npm run bundle`
 * (also run by `npm start` and `npm test`) must never leave a bundle missing or half-written, even for a
 * moment: a stack started earlier would fail that handler for the life of its process (ERR_MODULE_NOT_FOUND).
 */

const repo = join(__dirname, '..', '..');
const HANDLERS = ['metadata', 'authorizer'];
const work = mkdtempSync(join(tmpdir(), 'cdk-secure-mcp-server-bundle-'));
const assets = join(work, 'assets');
const bundle = (name: string) => join(assets, name, 'index.mjs');
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

afterAll(() => rmSync(work, { recursive: true, force: true }));

test('BUNDLE-01 while a second bundle run replaces them, every bundle stays readable and whole, old or new', async () => {
  execFileSync(process.execPath, ['scripts/bundle.mjs', '--outdir', assets, ...HANDLERS], { cwd: repo, stdio: 'pipe' });
  const before = new Map(HANDLERS.map((name) => [name, sha256(readFileSync(bundle(name)))]));
  writeFileSync(join(assets, 'metadata', 'left-over.js'), 'from an older build');

  const second = spawn(process.execPath, ['scripts/bundle.mjs', '--outdir', assets, ...HANDLERS], { cwd: repo, stdio: 'ignore' });
  const exited = new Promise<number | null>((done) => second.on('exit', done));
  let running = true;
  void exited.then(() => (running = false));

  // Read every bundle as often as the event loop allows while the second run works, as a stack would import it.
  const seen = new Map<string, Set<string>>(HANDLERS.map((name) => [name, new Set<string>()]));
  const failures = new Set<string>();
  let reads = 0;
  while (running) {
    for (const name of HANDLERS) {
      try {
        seen.get(name)!.add(sha256(readFileSync(bundle(name))));
        reads += 1;
      } catch (error) {
        failures.add(`${name}: ${(error as NodeJS.ErrnoException).code}`);
      }
    }
    await new Promise((done) => setImmediate(done));
  }

  expect(await exited).toBe(0);
  expect([...failures]).toEqual([]);
  expect(reads).toBeGreaterThan(HANDLERS.length * 10);
  for (const name of HANDLERS) {
    const after = sha256(readFileSync(bundle(name)));
    // Whole files only: each read saw the complete old bundle or the complete new one, nothing in between.
    for (const hash of seen.get(name)!) expect([before.get(name), after]).toContain(hash);
  }
  // The replaced directory holds exactly the new build, and no staging directory is left next to it.
  expect(readdirSync(join(assets, 'metadata'))).toEqual(['index.mjs']);
  expect(readdirSync(work).sort()).toEqual(['assets']);
  expect(existsSync(join(assets, 'authorizer', 'index.mjs'))).toBe(true);
}, 120_000);

test('BUNDLE-02 an unknown handler name is refused before anything is written', () => {
  let failure: { status: number; stderr: Buffer } | undefined;
  try {
    execFileSync(process.execPath, ['scripts/bundle.mjs', '--outdir', join(work, 'refused'), 'no-such-handler'], { cwd: repo, stdio: 'pipe' });
  } catch (error) {
    failure = error as { status: number; stderr: Buffer };
  }
  expect(failure?.status).toBe(2);
  expect(failure?.stderr.toString()).toContain('Unknown handler no-such-handler; expected any of metadata, register, token, authorize, authorizer, example-mcp');
  expect(existsSync(join(work, 'refused'))).toBe(false);
});
