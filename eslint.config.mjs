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
