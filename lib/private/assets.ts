import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BundleName } from '../functions';

const PACKAGE_NAME = 'cdk-secure-mcp-server';

let packageRoot: string | undefined;

/**
 * The package root, found by walking up from this compiled file to our package.json. The file runs
 * from `lib/private` under ts-jest and tsx, and from `dist/lib/private` in the npm tarball, so a fixed
 * number of `..` would be right in one layout and wrong in the other.
 */
export function findPackageRoot(): string {
  if (packageRoot !== undefined) return packageRoot;
  for (let directory = __dirname; ; directory = dirname(directory)) {
    const manifest = join(directory, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === PACKAGE_NAME) {
      packageRoot = directory;
      return directory;
    }
    if (dirname(directory) === directory) throw new Error(`Cannot find the ${PACKAGE_NAME} package root above ${__dirname}`);
  }
}

/**
 * The directory of one prebuilt handler bundle, for `lambda.Code.fromAsset`. Fails at synth with the
 * fix when the bundle is missing (a source checkout that was never built), rather than deploying an
 * empty function.
 */
export function bundleDirectory(name: BundleName): string {
  const directory = join(findPackageRoot(), 'assets', name);
  if (!existsSync(join(directory, 'index.mjs'))) {
    throw new Error(
      `The ${name} handler bundle is missing: expected ${join('assets', name, 'index.mjs')} in the ${PACKAGE_NAME} package. ` +
        'In a source checkout, run `npm run build` (or `node scripts/bundle.mjs`) first.',
    );
  }
  return directory;
}
