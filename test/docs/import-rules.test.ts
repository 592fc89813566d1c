import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * The import directions of docs/ARCHITECTURE.md, enforced by the lint (eslint.config.mjs): each rule
 * refuses a violation, and the code as it is passes (npm test runs the lint over every file). ESLint
 * loads its ESM config, which jest's module system cannot, so one plain node process lints every case.
 */
const ROOT = resolve(__dirname, '..', '..');
const RULE = '@typescript-eslint/no-restricted-imports';

function lintAll(cases: ReadonlyArray<readonly [string, string]>): string[][] {
  const script = `
    const { ESLint } = await import('eslint');
    const eslint = new ESLint({ cwd: process.cwd() });
    const cases = JSON.parse(process.argv[1]);
    const out = [];
    for (const [filePath, code] of cases) {
      const [result] = await eslint.lintText(code + '\\nexport const used = [value];\\n', { filePath });
      out.push(result.messages.filter((m) => m.ruleId === ${JSON.stringify(RULE)}).map((m) => m.message));
    }
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(cases)], { cwd: ROOT }).toString());
}

const REFUSED: Array<[string, string, string, RegExp]> = [
  ['the contract imports aws-cdk-lib', 'lib/routes.ts', "import { App as value } from 'aws-cdk-lib';", /contract module imports only other contract modules/],
  ['the contract imports the construct', 'lib/tables.ts', "import { McpAuthorizationServer as value } from './mcp-authorization-server';", /contract module/],
  ['lib/ imports handler code', 'lib/identity-provider.ts', "import { loadTokenConfig as value } from '../lambda/token/config';", /lib\/ never imports handler/],
  ['the runtime guard imports shared handler code', 'lambda/runtime/guard.ts', "import { parseMachineClients as value } from '../shared/config';", /published runtime guard imports only the contract/],
  ['the runtime guard imports middy', 'lambda/runtime/middleware.ts', "import value from '@middy/core';", /published runtime guard/],
  ['a handler imports another handler', 'lambda/token/introspect.ts', "import { loadAuthorizerRoutes as value } from '../authorizer/config';", /never imports another handler/],
  ['a nested handler file imports another handler', 'lambda/token/grants/refresh-token.ts', "import { issueCode as value } from '../../authorize/issue-code';", /never imports another handler/],
  ['shared code imports a handler', 'lambda/shared/http.ts', "import { buildTokenHandler as value } from '../token/handler';", /Shared code never imports a handler/],
];
const ALLOWED: Array<[string, string]> = [
  ['lib/routes.ts', "import { DEFAULT_SCOPE_MODEL as value } from './scopes';"],
  ['lambda/token/introspect.ts', "import { verifyAccessToken as value } from '../shared/access-token-verifier';"],
  ['lambda/runtime/guard.ts', "import { ROUTES as value } from '../../lib/routes';"],
];

let results: string[][];
beforeAll(() => {
  results = lintAll([...REFUSED.map(([, file, code]) => [file, code] as const), ...ALLOWED]);
}, 60_000);

test.each(REFUSED.map((entry, index) => [...entry, index] as const))('%s is refused', (_case, _file, _code, message, index) => {
  expect(results[index]).toHaveLength(1);
  expect(results[index][0]).toMatch(message);
});

test('what the rules allow passes: the contract reads the contract, a handler reads shared code, the runtime reads the contract', () => {
  expect(results.slice(REFUSED.length)).toEqual(ALLOWED.map(() => []));
});
