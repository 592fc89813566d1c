// Bundles every Lambda handler (lambda/<name>/index.ts) into assets/<name>/index.mjs with esbuild.
// The construct deploys these files with Code.fromAsset, so consumers need neither esbuild nor Docker
// at synth and every consumer deploys byte-identical code (DESIGN decision 4).
import { build } from 'esbuild';
import { existsSync, mkdirSync, rmSync } from 'node:fs';

export const HANDLERS = ['metadata', 'register', 'token', 'authorize', 'authorizer', 'example-mcp'];

export async function bundleAll({ quiet = false } = {}) {
  rmSync('assets', { recursive: true, force: true });
  const results = {};
  for (const name of HANDLERS) {
    const entry = `lambda/${name}/index.ts`;
    if (!existsSync(entry)) continue;
    mkdirSync(`assets/${name}`, { recursive: true });
    const result = await build({
      entryPoints: [entry],
      outfile: `assets/${name}/index.mjs`,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node24',
      format: 'esm',
      // Prefer the AWS SDK's ES module builds: they tree-shake far better than the CommonJS ones.
      mainFields: ['module', 'main'],
      // CommonJS dependencies inside an ES module bundle still call require().
      banner: { js: "import{createRequire as __cr}from'node:module';const require=__cr(import.meta.url);" },
      // Lambda supplies credentials through the environment: drop the rest of the default chain (~90 KB).
      alias: { '@aws-sdk/credential-provider-node': './scripts/lambda-credentials.mjs' },
      legalComments: 'none',
      metafile: true,
      logLevel: 'warning',
    });
    results[name] = result.metafile;
    if (!quiet) {
      const bytes = Object.values(result.metafile.outputs)[0].bytes;
      console.log(`bundled ${name}: ${(bytes / 1024).toFixed(1)} KB`);
    }
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await bundleAll();
}
