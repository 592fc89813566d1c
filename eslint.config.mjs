// The lint gate of `npm test` (`npm run lint`; `npm run lint:fix` applies the fixable findings):
// - ESLint's and typescript-eslint's recommended rules over every TypeScript and JavaScript source;
// - the house style as @stylistic rules, written to match the code as it is (2 spaces, single quotes,
//   semicolons, trailing commas on multi-line literals, 1tbs braces), so `--fix` formats new code the same
//   way and no existing file had to be reformatted. Line length is left to review: a few table-like
//   lines in the tests are deliberately long.
import js from '@eslint/js';
import stylistic from '@stylistic/eslint-plugin';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const nodeGlobals = { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', performance: 'readonly' };

/** The modules every layer may read: plain data and pure functions that import nothing else. */
export const CONTRACT_MODULES = [
  'routes', 'environment', 'tables', 'scopes', 'protected-resources', 'machine-clients', 'loopback', 'challenges', 'authorizer-context', 'authorizer-gateway', 'functions', 'signing-algorithms', 'environment-reader',
];
const HANDLER_FOLDERS = ['authorize', 'authorizer', 'metadata', 'register', 'token', 'example-mcp'];
const LIBRARIES = ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', '@aws-sdk/*', '@middy/*'];
const restrict = (files, patterns, message) => ({
  files,
  rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: patterns, message }] }] },
});
const folderImports = (folders) => folders.flatMap((folder) => [`../${folder}`, `../${folder}/*`, `../../${folder}`, `../../${folder}/*`]);

function importRules() {
  const contractFiles = CONTRACT_MODULES.map((name) => `lib/${name}.ts`);
  const notContract = ['./*', ...CONTRACT_MODULES.map((name) => `!./${name}`)];
  return [
    restrict(['lib/**/*.ts'], ['**/lambda/**', '**/local/**', '**/test/**'], 'lib/ never imports handler, local-stack or test code: put what both need in the contract (lib/routes.ts, lib/environment.ts, ...).'),
    restrict(contractFiles, [...LIBRARIES, '**/lambda/**', '**/local/**', ...notContract], 'A contract module imports only other contract modules (CONTRACT_MODULES in eslint.config.mjs).'),
    restrict(['lambda/runtime/**/*.ts'], [...folderImports([...HANDLER_FOLDERS, 'shared']), ...LIBRARIES], 'The published runtime guard imports only the contract (lib/) and its own files: no handler code, no AWS SDK, no middy.'),
    restrict(['lambda/shared/**/*.ts'], folderImports(HANDLER_FOLDERS), 'Shared code never imports a handler.'),
    ...HANDLER_FOLDERS.map((folder) =>
      restrict([`lambda/${folder}/**/*.ts`], folderImports(HANDLER_FOLDERS.filter((other) => other !== folder)), `A handler (lambda/${folder}) never imports another handler: move what both need to lambda/shared or the contract.`),
    ),
  ];
}

export default defineConfig(
  { ignores: ['node_modules/', 'dist/', 'assets/', 'cdk.out/', 'coverage/', 'test-output/', '.jest-cache/', '.assets-staging-*/'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@stylistic': stylistic },
    rules: {
      // Unused code is an error; a leading underscore marks a parameter a signature needs but the body does not.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A server listens first and gets its handler once the port is known: the closure reads the variable
      // before its single assignment, so it cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@stylistic/semi': ['error', 'always'],
      '@stylistic/quotes': ['error', 'single', { avoidEscape: true, allowTemplateLiterals: 'always' }],
      '@stylistic/indent': ['error', 2, { SwitchCase: 1, flatTernaryExpressions: true, offsetTernaryExpressions: true }],
      '@stylistic/comma-dangle': ['error', 'always-multiline'],
      '@stylistic/eol-last': 'error',
      '@stylistic/no-trailing-spaces': 'error',
      '@stylistic/no-multiple-empty-lines': ['error', { max: 1 }],
      '@stylistic/brace-style': ['error', '1tbs', { allowSingleLine: true }],
      '@stylistic/keyword-spacing': 'error',
      '@stylistic/space-infix-ops': 'error',
      '@stylistic/arrow-parens': ['error', 'always'],
    },
  },
  // The import directions (docs/ARCHITECTURE.md, section 1): the contract imports only the contract; lib/
  // never imports handler code; a handler never imports another handler; the published runtime imports
  // only the contract. test/toolchain.test.ts shows each rule refusing a violation.
  ...importRules(),
  {
    // Tests read synthesized CloudFormation templates and handler results as untyped JSON; typing every
    // property path they assert on would restate the CloudFormation schema. Production code keeps the rule.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Node scripts and configs in CommonJS.
    files: ['**/*.cjs', '**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { ...nodeGlobals, require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: { globals: nodeGlobals },
  },
);
