import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { auditEvents, RunningStack, startStackProcess } from '../support/local-stack';

/**
 * The Vercel AI SDK's MCP client (`@ai-sdk/mcp`) with its own OAuth implementation against the local
 * stack, run in its own process (the package is ESM only; see ai-sdk-client.mts). It asks for the
 * challenge's scope and never for offline_access: its users keep their session only because every
 * client registered for the refresh_token grant gets a refresh token (AS-15).
 */
const ROOT = resolve(__dirname, '..', '..');
let stack: RunningStack;
beforeAll(async () => {
  stack = await startStackProcess({ ACCESS_TOKEN_TTL_SECONDS: '5', CLOCK_TOLERANCE_SECONDS: '0', REFRESH_GRACE_SECONDS: '0' });
}, 60_000);
afterAll(() => stack?.stop());

test('AS-15 @ai-sdk/mcp signs in without offline_access, gets a refresh token, calls whoami as alice and refreshes when the token expires', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'test/e2e/ai-sdk-client.mts', stack.mcpUrl, '6.5'], { cwd: ROOT, timeout: 50_000 });
  const run = JSON.parse(stdout.trim().split('\n').pop()!);
  expect(run.authorizations).toHaveLength(1);
  const [request] = run.authorizations;
  expect(request.scope.split(' ')).not.toContain('offline_access');
  expect(request).toMatchObject({ code_challenge_method: 'S256', resource: stack.mcpUrl });
  expect(run.firstHasRefreshToken).toBe(true);
  expect(run.whoami.user).toBe('alice');
  expect(run.tools).toEqual(expect.arrayContaining(['echo', 'greet', 'whoami']));
  // greet declares x-mcp-header: a 2026-07-28 client mirrors the argument into Mcp-Param-Name.
  expect(run.greet).toBe('Hello, Ada!');
  // After expiry the client refreshed (one authorization only) and carried on.
  expect(run.afterExpiry).toBe('after expiry');
  expect(run.accessTokenRenewed).toBe(true);
  expect(run.refreshTokenRotated).toBe(true);
  expect(auditEvents(stack).some((event) => event.event === 'token.refreshed')).toBe(true);
}, 60_000);
