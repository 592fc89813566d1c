import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The package exactly as a publisher ships it and a consumer gets it:
 * - a clean copy of the repository (its tracked and new, non-ignored files: no dist/, no assets/) is packed
 *   with `npm pack`, so `prepack` builds it and the `files` list decides what ships;
 * - the tarball is installed from the registry (no --offline: a cold npm cache must work) into fresh CDK apps
 *   pinned to the oldest aws-cdk-lib the peer range admits and to the newest one it admits;
 * - the README quick start, taken from the README itself, is type-checked and synthesized there by plain
 *   `node`, with no esbuild, no Docker and no AWS credentials in reach;
 * - `./runtime` and `./testing` are imported at run time and type-checked under the `node` (node10), `node16`
 *   and `bundler` module resolutions.
 */

const repo = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'cdk-secure-mcp-server-pack-'));
const tsc = require.resolve('typescript/bin/tsc');
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { name: string; version: string; peerDependencies: Record<string, string> };
const RESOLUTIONS = [
  { moduleResolution: 'node10', module: 'commonjs' },
  { moduleResolution: 'node16', module: 'node16' },
  { moduleResolution: 'bundler', module: 'preserve' },
] as const;

/**
 * npm as a publisher or consumer runs it: without the npm_* variables of the `npm test` that started jest
 * (its package, lifecycle and prefix), which would otherwise leak into the nested npm. The machine's npm
 * configuration is kept (cache, registry, user and global config files, the CA file): the nested npm runs
 * under the Node of the `node` devDependency, whose own prefix has no global npmrc, so a registry behind
 * a private CA would otherwise fail (a fresh machine run with nothing but npm's own configuration caught it).
 */
function npmEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(key) || /^npm_config_(cache|registry|userconfig|globalconfig|cafile)$/i.test(key)) env[key] = value;
  }
  delete env.INIT_CWD;
  return env;
}

const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, env: npmEnvironment(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** The environment of a consumer's synth: Node on the PATH and nothing else, no AWS credentials, no network. */
function bareEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: dirname(process.execPath), HOME: work, AWS_EC2_METADATA_DISABLED: 'true' };
  env.HTTPS_PROXY = env.HTTP_PROXY = 'http://127.0.0.1:9';
  return env;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The lowest version a caret range admits: the floor the package declares. */
function floorOf(range: string): string {
  const match = /^\^(\d+\.\d+\.\d+)$/.exec(range);
  if (!match) throw new Error(`The aws-cdk-lib peer range must be a caret range for this test to find its floor; got ${range}`);
  return match[1];
}

/** The newest aws-cdk-lib on the registry that the declared peer range admits. */
function newestAdmitted(range: string): string {
  const versions = JSON.parse(npm(['view', `aws-cdk-lib@${range}`, 'version', '--json'], work)) as string | string[];
  return Array.isArray(versions) ? versions[versions.length - 1] : versions;
}

/**
 * The README's quick start, a complete app, exactly as written; only its last line changes, so the synth
 * writes to a known directory under a known stack name.
 */
function quickStartSource(): string {
  const readme = readFileSync(join(repo, 'README.md'), 'utf8');
  const block = /### Quick start\n[\s\S]*?```ts\n([\s\S]*?)```/.exec(readme);
  if (!block) throw new Error('README.md has no ```ts block under "### Quick start"');
  const app = /^new (\w+)\(new App\(\), '\w+'\);$/m.exec(block[1]);
  if (!app) throw new Error('the README quick start does not end with `new <Stack>(new App(), \'<name>\');`');
  return block[1].replace(app[0], `const app = new App({ outdir: 'cdk.out' });\nnew ${app[1]}(app, 'QuickStart');\napp.synth();`);
}

const SUBPATHS_SOURCE = `import { mcpGuard, mcpGuardOptionsFromEnv, withMcpGuard, type McpCaller } from 'cdk-secure-mcp-server/runtime';
import { assetHashSerializer, normalizeAssetHashes } from 'cdk-secure-mcp-server/testing';

const caller: McpCaller | undefined = undefined;
const normalized: { hash: string } = normalizeAssetHashes({ hash: 'a'.repeat(64) });
export const used = [mcpGuard, mcpGuardOptionsFromEnv, withMcpGuard, assetHashSerializer.test, caller, normalized.hash];
`;

let packedFiles: string[] = [];
let tarball = '';

beforeAll(() => {
  // A clean checkout: what git would hand a publisher, with the node_modules an `npm ci` gives them.
  const source = join(work, 'source');
  const tracked = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(source, file)), { recursive: true });
    copyFileSync(join(repo, file), join(source, file));
  }
  expect(existsSync(join(source, 'dist'))).toBe(false);
  expect(existsSync(join(source, 'assets'))).toBe(false);
  symlinkSync(join(repo, 'node_modules'), join(source, 'node_modules'), 'dir');
  // prepack's build log comes first on stdout; npm's JSON report is the array that follows it.
  const printed = npm(['pack', '--json', '--pack-destination', work], source);
  const [packed] = JSON.parse(printed.slice(printed.search(/^\[/m))) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path);
}, 300_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  it('INFRA-PKG-01 ships the compiled library, the runtime guard, the handler bundles, the docs and the licence, and no sources or tests', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/testing/index.js', 'dist/lib/testing/index.d.ts', 'dist/lambda/runtime/index.js', 'dist/lambda/runtime/index.d.ts']),
    );
    for (const doc of readdirSync(join(repo, 'docs'))) expect(packedFiles).toContain(`docs/${doc}`);
    for (const file of packedFiles) {
      expect(file).not.toMatch(/^(test|bin|scripts|local|lambda|lib)\/|\.test\.|\.tgz$/);
      if (file.endsWith('.ts')) expect(file).toMatch(/\.d\.ts$/);
    }
  });

  it('INFRA-PKG-02 declares the licence it ships and the metadata Construct Hub reads', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('Apache-2.0');
    expect(readFileSync(join(repo, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0, January 2004/);
    expect(pkg.keywords).toEqual(expect.arrayContaining(['awscdk', 'aws-cdk', 'cdk', 'construct', 'mcp', 'oauth']));
    for (const field of ['repository', 'homepage', 'bugs']) expect(pkg[field]).toBeDefined();
    // Every relative link in the README points at a file the tarball ships.
    for (const [, target] of readFileSync(join(repo, 'README.md'), 'utf8').matchAll(/\]\(((?!https?:|#)[^)#\s]+)(#[^)]*)?\)/g)) {
      expect(packedFiles).toContain(target.replace(/^\.\//, ''));
    }
  });
});

const floor = floorOf(manifest.peerDependencies['aws-cdk-lib']);
const newest = newestAdmitted(manifest.peerDependencies['aws-cdk-lib']);
const templates = new Map<string, { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>; Outputs: Record<string, unknown> }>();

const cdkVersions: [string, string][] = floor === newest ? [['the floor', floor]] : [['the floor', floor], ['the newest', newest]];

describe.each(cdkVersions)('a fresh CDK app on %s of the aws-cdk-lib peer range (%s)', (_label, cdkVersion) => {
  const appDir = join(work, `app-${cdkVersion}`);

  it('INFRA-PKG-03 installs the tarball from the registry next to only aws-cdk-lib and constructs', () => {
    mkdirSync(appDir);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({ name: 'quickstart', private: true, dependencies: { 'aws-cdk-lib': cdkVersion, constructs: manifest.peerDependencies.constructs, [manifest.name]: `file:${tarball}` } }),
    );
    npm(['install', '--no-audit', '--no-fund', '--ignore-scripts'], appDir);
    expect(readdirSync(join(appDir, 'node_modules')).filter((entry) => !entry.startsWith('.')).sort()).toEqual(['@aws-cdk', 'aws-cdk-lib', manifest.name, 'constructs']);
    expect(JSON.parse(readFileSync(join(appDir, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')).version).toBe(cdkVersion);
    expect(existsSync(join(appDir, 'node_modules', 'esbuild'))).toBe(false);
  }, 300_000);

  it.each(RESOLUTIONS)('INFRA-PKG-04 the quick start and ./runtime and ./testing type-check under moduleResolution $moduleResolution', ({ moduleResolution, module }) => {
    writeFileSync(join(appDir, 'quickstart.ts'), quickStartSource());
    writeFileSync(join(appDir, 'subpaths.ts'), SUBPATHS_SOURCE);
    const tsconfig = `tsconfig.${moduleResolution}.json`;
    writeFileSync(
      join(appDir, tsconfig),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          lib: ['ES2022'],
          module,
          moduleResolution,
          strict: true,
          // Our declaration files are checked too, as a consumer's stricter build would: once, under node10,
          // since that walks all of aws-cdk-lib's declarations (half a minute); the other resolutions only
          // need to find the same exports.
          skipLibCheck: moduleResolution !== 'node10',
          types: ['node'],
          typeRoots: [join(repo, 'node_modules', '@types')],
          outDir: 'build',
          noEmit: moduleResolution !== 'node10',
        },
        files: ['quickstart.ts', 'subpaths.ts'],
      }),
    );
    execFileSync(process.execPath, [tsc, '-p', tsconfig], { cwd: appDir, encoding: 'utf8', stdio: 'pipe' });
  }, 120_000);

  it('INFRA-PKG-05 synthesizes the README quick start with node alone, staging exactly the bundles the tarball ships', () => {
    execFileSync(process.execPath, [join('build', 'quickstart.js')], { cwd: appDir, env: bareEnvironment(), stdio: 'pipe' });
    const out = join(appDir, 'cdk.out');
    const template = JSON.parse(readFileSync(join(out, 'QuickStart.template.json'), 'utf8'));
    templates.set(cdkVersion, template);
    expect(template.Outputs.McpUrl).toBeDefined();
    const shipped = readdirSync(join(appDir, 'node_modules', manifest.name, 'assets'));
    const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: { Runtime?: string } }>).filter(
      (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Runtime === 'nodejs24.x',
    );
    // The construct's five functions and the quick start's MCP function, the example bundle.
    expect(functions).toHaveLength(shipped.length);
    const staged = readdirSync(out)
      .filter((entry) => entry.startsWith('asset.') && existsSync(join(out, entry, 'index.mjs')))
      .map((entry) => sha256(join(out, entry, 'index.mjs')))
      .sort();
    // Byte for byte what was packed, and nothing packed that the construct never deploys.
    expect(staged).toEqual(shipped.map((bundle) => sha256(join(appDir, 'node_modules', manifest.name, 'assets', bundle, 'index.mjs'))).sort());
  }, 120_000);

  it('INFRA-PKG-06 lets the MCP function import ./runtime and a test import ./testing from the installed package', () => {
    const script = "const r = require('cdk-secure-mcp-server/runtime'); const t = require('cdk-secure-mcp-server/testing'); console.log(JSON.stringify([Object.keys(r), Object.keys(t)]))";
    const [runtime, testing] = JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: appDir, env: bareEnvironment(), encoding: 'utf8' })) as string[][];
    expect(runtime).toEqual(expect.arrayContaining(['withMcpGuard', 'mcpGuard', 'mcpGuardOptionsFromEnv']));
    expect(testing).toEqual(expect.arrayContaining(['assetHashSerializer', 'normalizeAssetHashes']));
  });
});

it('INFRA-PKG-07 the floor of the peer range synthesizes the same resources as the newest release', () => {
  const shape = (version: string) =>
    Object.entries(templates.get(version)!.Resources)
      .map(([logicalId, resource]) => `${logicalId} ${resource.Type}`)
      .sort();
  expect(templates.size).toBe(floor === newest ? 1 : 2);
  expect(shape(floor)).toEqual(shape(newest));
});
