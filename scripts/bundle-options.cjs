// The esbuild options of every Lambda bundle, shared by scripts/bundle.mjs and the tests that build
// one, so a test always bundles exactly what is deployed.
const { join } = require('node:path');

exports.bundleOptions = (entry, outfile) => ({
  entryPoints: [entry],
  outfile,
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
  alias: { '@aws-sdk/credential-provider-node': join(__dirname, 'lambda-credentials.mjs') },
  legalComments: 'none',
  metafile: true,
  logLevel: 'warning',
});
