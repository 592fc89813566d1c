import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BundleName, BUNDLES } from '../../lib/functions';
import { bundleDirectory, findPackageRoot } from '../../lib/private/assets';
import { ROUTES } from '../../lib/routes';

describe('the prebuilt handler bundles the construct deploys', () => {
  it('are found relative to the package root, from the source layout as from dist/', () => {
    expect(findPackageRoot()).toBe(join(__dirname, '..', '..'));
    for (const name of BUNDLES) expect(existsSync(join(bundleDirectory(name), 'index.mjs'))).toBe(true);
  });

  it('are exactly the handler folders of lambda/ (each with its index.ts), and what scripts/bundle.mjs builds', () => {
    const lambda = join(__dirname, '..', '..', 'lambda');
    // lambda/runtime is the published guard (compiled with the library), lambda/shared no entry point.
    const entries = readdirSync(lambda).filter((folder) => folder !== 'runtime' && existsSync(join(lambda, folder, 'index.ts')));
    expect(entries.sort()).toEqual([...BUNDLES].sort());
    const printed = execFileSync(process.execPath, ['--input-type=module', '-e', "const m = await import('./scripts/bundle.mjs'); console.log(JSON.stringify(m.HANDLERS))"], { cwd: join(__dirname, '..', '..') });
    expect(JSON.parse(printed.toString())).toEqual([...BUNDLES]);
  });

  it('cover every handler of the routes manifest', () => {
    for (const route of ROUTES) expect(BUNDLES).toContain(route.handler === 'mcp' ? 'example-mcp' : route.handler);
  });

  it('fail the synth with the fix when a bundle was never built', () => {
    expect(() => bundleDirectory('not-built' as BundleName)).toThrow(
      'The not-built handler bundle is missing: expected assets/not-built/index.mjs in the cdk-secure-mcp-server package. In a source checkout, run `npm run build` (or `node scripts/bundle.mjs`) first.',
    );
  });
});
