import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The package as consumers get it: compiled with tsconfig.build.json, packed with `npm pack` (so the
 * `files` list of package.json decides what ships), installed offline into a fresh CDK app that has
 * nothing but aws-cdk-lib and constructs, and synthesized by plain `node` with no esbuild, no Docker
 * and no AWS credentials in reach.
 */

const repo = join(__dirname, '..', '..');
const work = mkdtempSync(join(tmpdir(), 'cdk-secure-mcp-server-pack-'));
const appDir = join(work, 'quickstart');
const AUTH_SERVER_BUNDLES = ['metadata', 'register', 'token', 'authorize', 'authorizer'];
let packedFiles: string[] = [];
let tarball = '';

/** The environment of a consumer's CI job: Node on the PATH and nothing else, no AWS credentials. */
function bareEnvironment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: dirname(process.execPath), HOME: work, AWS_EC2_METADATA_DISABLED: 'true' };
  // Any attempt to reach the network fails fast instead of succeeding by accident.
  env.HTTPS_PROXY = env.HTTP_PROXY = 'http://127.0.0.1:9';
  return env;
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const version = (name: string) => (JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version;

beforeAll(() => {
  const pkg = join(work, 'package');
  mkdirSync(pkg);
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], { cwd: repo, stdio: 'pipe' });
  for (const entry of ['package.json', 'README.md', 'assets']) {
    if (existsSync(join(repo, entry))) cpSync(join(repo, entry), join(pkg, entry), { recursive: true });
  }
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work], { cwd: pkg, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as {
    filename: string;
    files: { path: string }[];
  }[];
  tarball = join(work, packed.filename);
  packedFiles = packed.files.map((file) => file.path);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('the npm package', () => {
  it('ships the compiled library, the runtime guard and every prebuilt handler bundle, and no sources or tests', () => {
    expect(packedFiles).toEqual(expect.arrayContaining(['package.json', 'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/testing/index.js', 'dist/lambda/runtime/index.js']));
    for (const bundle of [...AUTH_SERVER_BUNDLES, 'example-mcp']) expect(packedFiles).toContain(`assets/${bundle}/index.mjs`);
    for (const file of packedFiles) {
      expect(file).not.toMatch(/^(test|bin|scripts|local|lambda|lib)\//);
      if (file.endsWith('.ts')) expect(file).toMatch(/\.d\.ts$/);
    }
  });

  it('installs offline into a fresh CDK app that has only aws-cdk-lib and constructs', () => {
    mkdirSync(appDir);
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({
        name: 'quickstart',
        private: true,
        dependencies: { 'aws-cdk-lib': version('aws-cdk-lib'), constructs: version('constructs'), 'cdk-secure-mcp-server': `file:${tarball}` },
      }),
    );
    execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: appDir, stdio: 'pipe' });
    expect(readdirSync(join(appDir, 'node_modules')).filter((entry) => !entry.startsWith('.')).sort()).toEqual(['@aws-cdk', 'aws-cdk-lib', 'cdk-secure-mcp-server', 'constructs']);
    expect(existsSync(join(appDir, 'node_modules', 'esbuild'))).toBe(false);
  }, 120_000);

  it('synthesizes the README quick start with node alone, deploying the bundles it shipped byte for byte', () => {
    writeFileSync(
      join(appDir, 'app.js'),
      `const { App, CfnOutput, Stack } = require('aws-cdk-lib');
const lambda = require('aws-cdk-lib/aws-lambda');
const secretsmanager = require('aws-cdk-lib/aws-secretsmanager');
const { IdentityProvider, SecureMcpServer } = require('cdk-secure-mcp-server');

const app = new App({ outdir: 'cdk.out' });
const stack = new Stack(app, 'QuickStart');
const mcpFunction = new lambda.Function(stack, 'McpFunction', {
  runtime: lambda.Runtime.NODEJS_24_X,
  handler: 'index.handler',
  code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "{}" });'),
});
const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'UpstreamSecret', 'mcp/upstream-client-secret');
const mcp = new SecureMcpServer(stack, 'Mcp', {
  handler: mcpFunction,
  identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'abc', clientSecret: secret }),
});
new CfnOutput(stack, 'McpUrl', { value: mcp.mcpUrl });
app.synth();
`,
    );
    execFileSync(process.execPath, ['app.js'], { cwd: appDir, env: bareEnvironment(), stdio: 'pipe' });
    const out = join(appDir, 'cdk.out');
    const template = JSON.parse(readFileSync(join(out, 'QuickStart.template.json'), 'utf8'));
    expect(template.Outputs.McpUrl).toBeDefined();
    const functions = Object.values(template.Resources as Record<string, { Type: string; Properties: { Runtime?: string } }>).filter(
      (resource) => resource.Type === 'AWS::Lambda::Function' && resource.Properties.Runtime === 'nodejs24.x',
    );
    expect(functions).toHaveLength(AUTH_SERVER_BUNDLES.length + 1);
    const staged = readdirSync(out)
      .filter((entry) => entry.startsWith('asset.'))
      .map((entry) => sha256(join(out, entry, 'index.mjs')))
      .sort();
    expect(staged).toEqual(AUTH_SERVER_BUNDLES.map((bundle) => sha256(join(repo, 'assets', bundle, 'index.mjs'))).sort());
  }, 120_000);

  it('lets the MCP function import the runtime guard from the installed package', () => {
    const exported = execFileSync(process.execPath, ['-e', "console.log(Object.keys(require('cdk-secure-mcp-server/runtime')).sort().join(','))"], {
      cwd: appDir,
      env: bareEnvironment(),
      encoding: 'utf8',
    });
    expect(exported.trim().split(',')).toEqual(expect.arrayContaining(['withMcpGuard', 'mcpGuard', 'mcpGuardOptionsFromEnv']));
  });
});
