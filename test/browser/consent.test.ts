import type { BrowserContext } from 'playwright-core';
import { authorizationParams } from '../support/authorize-fixture';
import { formEvent, lambdaContext } from '../support/harness';
import { type BrowserFlow, SCREENSHOTS, startBrowserFlow } from '../support/browser-flow';

/**
 * The consent flow in a real browser (the Chromium of the `@sparticuz/chromium` devDependency, driven by playwright-core): our handlers
 * behind an HTTP adapter, oidc-provider as the upstream, and a local "MCP client" that receives the
 * redirect. Screenshots go to test-output/browser/.
 */

let flow: BrowserFlow;
let server: BrowserFlow['server'];
let idp: BrowserFlow['idp'];
let tokenHandler: BrowserFlow['tokenHandler'];
let received: URL[];
let clientOrigin: string;
let context: BrowserContext;

beforeAll(async () => {
  // The MCP client's origin also serves a frameable page and a page that frames ours (CONS-05).
  flow = await startBrowserFlow({}, (url, response) => {
    if (url.pathname === '/framer') {
      const target = url.searchParams.get('src')!.replace(/"/g, '&quot;');
      response
        .writeHead(200, { 'Content-Type': 'text/html' })
        .end(`<!doctype html><title>Framer</title><iframe name="control" src="/hello" width="400" height="200"></iframe><iframe name="consent" src="${target}" width="600" height="400"></iframe>`);
    } else {
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><p id="hello">A frameable page.</p>');
    }
    return true;
  });
  ({ server, idp, tokenHandler, received, clientOrigin } = flow);
}, 120_000);

afterAll(() => flow?.stop());

beforeEach(async () => {
  context = await flow.browser.newContext({ viewport: { width: 900, height: 900 } });
});
afterEach(() => context.close());

const registerClient = (name: string) => flow.registerClient(name);

const authorizeUrl = (query: Record<string, string>) => `${server.issuer}/authorize?${new URLSearchParams({ ...query, resource: `${server.issuer}/mcp` })}`;

test('AS-19 CONS-03 a user consents, signs in upstream and the client receives a code that redeems', async () => {
  const client = await registerClient('Claude Code');
  const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { scope: 'mcp:tools mcp:admin' });
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });

  await page.goto(authorizeUrl(query));
  expect(page.url()).toMatch(new RegExp(`^${server.issuer}/consent\\?request=`));
  expect(await page.locator('h1').innerText()).toBe(`Allow Claude Code to access ${new URL(server.issuer).host}?`);
  expect(await page.locator('#redirect-host').innerText()).toBe('127.0.0.1');
  expect(await page.locator('ul.scopes li').allInnerTexts()).toEqual([
    'mcp:admin: Use the administrative tools of this MCP server',
    'mcp:tools: Use the tools of this MCP server',
  ]);
  expect(await page.locator('.warning').allInnerTexts()).toEqual([
    expect.stringContaining('registered itself'),
    expect.stringContaining('on this computer (localhost)'),
  ]);
  expect(idp.requests.filter((path) => path === '/auth')).toHaveLength(0);
  await page.screenshot({ path: `${SCREENSHOTS}/consent-page.png`, fullPage: true });

  await Promise.all([page.waitForURL(`${idp.issuer}/interaction/**`), page.click('button[value=approve]')]);
  await page.fill('input[name=username]', 'alice');
  await page.fill('input[name=password]', 'alice-password');
  await page.screenshot({ path: `${SCREENSHOTS}/upstream-sign-in.png` });
  await Promise.all([page.waitForURL(`${client.redirectUri}?**`), page.click('button[type=submit]')]);
  expect(await page.locator('#done').innerText()).toContain('received');

  const response = received.at(-1)!;
  expect([...response.searchParams.keys()].sort()).toEqual(['code', 'iss', 'state']);
  expect(response.searchParams.get('iss')).toBe(server.issuer);
  expect(response.searchParams.get('state')).toBe('client-state-123');
  const token = await tokenHandler(
    formEvent('/token', { grant_type: 'authorization_code', code: response.searchParams.get('code')!, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId }),
    lambdaContext,
  );
  expect(token.statusCode).toBe(200);
  expect(JSON.parse(token.body).scope).toBe('mcp:admin mcp:tools');
  expect(dialogs).toEqual([]);

  // The consent is remembered for this browser, client, redirect URI and scopes: straight to sign-in, then back.
  await page.goto(authorizeUrl(authorizationParams(client.clientId, client.redirectUri, { scope: 'mcp:tools mcp:admin' }).query));
  await page.waitForURL(`${client.redirectUri}?**`);
  expect(received.at(-1)!.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
}, 60_000);

test('CONS-05 a hostile client name renders as text and runs nothing', async () => {
  const hostile = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>\u202Eexe.gnp`;
  const client = await registerClient(hostile);
  const page = await context.newPage();
  const dialogs: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  await page.goto(authorizeUrl(authorizationParams(client.clientId, client.redirectUri).query));
  expect(await page.locator('bdi.client').innerText()).toBe(hostile.replace('\u202E', '\uFFFD'));
  expect(await page.locator('img, script').count()).toBe(0);
  expect(await page.title()).toMatch(/^Allow /);
  expect(dialogs).toEqual([]);
  await page.screenshot({ path: `${SCREENSHOTS}/hostile-name.png`, fullPage: true });
}, 60_000);

test('AS-19 CONS-01 the consent page will not render inside a frame of another origin', async () => {
  const client = await registerClient('Frame Target');
  const page = await context.newPage();
  const refusals: string[] = [];
  page.on('console', (message) => {
    if (/frame|refused/i.test(message.text())) refusals.push(message.text());
  });
  // Start a flow in this browser so the consent page exists and would render at the top level.
  await page.goto(authorizeUrl(authorizationParams(client.clientId, client.redirectUri).query));
  const consentUrl = page.url();
  expect(await page.locator('button[value=approve]').count()).toBe(1);

  // The refusal is reported after the framer's load event: wait for it rather than for a moment.
  const refused = page.waitForEvent('console', { predicate: (message) => /frame-ancestors|X-Frame-Options/.test(message.text()) });
  await page.goto(`${clientOrigin}/framer?src=${encodeURIComponent(consentUrl)}`);
  await page.waitForLoadState('load');
  await refused;
  const control = page.frame({ name: 'control' })!;
  // The refused frame is found by its element: until its error page commits it has no name yet.
  const framed = (await (await page.$('iframe[name=consent]'))!.contentFrame())!;
  expect(await control.locator('#hello').innerText()).toBe('A frameable page.');
  expect(framed.url()).not.toBe(consentUrl);
  expect(await framed.locator('button[value=approve]').count()).toBe(0);
  expect(refusals.join('\n')).toMatch(/frame-ancestors|X-Frame-Options/);
  await page.screenshot({ path: `${SCREENSHOTS}/framed-consent.png` });

  // The same URL still renders at the top level: the frame was refused, not the page.
  await page.goto(consentUrl);
  expect(await page.locator('button[value=approve]').count()).toBe(1);
}, 60_000);
