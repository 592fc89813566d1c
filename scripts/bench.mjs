// `npm run bench`: prints the figures the issues budget (bundle sizes, module load times, and each
// scripts/bench/*.mjs module's own figures). It measures and prints; it never asserts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { bundleAll } from './bundle.mjs';

const BUDGETS = { token: { kb: 300, loadMs: 30 }, authorizer: { kb: 40, loadMs: 10 } };

// Enough configuration for every handler's module-scope setup to complete, as on a cold Lambda.
const HANDLER_ENV = {
  ISSUER: 'https://bench.example.com/prod',
  CLIENTS_TABLE: 'clients', CODES_TABLE: 'codes', GRANTS_TABLE: 'grants', PENDING_TABLE: 'pending', CONSENTS_TABLE: 'consents',
  SIGNING_KEY_ARN: 'arn:aws:kms:us-east-1:000000000000:key/bench', SIGNING_ALGORITHM: 'RS256',
  JWKS_URI: 'https://bench.example.com/prod/jwks.json',
  TRUSTED_JWKS: JSON.stringify({ keys: [] }),
  UPSTREAM_ISSUER: 'https://login.example.com', UPSTREAM_CLIENT_ID: 'bench', UPSTREAM_CLIENT_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:bench',
  AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench',
};

/** Median time to import a bundle in a fresh process (what a cold start pays for module load). */
function loadTimeMs(file, runs = 15) {
  const script = `const t=performance.now();import(${JSON.stringify(pathToFileURL(file).href)}).then(()=>process.stdout.write(String(performance.now()-t)),e=>{process.stderr.write(String(e));process.exit(1)})`;
  const samples = [];
  for (let i = 0; i < runs; i++) {
    samples.push(Number(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, ...HANDLER_ENV } }).toString()));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * The part of a load that is Node's own: a module importing just the built-ins the bundle imports.
 * Shown next to each bundle so the figures say what the bundle's code adds.
 */
function builtinsLoadTimeMs(file) {
  const builtins = [...new Set(readFileSync(file, 'utf8').match(/from"node:[a-z_/0-9]+"/g) ?? [])];
  mkdirSync('node_modules/.cache/bench', { recursive: true });
  const probe = `node_modules/.cache/bench/builtins-${file.split('/')[1]}.mjs`;
  writeFileSync(probe, builtins.map((spec) => `import ${spec.slice(4)};`).join('\n'));
  return loadTimeMs(probe);
}

console.log(`node ${process.version} on ${process.arch}`);
await bundleAll({ quiet: true });
console.log('\nHandler bundles (minified ESM; median module load of 15 cold processes; node built-ins = the same imports of Node\'s own modules alone)');
for (const name of readdirSync('assets').sort()) {
  const file = `assets/${name}/index.mjs`;
  const kb = statSync(file).size / 1024;
  const ms = loadTimeMs(file);
  const builtins = builtinsLoadTimeMs(file);
  const budget = BUDGETS[name];
  const note = budget ? `  (budget ${budget.kb} KB, ${budget.loadMs} ms: ${kb <= budget.kb && ms <= budget.loadMs ? 'within' : 'OVER'})` : '';
  console.log(`  ${name.padEnd(12)} ${kb.toFixed(1).padStart(7)} KB  ${ms.toFixed(1).padStart(6)} ms  (node built-ins ${builtins.toFixed(1)} ms)${note}`);
}

// The issue's reference point, measured the same way in the same run: the two SDK clients alone,
// bundled from their ES modules with nothing dropped.
{
  const { build } = await import('esbuild');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync('node_modules/.cache/bench', { recursive: true });
  writeFileSync('node_modules/.cache/bench/sdk.mjs', "export { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export { KMSClient } from '@aws-sdk/client-kms';");
  await build({
    entryPoints: ['node_modules/.cache/bench/sdk.mjs'], outfile: 'node_modules/.cache/bench/sdk-bundle.mjs', bundle: true, minify: true,
    platform: 'node', format: 'esm', target: 'node24', mainFields: ['module', 'main'], logLevel: 'error',
    banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
  });
  const file = 'node_modules/.cache/bench/sdk-bundle.mjs';
  console.log(`  ${'reference'.padEnd(12)} ${(statSync(file).size / 1024).toFixed(1).padStart(7)} KB  ${loadTimeMs(file).toFixed(1).padStart(6)} ms  (the two SDK clients from ES modules, unmodified)`);
}

for (const file of readdirSync('scripts/bench').filter((f) => f.endsWith('.mjs')).sort()) {
  const module = await import(pathToFileURL(`scripts/bench/${file}`).href);
  console.log(`\n${file}`);
  await module.bench();
}
