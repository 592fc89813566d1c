import * as v1Client from '@modelcontextprotocol/sdk/client/index.js';
import * as v1Http from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import * as v2 from '@modelcontextprotocol/client';
import { auditEvents, RunningStack, startStackProcess } from '../support/local-stack';
import { HeadlessOAuthProvider } from './headless-provider';
import { CookieJar, playBrowser } from '../support/browser-player';
import { DEFAULT_SCOPE_MODEL, expandScopes } from '../../lib/scopes';

/**
 * The official MCP TypeScript SDK clients of both generations against the local stack: discovery from
 * the 401, registration, authorization (upstream sign-in and consent played headlessly), token,
 * tools, step-up and refresh. Nothing here knows our internals: only the SDKs and HTTP.
 */
interface Generation {
  readonly name: string;
  connect(url: string, provider: HeadlessOAuthProvider): Promise<Session>;
}

interface Session {
  callTool(name: string, args?: Record<string, unknown>): Promise<{ content: Array<{ type: string; text?: string }>; isError?: boolean }>;
  listTools(): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * Runs `operation`; when the SDK sent the user to authorize (the provider played the browser) and
 * stopped, completes the authorization with the captured callback and retries.
 */
async function withAuthorization<T>(provider: HeadlessOAuthProvider, operation: () => Promise<T>, finish: () => Promise<void>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const authorizationsBefore = provider.authorizations.length;
    try {
      return await operation();
    } catch (error) {
      if (provider.authorizations.length === authorizationsBefore || attempt >= 2) throw error;
      await finish();
    }
  }
}

/** The parts of an SDK generation the tests use: the same shape in 1.x and 2.x, different classes. */
interface SdkClient {
  connect(transport: unknown): Promise<void>;
  callTool(request: { name: string; arguments: Record<string, unknown> }): Promise<unknown>;
  listTools(): Promise<{ tools: Array<{ name: string }> }>;
  close(): Promise<void>;
}

function generation(
  name: string,
  make: (url: URL, provider: HeadlessOAuthProvider) => { transport: unknown; client: SdkClient },
  finishAuth: (transport: never, callback: URL) => Promise<void>,
): Generation {
  return {
    name,
    async connect(url, provider) {
      let current = make(new URL(url), provider);
      const finish = () => finishAuth(current.transport as never, provider.lastCallback);
      await withAuthorization(provider, () => current.client.connect(current.transport), async () => {
        await finish();
        current = make(new URL(url), provider);
      });
      return {
        callTool: (tool, args = {}) => withAuthorization(provider, () => current.client.callTool({ name: tool, arguments: args }) as never, finish),
        listTools: async () => (await current.client.listTools()).tools.map((tool) => tool.name),
        close: () => current.client.close(),
      };
    },
  };
}

const V1 = generation(
  '@modelcontextprotocol/sdk 1.x',
  (url, provider) => ({
    transport: new v1Http.StreamableHTTPClientTransport(url, { authProvider: provider as never }),
    client: new v1Client.Client({ name: 'e2e-v1', version: '1.0.0' }) as unknown as SdkClient,
  }),
  (transport: v1Http.StreamableHTTPClientTransport, callback) => transport.finishAuth(callback.searchParams.get('code')!),
);

const V2 = generation(
  '@modelcontextprotocol/client 2.x',
  (url, provider) => ({
    transport: new v2.StreamableHTTPClientTransport(url, { authProvider: provider as never }),
    client: new v2.Client({ name: 'e2e-v2', version: '2.0.0' }) as unknown as SdkClient,
  }),
  // The 2.x client validates the callback's iss against the discovered issuer (RFC 9207) here.
  (transport: v2.StreamableHTTPClientTransport, callback) => transport.finishAuth(callback.searchParams),
);

const text = (result: { content: Array<{ type: string; text?: string }> }) => result.content.map((block) => block.text ?? '').join('');

let stack: RunningStack;
beforeAll(async () => {
  stack = await startStackProcess();
}, 60_000);
afterAll(() => stack?.stop());

describe.each([V1, V2])('$name against the local stack', (generation) => {
  test('C-1..C-5 401 -> metadata -> discovery -> registration -> authorize -> token -> tools; whoami answers alice', async () => {
    const provider = new HeadlessOAuthProvider('alice');
    const session = await generation.connect(stack.mcpUrl, provider);
    expect(await session.listTools()).toEqual(expect.arrayContaining(['echo', 'whoami']));
    expect(text(await session.callTool('echo', { text: 'hello from the test' }))).toContain('hello from the test');
    const whoami = text(await session.callTool('whoami'));
    expect(whoami).toContain('alice');
    // The authorization request carried PKCE S256 and the exact resource (C-5), and the callback the issuer.
    const { request, callback } = provider.authorizations[0];
    expect(request.searchParams.get('code_challenge_method')).toBe('S256');
    expect(request.searchParams.get('resource')).toBe(stack.mcpUrl);
    expect(callback.searchParams.get('iss')).toBe(stack.issuer);
    await session.close();
  }, 60_000);

  test('step-up: alice with mcp:tools calls admin_stats, re-authorizes for the union of scopes and succeeds', async () => {
    // 1.x refreshes instead of re-authorizing whenever it holds a refresh token (see the AS-15 test
    // below), so its step-up is shown with a client that registered no refresh_token grant.
    const provider = generation === V1 ? new HeadlessOAuthProvider('alice', ['authorization_code']) : new HeadlessOAuthProvider('alice');
    const session = await generation.connect(stack.mcpUrl, provider);
    expect(provider.savedTokens[0].scope).toBe('mcp:tools');
    const result = await session.callTool('admin_stats');
    expect(result.isError).not.toBe(true);
    // C-6: the step-up authorization asked for the union of the old and the new scopes.
    const stepUp = provider.authorizations[provider.authorizations.length - 1].request;
    expect(stepUp.searchParams.get('scope')?.split(' ')).toEqual(expect.arrayContaining(['mcp:admin']));
    // 2.x asks for the union of old and new scopes; 1.x for the challenge's scope alone, which still
    // covers the old one here because mcp:admin implies mcp:tools (RS-8).
    const last = provider.savedTokens[provider.savedTokens.length - 1];
    expect([...expandScopes(DEFAULT_SCOPE_MODEL, last.scope!.split(' '))]).toEqual(expect.arrayContaining(['mcp:admin', 'mcp:tools']));
    expect(text(await session.callTool('echo', { text: 'still allowed' }))).toContain('still allowed');
    await session.close();
  }, 60_000);

  test('MRS-10 MRS-12 MRS-03 one registration and one upstream sign-in serve both MCP servers; each token works only at its own server', async () => {
    const [mcpUrl, toolsUrl] = stack.mcpUrls;
    const upstreamOrigin = new URL(/Upstream sign-in: (\S+)/.exec(stack.output.join(''))![1]).origin;
    // One browser (one cookie jar) for both servers, as the user's browser would be.
    const jar = new CookieJar();
    const visited: URL[] = [];
    const signIn = (url: URL, redirectUri: string) => playBrowser(url, { username: 'alice', password: 'alice', redirectUri, jar, visited });
    const forMcp = new HeadlessOAuthProvider('alice', undefined, signIn);
    const forTools = new HeadlessOAuthProvider('alice', undefined, signIn).shareRegistrationWith(forMcp);

    const first = await generation.connect(mcpUrl, forMcp);
    expect(text(await first.callTool('whoami'))).toContain('alice');
    const upstreamVisits = () => visited.filter((url) => url.origin === upstreamOrigin).length;
    const afterFirst = upstreamVisits();
    expect(afterFirst).toBeGreaterThan(0);
    const consentPages = () => visited.filter((url) => url.pathname.endsWith('/consent') && url.searchParams.has('request')).length;
    const consentsAfterFirst = consentPages();

    const second = await generation.connect(toolsUrl, forTools);
    expect((await second.listTools()).sort()).toEqual(['echo', 'whoami']);
    // MRS-10: not sent upstream again; MRS-08: the second server still asked for consent.
    expect(upstreamVisits()).toBe(afterFirst);
    expect(consentPages()).toBe(consentsAfterFirst + 1);
    // MRS-12: one registration, used for both authorizations.
    const clientId = (forMcp.clientInformation() as { client_id: string }).client_id;
    expect(auditEvents(stack).filter((event) => event.event === 'register.created' && event.client_id === clientId)).toHaveLength(1);
    expect(forTools.authorizations.map((entry) => entry.request.searchParams.get('client_id'))).toEqual([clientId]);
    expect(forTools.authorizations[0].request.searchParams.get('resource')).toBe(toolsUrl);

    // MRS-03: each access token is refused by the other server.
    const call = (url: string, token: string) =>
      fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-11-25' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
      });
    const mcpToken = (forMcp.tokens() as { access_token: string }).access_token;
    const toolsToken = (forTools.tokens() as { access_token: string }).access_token;
    expect((await call(mcpUrl, mcpToken)).status).toBe(200);
    expect((await call(toolsUrl, mcpToken)).status).toBe(401);
    expect((await call(mcpUrl, toolsToken)).status).toBe(401);
    await first.close();
    await second.close();
  }, 60_000);

  test('bob never obtains mcp:admin', async () => {
    const provider = new HeadlessOAuthProvider('bob');
    const session = await generation.connect(stack.mcpUrl, provider);
    await expect(session.callTool('admin_stats')).rejects.toThrow();
    for (const tokens of provider.savedTokens) expect(tokens.scope ?? '').not.toContain('mcp:admin');
    await session.close();
  }, 60_000);
});

describe('refresh with short-lived access tokens', () => {
  let shortLived: RunningStack;
  beforeAll(async () => {
    shortLived = await startStackProcess({ ACCESS_TOKEN_TTL_SECONDS: '5', CLOCK_TOLERANCE_SECONDS: '0', REFRESH_GRACE_SECONDS: '0' });
  }, 60_000);
  afterAll(() => shortLived?.stop());

  test('@modelcontextprotocol/client 2.x asks for offline_access; the token expires, the client refreshes and carries on; the old refresh token is refused', async () => {
    const provider = new HeadlessOAuthProvider('alice');
    const session = await V2.connect(shortLived.mcpUrl, provider);
    expect(provider.authorizations[0].request.searchParams.get('scope')?.split(' ')).toContain('offline_access');
    expect(text(await session.callTool('echo', { text: 'before expiry' }))).toContain('before expiry');
    const first = provider.savedTokens[provider.savedTokens.length - 1];
    await new Promise((done) => setTimeout(done, 6500));
    expect(text(await session.callTool('echo', { text: 'after expiry' }))).toContain('after expiry');
    const second = provider.savedTokens[provider.savedTokens.length - 1];
    expect(second.access_token).not.toBe(first.access_token);
    expect(second.refresh_token).not.toBe(first.refresh_token);
    expect(provider.authorizations).toHaveLength(1);
    const clientId = (provider.clientInformation() as unknown as { client_id: string }).client_id;
    const reuse = await fetch(`${shortLived.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: first.refresh_token!, client_id: clientId }),
    });
    expect(reuse.status).toBe(400);
    expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant');
    expect(auditEvents(shortLived).some((event) => event.event === 'security.refresh_reuse')).toBe(true);
    await session.close();
  }, 60_000);

  test('AS-15 @modelcontextprotocol/sdk 1.x never asks for offline_access, still gets a refresh token and refreshes when the token expires', async () => {
    const provider = new HeadlessOAuthProvider('alice');
    const session = await V1.connect(shortLived.mcpUrl, provider);
    expect(provider.authorizations[0].request.searchParams.get('scope')?.split(' ')).not.toContain('offline_access');
    const first = provider.savedTokens[0];
    expect(first.refresh_token).toBeDefined();
    await new Promise((done) => setTimeout(done, 6500));
    expect(text(await session.callTool('echo', { text: 'after expiry' }))).toContain('after expiry');
    expect(provider.authorizations).toHaveLength(1);
    expect(provider.savedTokens[provider.savedTokens.length - 1].refresh_token).not.toBe(first.refresh_token);
    await session.close();
  }, 60_000);

  test('AS-15 a refresh never widens the grant: 1.x holding a refresh token cannot step up by refreshing (it stops after one try), and never obtains mcp:admin that way', async () => {
    // The 1.x SDK answers insufficient_scope by refreshing without a scope parameter; the AS renews
    // the grant as it was, so the retried call is refused again and the SDK gives up. 2.x and
    // mcp-remote re-authorize instead (SEP-2350).
    const provider = new HeadlessOAuthProvider('alice');
    const session = await V1.connect(shortLived.mcpUrl, provider);
    await expect(session.callTool('admin_stats')).rejects.toThrow('Server returned 403 after trying upscoping');
    expect(provider.authorizations).toHaveLength(1);
    for (const tokens of provider.savedTokens) expect(tokens.scope).toBe('mcp:tools');
    await session.close();
  }, 60_000);
});
