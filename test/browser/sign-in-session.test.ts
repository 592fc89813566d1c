import * as jose from 'jose';
import { DEFAULT_SCOPE_MODEL } from '../../lib/scopes';
import { authorizationParams } from '../support/authorize-fixture';
import { formEvent, lambdaContext } from '../support/harness';
import { type BrowserFlow, SCREENSHOTS, startBrowserFlow } from '../support/browser-flow';

/**
 * MRS-10 in a real browser: one authorization server for two MCP servers, oidc-provider upstream. The
 * browser signs in upstream once, for the first server; the second server's authorization shows its
 * own consent page with the user known and never reaches the upstream. Screenshot in test-output/browser/.
 */

let flow: BrowserFlow;

beforeAll(async () => {
  flow = await startBrowserFlow({
    PROTECTED_RESOURCES: JSON.stringify({
      servers: [
        { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 },
        { path: '/tools/mcp', scopeModel: { scopes: [{ name: 'tools:run', description: 'Run the build tools', isDefault: true }], toolScopes: {}, entitlements: [] }, authorizerCacheTtlSeconds: 0 },
      ],
      challenges: 'authorizer',
    }),
  });
}, 120_000);

afterAll(() => flow?.stop());

test('MRS-10 MRS-08 signed in upstream once for one MCP server, the browser authorizes the other one with its own consent page and no upstream request', async () => {
  const { server, idp, browser, received, tokenHandler } = flow;
  const { clientId, redirectUri } = await flow.registerClient('Fleet client', ['authorization_code']);
  const url = (resource: string, query: Record<string, string>) => `${server.issuer}/authorize?${new URLSearchParams({ ...query, resource })}`;
  const context = await browser.newContext({ viewport: { width: 900, height: 900 } });
  try {
    const page = await context.newPage();
    await page.goto(url(`${server.issuer}/mcp`, authorizationParams(clientId, redirectUri).query));
    await Promise.all([page.waitForURL(`${idp.issuer}/interaction/**`), page.click('button[value=approve]')]);
    await page.fill('input[name=username]', 'alice');
    await page.fill('input[name=password]', 'alice-password');
    await Promise.all([page.waitForURL(`${redirectUri}?**`), page.click('button[type=submit]')]);
    const session = (await context.cookies(server.issuer)).find((cookie) => cookie.name.startsWith('__Host-mcp-session-'))!;
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Lax', path: '/' });

    const upstreamRequests = idp.requests.length;
    // B's own scope: A's mcp:tools means nothing there (MRS-09).
    const second = authorizationParams(clientId, redirectUri, { scope: 'tools:run' });
    await page.goto(url(`${server.issuer}/tools/mcp`, second.query));
    expect(page.url()).toMatch(new RegExp(`^${server.issuer}/consent\\?request=`));
    expect(await page.locator('body').innerText()).toContain('Signed in as alice');
    expect(await page.locator('ul.scopes li').allInnerTexts()).toEqual(['tools:run: Run the build tools']);
    await page.screenshot({ path: `${SCREENSHOTS}/consent-signed-in.png`, fullPage: true });
    await Promise.all([page.waitForURL(`${redirectUri}?**`), page.click('button[value=approve]')]);
    expect(idp.requests.length).toBe(upstreamRequests);

    const token = await tokenHandler(
      formEvent('/token', { grant_type: 'authorization_code', code: received.at(-1)!.searchParams.get('code')!, code_verifier: second.verifier, redirect_uri: redirectUri, client_id: clientId }),
      lambdaContext,
    );
    expect(token.statusCode).toBe(200);
    expect(jose.decodeJwt(JSON.parse(token.body).access_token)).toMatchObject({ aud: `${server.issuer}/tools/mcp`, sub: 'alice', scope: 'tools:run' });
  } finally {
    await context.close();
  }
}, 60_000);
