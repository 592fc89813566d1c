import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Every case of the security catalogue has a test whose title (or describe) names its id, or a
 * one-line reason in docs/SECURITY.md (`- **ID** n/a: ...`). scripts/security-map.mjs reads the test
 * titles with the TypeScript parser, so an id in a comment does not count.
 */

const run = (...args: string[]) => spawnSync(process.execPath, ['scripts/security-map.mjs', ...args], { encoding: 'utf8' });

test('every catalogue id has a test or a documented reason, never both', () => {
  const result = run('--check');
  expect(result.stdout).toMatch(/^\d+ ids covered by tests, \d+ documented n\/a, 0 missing/);
  expect(result.status).toBe(0);
});

test('the map written in docs/SECURITY.md is the current one (node scripts/security-map.mjs --write)', () => {
  const printed = run().stdout.trim();
  const security = readFileSync('docs/SECURITY.md', 'utf8');
  const written = security.slice(security.indexOf('<!-- security-map:start -->') + '<!-- security-map:start -->'.length, security.indexOf('<!-- security-map:end -->')).trim();
  expect(written).toBe(printed);
});

test('the check fails for an id with neither (a document without the reasons)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'security-map-'));
  try {
    writeFileSync(join(dir, 'SECURITY.md'), '# no reasons here\n');
    const result = run('--check', `--doc=${join(dir, 'SECURITY.md')}`);
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/missing: .*AUDIT-04/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
