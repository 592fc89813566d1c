import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { RunningStack, startStackProcess } from '../support/local-stack';

/**
 * The sign-in and consent pages of the running local stack in a real browser (the Chromium of the
 * `@sparticuz/chromium` devDependency, via playwright-core): from the authorize URL, through consent
 * and the upstream sign-in, to the client's redirect. Screenshots go to test-output/e2e/.
 */
const SCREENSHOTS = 'test-output/e2e';

let stack: RunningStack;
let browser: Browser;
let clientServer: Server;
const received: URL[] = [];
let redirectUri: string;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  stack = await startStackProcess();
  browser = await launchBrowser();
  clientServer = createServer((request, response) => {
    received.push(new URL(request.url!, 'http://127.0.0.1'));
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Client</title><p>Signed in; you can close this page.</p>');
  });
  await new Promise<void>((done) => clientServer.listen(0, '127.0.0.1', done));
  redirectUri = `http://127.0.0.1:${(clientServer.address() as AddressInfo).port}/callback`;
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((done) => (clientServer ? clientServer.close(() => done()) : done()));
  await stack?.stop();
});

test('a full browser flow: authorize URL -> consent -> upstream sign-in -> the client\'s redirect with code, state and iss', async () => {
  const registration = (await (
    await fetch(`${stack.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Browser test client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none' }),
    })
  ).json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${stack.issuer}/authorize`);
  for (const [name, value] of Object.entries({
    response_type: 'code',
    client_id: registration.client_id,
    redirect_uri: redirectUri,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: 'browser-state-1',
    scope: 'mcp:tools',
    resource: stack.mcpUrl,
  })) {
    authorize.searchParams.set(name, value);
  }

  const page = await (await browser.newContext()).newPage();
  await page.goto(authorize.href);
  await page.waitForSelector('button[name="decision"][value="approve"]');
  expect(await page.textContent('body')).toContain('Browser test client');
  expect(await page.textContent('#redirect-host')).toBe('127.0.0.1');
  await page.screenshot({ path: `${SCREENSHOTS}/1-consent.png`, fullPage: true });
  await page.click('button[name="decision"][value="approve"]');

  await page.waitForSelector('input[name="username"]');
  await page.screenshot({ path: `${SCREENSHOTS}/2-upstream-sign-in.png`, fullPage: true });
  await page.fill('input[name="username"]', 'alice');
  await page.fill('input[name="password"]', 'alice');
  await Promise.all([page.waitForURL((url) => url.href.startsWith(redirectUri)), page.click('button[type="submit"]')]);
  await page.screenshot({ path: `${SCREENSHOTS}/3-client-redirect.png`, fullPage: true });

  // The browser also asks the client's origin for /favicon.ico.
  const callback = received.filter((url) => url.pathname === '/callback').pop()!;
  expect(callback.searchParams.get('state')).toBe('browser-state-1');
  expect(callback.searchParams.get('iss')).toBe(stack.issuer);
  const token = await fetch(`${stack.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: redirectUri, client_id: registration.client_id, resource: stack.mcpUrl }),
  });
  expect(token.status).toBe(200);
  expect(((await token.json()) as { scope: string }).scope).toBe('mcp:tools');
}, 60_000);
