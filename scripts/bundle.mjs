// Bundles every Lambda handler (lambda/<name>/index.ts) into assets/<name>/index.mjs with esbuild.
// The construct deploys these files with Code.fromAsset, so consumers need neither esbuild nor Docker
// at synth and every consumer deploys byte-identical code (docs/REQUIREMENTS.md, design decision 4).
import { build } from 'esbuild';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import bundleOptionsModule from './bundle-options.cjs';

const { bundleOptions } = bundleOptionsModule;

export const HANDLERS = ['metadata', 'register', 'token', 'authorize', 'authorizer', 'example-mcp'];

export async function bundleAll({ quiet = false } = {}) {
  rmSync('assets', { recursive: true, force: true });
  const results = {};
  for (const name of HANDLERS) {
    const entry = `lambda/${name}/index.ts`;
    if (!existsSync(entry)) continue;
    mkdirSync(`assets/${name}`, { recursive: true });
    const result = await build(bundleOptions(entry, `assets/${name}/index.mjs`));
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
