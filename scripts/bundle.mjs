// Bundles every Lambda handler (lambda/<name>/index.ts) into assets/<name>/index.mjs with esbuild.
// The construct deploys these files with Code.fromAsset, so consumers need neither esbuild nor Docker
// at synth and every consumer deploys byte-identical code (docs/REQUIREMENTS.md, design decision 4).
//
// A running local stack imports a handler's bundle the first time that handler is called, so a second
// `npm run bundle` (or `npm start`, `npm test`) must never leave a bundle missing or half-written: every
// bundle is built into a staging directory next to the output and renamed over the old file, which a
// reader sees either whole before or whole after.
//
// Usage: node scripts/bundle.mjs [--outdir DIR] [handler ...]   (defaults: assets, every handler)
import { build } from 'esbuild';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import bundleOptionsModule from './bundle-options.cjs';

const { bundleOptions } = bundleOptionsModule;

/**
 * The bundles, read from their one definition: lib/functions.ts (a contract module: it imports only
 * other contract modules, so its compiled text runs on its own once those imports are inlined).
 */
async function bundleNames() {
  const { outputFiles } = await build({ entryPoints: [new URL('../lib/functions.ts', import.meta.url).pathname], bundle: true, format: 'esm', platform: 'neutral', write: false, logLevel: 'warning' });
  const { BUNDLES } = await import(`data:text/javascript;base64,${Buffer.from(outputFiles[0].text).toString('base64')}`);
  return [...BUNDLES];
}

export const HANDLERS = await bundleNames();

/** Replaces the files of `target` with those of `staged`, one atomic rename per file, then drops stale files. */
function replaceDirectory(staged, target) {
  mkdirSync(target, { recursive: true });
  const fresh = readdirSync(staged);
  for (const file of fresh) renameSync(join(staged, file), join(target, file));
  for (const file of readdirSync(target)) if (!fresh.includes(file)) rmSync(join(target, file), { recursive: true, force: true });
}

export async function bundleAll({ quiet = false, outdir = 'assets', handlers = HANDLERS } = {}) {
  const output = resolve(outdir);
  mkdirSync(dirname(output), { recursive: true });
  // Same parent, same file system: the renames below are atomic.
  const staging = mkdtempSync(join(dirname(output), `.${basename(output)}-staging-`));
  const results = {};
  try {
    for (const name of handlers) {
      const entry = `lambda/${name}/index.ts`;
      // A listed bundle without its entry would deploy nothing: fail the build, not the synth later.
      if (!existsSync(entry)) throw new Error(`${name} is listed in lib/functions.ts (BUNDLES) but ${entry} does not exist`);
      const result = await build(bundleOptions(entry, join(staging, name, 'index.mjs')));
      replaceDirectory(join(staging, name), join(output, name));
      results[name] = result.metafile;
      if (!quiet) {
        const bytes = Object.values(result.metafile.outputs)[0].bytes;
        console.log(`bundled ${name}: ${(bytes / 1024).toFixed(1)} KB`);
      }
    }
    // A handler removed from the list leaves no bundle behind (only on a full build).
    if (handlers === HANDLERS && existsSync(output)) {
      for (const entry of readdirSync(output)) if (!HANDLERS.includes(entry)) rmSync(join(output, entry), { recursive: true, force: true });
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--outdir');
  const outdir = at === -1 ? undefined : args.splice(at, 2)[1];
  const unknown = args.filter((name) => !HANDLERS.includes(name));
  if (unknown.length) {
    console.error(`Unknown handler ${unknown.join(', ')}; expected any of ${HANDLERS.join(', ')}`);
    process.exit(2);
  }
  await bundleAll({ outdir, handlers: args.length ? args : HANDLERS });
}
