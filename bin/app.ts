#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BUNDLES } from '../lib/functions';
import { configureExampleApp } from './example-stack';

// `npx cdk synth` / `npx cdk deploy` run this file (cdk.json). The stack is environment-agnostic, so
// synth needs no credentials and no context lookups; cdk-nag fails the synth on any unacknowledged finding.

// A fresh clone has no handler bundles yet (assets/ is built, not committed): build them once. After
// changing handler code, `npm run bundle` (or `npm run synth` / `npm run deploy`) rebuilds them.
const root = join(__dirname, '..');
if (BUNDLES.some((name) => !existsSync(join(root, 'assets', name, 'index.mjs')))) {
  // The CLI reads the app's stdout; the bundler's progress goes to stderr.
  execFileSync(process.execPath, [join(root, 'scripts', 'bundle.mjs')], { cwd: root, stdio: ['ignore', 2, 2] });
}

configureExampleApp(new App());
