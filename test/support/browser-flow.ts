import { mkdirSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { buildAuthorizeHandler } from '../../lambda/authorize/handler';
import { OidcUpstream } from '../../lambda/authorize/upstream';
import { randomToken } from '../../lambda/shared/crypto';
import { buildTokenHandler } from '../../lambda/token/handler';
import { startUpstreamIdp, type UpstreamIdp } from '../../local/upstream-idp';
import { launchBrowser } from './browser';
import { startHandlerServer, type HandlerServer } from './handler-server';
import { AuditCapture, Backend } from './harness';

/**
 * What every real-browser test of the authorize flow stands on: our authorize handler behind an HTTP
 * adapter, oidc-provider as the upstream, the token handler, a local "MCP client" whose loopback
 * `/callback` records the responses it receives, and the Chromium of `test/support/browser.ts`.
 */
export const SCREENSHOTS = 'test-output/browser';

const UPSTREAM_CLIENT_ID = 'mcp-authorization-server';
const UPSTREAM_SECRET = 'browser-test-upstream-secret';
const now = () => Math.floor(Date.now() / 1000);

export interface BrowserFlow {
  readonly backend: Backend;
  readonly audit: AuditCapture;
  readonly server: HandlerServer;
  readonly idp: UpstreamIdp;
  readonly browser: Browser;
  readonly tokenHandler: ReturnType<typeof buildTokenHandler>;
  /** The client's origin (`http://127.0.0.1:<port>`) and every response its `/callback` received. */
  readonly clientOrigin: string;
  readonly received: URL[];
  /** A registered public client of the MCP client's origin. */
  registerClient(name: string, grantTypes?: string[]): Promise<{ clientId: string; redirectUri: string }>;
  stop(): Promise<void>;
}

/**
 * Starts the flow. `environment` is added to the handlers' configuration (e.g. `PROTECTED_RESOURCES`);
 * `clientPage` may answer other paths of the client's origin (return false to fall through).
 */
export async function startBrowserFlow(
  environment: Record<string, string> = {},
  clientPage: (url: URL, response: ServerResponse, request: IncomingMessage) => boolean = () => false,
): Promise<BrowserFlow> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const backend = new Backend();
  const audit = new AuditCapture();
  await backend.start();
  const server = await startHandlerServer();
  const idp = await startUpstreamIdp({ clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_SECRET, redirect_uris: [`${server.issuer}/callback`] }] });
  const env = { ISSUER: server.issuer, UPSTREAM_ISSUER: idp.issuer, UPSTREAM_CLIENT_ID, UPSTREAM_SCOPES: 'openid profile email groups', ...environment };
  const config = backend.config('authorize', env);
  server.handlers.authorize = buildAuthorizeHandler({
    config,
    stores: backend.stores(),
    upstream: new OidcUpstream({ config: config.upstream, redirectUri: `${server.issuer}/callback`, secret: async () => UPSTREAM_SECRET }),
    clock: now,
    sink: audit.sink,
  });
  const tokenHandler = buildTokenHandler({ config: backend.config('token', env), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), clock: now, sink: audit.sink });

  const received: URL[] = [];
  let clientOrigin = '';
  const clientServer: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', clientOrigin);
    if (url.pathname === '/callback') {
      received.push(url);
      response.writeHead(200, { 'Content-Type': 'text/html' }).end('<!doctype html><title>Client</title><p id="done">The MCP client received the response.</p>');
    } else if (!clientPage(url, response, request)) {
      response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => clientServer.listen(0, '127.0.0.1', resolve));
  clientOrigin = `http://127.0.0.1:${(clientServer.address() as AddressInfo).port}`;
  const browser = await launchBrowser();

  return {
    backend,
    audit,
    server,
    idp,
    browser,
    tokenHandler,
    clientOrigin,
    received,
    async registerClient(name, grantTypes = ['authorization_code', 'refresh_token']) {
      const clientId = randomToken(16);
      const redirectUri = `${clientOrigin}/callback`;
      await backend.stores().clients.create({
        clientId,
        metadata: { client_name: name, redirect_uris: [redirectUri], token_endpoint_auth_method: 'none', grant_types: grantTypes, response_types: ['code'] },
        createdAt: now(),
      });
      return { clientId, redirectUri };
    },
    async stop() {
      await browser.close();
      await new Promise<void>((resolve) => clientServer.close(() => resolve()));
      await idp.stop();
      await server.stop();
      await backend.stop();
    },
  };
}
