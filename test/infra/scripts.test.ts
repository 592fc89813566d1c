import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * `npm test` runs every test file; the quicker loops (`test:unit`, `test:e2e`, `test:infra`) together must
 * too, each file in exactly one of them, so a new test folder cannot fall outside all three.
 */

const repo = join(__dirname, '..', '..');
const scripts = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;

function testFiles(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) return entry === '__snapshots__' ? [] : testFiles(path);
    return entry.endsWith('.test.ts') ? [relative(repo, path)] : [];
  });
}

/** The path patterns a script passes to jest (jest reads each as a regular expression over the file's path). */
const jestPaths = (script: string) => /(?:^|&& )jest ((?:test\S*\s*)+)/.exec(script)?.[1].trim().split(/\s+/) ?? [];

test('SCRIPTS-01 every test file belongs to exactly one of test:unit, test:e2e and test:infra', () => {
  const loops = ['test:unit', 'test:e2e', 'test:infra'].map((name) => ({ name, paths: jestPaths(scripts[name]) }));
  for (const loop of loops) expect(loop.paths.length).toBeGreaterThan(0);
  const unowned: string[] = [];
  const shared: string[] = [];
  for (const file of testFiles(join(repo, 'test'))) {
    const owners = loops.filter((loop) => loop.paths.some((pattern) => new RegExp(pattern).test(file)));
    if (owners.length === 0) unowned.push(file);
    if (owners.length > 1) shared.push(`${file}: ${owners.map((owner) => owner.name).join(', ')}`);
  }
  expect({ unowned, shared }).toEqual({ unowned: [], shared: [] });
});

test('SCRIPTS-02 npm test stays the whole suite: the lint, the type check, the bundles and every jest test', () => {
  expect(scripts.test).toMatch(/^npm run lint && /);
  expect(scripts.lint).toBe('eslint .');
  expect(scripts.test).toMatch(/npm run typecheck/);
  expect(scripts.test).toMatch(/npm run bundle/);
  expect(scripts.test).toMatch(/&& jest$/);
});

function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    if (['node_modules', 'dist', 'assets', 'cdk.out', 'test-output', 'coverage'].includes(entry) || entry.startsWith('.')) return [];
    const path = join(directory, entry);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mjs|cjs|js)$/.test(entry) ? [relative(repo, path)] : [];
  });
}

test('SCRIPTS-03 every eslint-disable comment says why, after " -- " on the same line', () => {
  const self = relative(repo, __filename);
  const unexplained = sources(repo)
    .filter((file) => file !== self)
    .flatMap((file) =>
      readFileSync(join(repo, file), 'utf8')
        .split('\n')
        .map((line, index) => ({ line, at: `${file}:${index + 1}` }))
        .filter(({ line }) => /eslint-disable/.test(line) && !/eslint-disable(?:-next-line|-line)?(?:\s+[@\w/-]+(?:,\s*[@\w/-]+)*)?\s+--\s+\S/.test(line))
        .map(({ at }) => at),
    );
  expect(unexplained).toEqual([]);
});
