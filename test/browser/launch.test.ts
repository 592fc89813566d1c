import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { chromiumArgs } from '../support/browser';

const repo = join(__dirname, '..', '..');
const HELPER = 'test/support/browser.ts';

function sources(directory: string): string[] {
  return readdirSync(directory).flatMap((entry) => {
    const path = join(directory, entry);
    return statSync(path).isDirectory() ? sources(path) : /\.(ts|mjs|cjs|js)$/.test(entry) ? [path] : [];
  });
}

test('every browser the tests and the local stack start comes from the one helper, never from the machine', () => {
  const offenders = ['test', 'local', 'scripts']
    .flatMap((folder) => sources(join(repo, folder)))
    .map((path) => relative(repo, path))
    .filter((path) => path !== HELPER && path !== 'test/browser/launch.test.ts')
    .filter((path) => /\/usr\/bin\/chrom|executablePath|\bchromium\.launch|import \{[^}]*\bchromium\b[^}]*\} from 'playwright-core'/.test(readFileSync(join(repo, path), 'utf8')));
  expect(offenders).toEqual([]);
});

test("the browser keeps the web's security model and runs as an ordinary multi-process browser", () => {
  const packaged = ['--single-process', '--disable-features=AudioServiceOutOfProcess,IsolateOrigins,site-per-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials', '--no-sandbox'];
  const args = chromiumArgs(packaged);
  expect(args).toEqual(expect.arrayContaining(['--disable-features=AudioServiceOutOfProcess', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']));
  for (const weakening of ['--single-process', '--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials']) expect(args).not.toContain(weakening);
  expect(args.join(' ')).not.toMatch(/IsolateOrigins|site-per-process/);
  expect(chromiumArgs(['--disable-features=IsolateOrigins'])).not.toContainEqual(expect.stringMatching(/^--disable-features/));
});
