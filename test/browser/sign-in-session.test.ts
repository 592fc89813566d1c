import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import type { Browser } from 'playwright-core';
import { FlowStore } from '../../lambda/authorize/flow-store';
import { buildAuthorizeHandler } from '../../lambda/authorize/handler';
import { OidcUpstream } from '../../lambda/authorize/upstream';
import { randomToken } from '../../lambda/shared/crypto';
import { buildTokenHandler } from '../../lambda/token/handler';
import { DEFAULT_SCOPE_MODEL } from '../../lib/scopes';
import { authorizationParams } from '../authorize/fixture';
import { launchBrowser } from '../support/browser';
import { startHandlerServer, type HandlerServer } from '../support/handler-server';
import { AuditCapture, Backend, formEvent, lambdaContext } from '../support/harness';
import { startUpstreamIdp, type UpstreamIdp } from '../../local/upstream-idp';

/**
 * MRS-10 in a real browser: one authorization server for two MCP servers, oidc-provider upstream. The
 * browser signs in upstream once, for the first server; the second server's authorization shows its
 * own consent page with the user known and never reaches the upstream. Screenshot in test-output/browser/.
 */

const SCREENSHOTS = 'test-output/browser';
const UPSTREAM_CLIENT_ID = 'mcp-authorization-server';
const UPSTREAM_SECRET = 'browser-session-upstream-secret';
const now = () => Math.floor(Date.now() / 1000);

const backend = new Backend();
const audit = new AuditCapture();
let server: HandlerServer;
let idp: UpstreamIdp;
let browser: Browser;
let tokenHandler: ReturnType<typeof buildTokenHandler>;
const received: URL[] = [];
let clientServer: Server;
let clientOrigin: string;

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await backend.start();
  server = await startHandlerServer();
  idp = await startUpstreamIdp({ clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_SECRET, redirect_uris: [`${server.issuer}/callback`] }] });
  const config = backend.config({
    ISSUER: server.issuer,
    UPSTREAM_ISSUER: idp.issuer,
    UPSTREAM_CLIENT_ID,
    UPSTREAM_SCOPES: 'openid profile email groups',
    PROTECTED_RESOURCES: JSON.stringify({
      servers: [
        { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 },
        { path: '/tools/mcp', scopeModel: { scopes: [{ name: 'tools:run', description: 'Run the build tools', isDefault: true }], toolScopes: {}, entitlements: [] }, authorizerCacheTtlSeconds: 0 },
      ],
      challenges: 'authorizer',
    }),
  });
  server.handlers.authorize = buildAuthorizeHandler({
    config,
    stores: backend.stores(),
    flows: new FlowStore(backend.db, { pending: backend.tables.pending, consents: backend.tables.consents }),
    upstream: new OidcUpstream({ config: config.upstream!, redirectUri: `${server.issuer}/callback`, secret: async () => UPSTREAM_SECRET }),
    clock: now,
    sink: audit.sink,
  });
  tokenHandler = buildTokenHandler({ config, stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), clock: now, sink: audit.sink });
  clientServer = createServer((request, response) => {
    received.push(new URL(request.url ?? '/', clientOrigin));
    response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Client</title><p id="done">The MCP client received the response.</p>');
  });
  await new Promise<void>((resolve) => clientServer.listen(0, '127.0.0.1', resolve));
  clientOrigin = `http://127.0.0.1:${(clientServer.address() as AddressInfo).port}`;
  browser = await launchBrowser();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => clientServer?.close(() => resolve()));
  await idp?.stop();
  await server?.stop();
  await backend.stop();
});

test('MRS-10 MRS-08 signed in upstream once for one MCP server, the browser authorizes the other one with its own consent page and no upstream request', async () => {
  const clientId = randomToken(16);
  const redirectUri = `${clientOrigin}/callback`;
  await backend.stores().createClient({
    clientId,
    metadata: { client_name: 'Fleet client', redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: ['authorization_code'], response_types: ['code'] },
    createdAt: now(),
  });
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
