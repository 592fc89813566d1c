/**
 * The Vercel AI SDK's MCP client (`@ai-sdk/mcp`, ESM only) in its own Node process, as applications
 * run it: `node --import tsx test/e2e/ai-sdk-client.mts <mcp url> <seconds to wait before the last call>`.
 * Prints one JSON line with what ai-sdk.test.ts checks (never a token: only whether they changed).
 */
import { auth, createMCPClient, type MCPClient } from '@ai-sdk/mcp';
import type { Browser } from 'playwright-core';
import { launchBrowser, signInWithBrowser } from '../support/browser';
import { HeadlessOAuthProvider } from './headless-provider';

const [mcpUrl, wait] = process.argv.slice(2);
// The user signs in at a real Chromium, as an application's user would (started on first use).
let browser: Browser | undefined;
const provider = new HeadlessOAuthProvider('alice', undefined, async (url, redirectUri) => {
  browser ??= await launchBrowser();
  return signInWithBrowser(browser, url, { username: 'alice', password: 'alice', redirectUri });
});

/** The SDK's documented flow: connecting throws once the user was sent to authorize; finish with `auth`, connect again. */
async function connect(): Promise<MCPClient> {
  const open = () => createMCPClient({ transport: { type: 'http', url: mcpUrl, authProvider: provider as never } });
  try {
    return await open();
  } catch (error) {
    if (provider.authorizations.length === 0) throw error;
    const callback = provider.lastCallback;
    await auth(provider as never, { serverUrl: mcpUrl, authorizationCode: callback.searchParams.get('code')!, callbackIssuer: callback.searchParams.get('iss') ?? undefined });
    return open();
  }
}

const text = (result: object) => ((result as { content?: Array<{ text?: string }> }).content ?? []).map((block) => block.text ?? '').join('');

async function main(): Promise<void> {
  const client = await connect();
  const first = provider.savedTokens[0];
  const whoami = JSON.parse(text(await client.callTool({ name: 'whoami' })));
  const tools = (await client.listTools()).tools.map((tool) => tool.name);
  const greet = text(await client.callTool({ name: 'greet', arguments: { name: 'Ada' } }));
  await new Promise((done) => setTimeout(done, Number(wait) * 1000));
  const afterExpiry = text(await client.callTool({ name: 'echo', arguments: { text: 'after expiry' } }));
  const last = provider.savedTokens[provider.savedTokens.length - 1];
  await client.close();
  console.log(
    JSON.stringify({
      authorizations: provider.authorizations.map(({ request }) => Object.fromEntries(request.searchParams)),
      firstHasRefreshToken: first.refresh_token !== undefined,
      refreshTokenRotated: last.refresh_token !== undefined && last.refresh_token !== first.refresh_token,
      accessTokenRenewed: last.access_token !== first.access_token,
      whoami,
      tools,
      greet,
      afterExpiry,
    }),
  );
}

void main().finally(() => browser?.close());
