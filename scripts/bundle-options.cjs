// The esbuild options of every Lambda bundle, shared by scripts/bundle.mjs and the tests that build
// one, so a test always bundles exactly what is deployed.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

// Each AWS SDK client imports its whole package.json for one field, the version it puts into the user
// agent: the bundles carry that field alone (about 2 KB less per client, same user agent).
const sdkPackageVersionOnly = {
  name: 'sdk-package-version-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]@aws-sdk[\\/][^\\/]+[\\/]package\.json$/ }, (args) => ({
      contents: JSON.stringify({ version: JSON.parse(readFileSync(args.path, 'utf8')).version }),
      loader: 'json',
    }));
  },
};

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
  plugins: [sdkPackageVersionOnly],
  metafile: true,
  logLevel: 'warning',
});
