import { createHash, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { playBrowser } from '../support/browser-player';
import type { RunningStack } from '../support/local-stack';

const REDIRECT_URI = 'http://127.0.0.1:33419/callback';

/** A user's access token for the stack's MCP endpoint: registration, authorization (the browser played), code redemption. */
export async function signIn(stack: RunningStack, username: string, scope = 'mcp:tools'): Promise<string> {
  const registration = (await (
    await fetch(`${stack.issuer}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_name: 'Edge proxy', redirect_uris: [REDIRECT_URI], token_endpoint_auth_method: 'none' }),
    })
  ).json()) as { client_id: string };
  const verifier = randomBytes(32).toString('base64url');
  const authorize = new URL(`${stack.issuer}/authorize`);
  authorize.search = new URLSearchParams({
    response_type: 'code',
    client_id: registration.client_id,
    redirect_uri: REDIRECT_URI,
    code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256',
    state: randomBytes(8).toString('hex'),
    scope,
    resource: stack.mcpUrl,
  }).toString();
  const callback = await playBrowser(authorize, { username, password: username, redirectUri: REDIRECT_URI });
  const token = await fetch(`${stack.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', code: callback.searchParams.get('code')!, code_verifier: verifier, redirect_uri: REDIRECT_URI, client_id: registration.client_id }),
  });
  return ((await token.json()) as { access_token: string }).access_token;
}

export interface EdgeProxy {
  /** The MCP endpoint through the proxy: `http://127.0.0.1:<port>/prod/mcp`. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * A loopback reverse proxy in front of the stack that adds `Authorization: Bearer <token>`, for test
 * tools that cannot sign in (the conformance suite's server scenarios). Like any reverse proxy serving
 * a site, it presents its own authority to the upstream as the upstream's (Host, and an Origin of its
 * own origin); any other Host or Origin passes unchanged, so a foreign one is judged by the stack.
 */
export async function startEdgeProxy(stack: RunningStack, token: string): Promise<EdgeProxy> {
  const upstream = new URL(stack.mcpUrl);
  let ownAuthority = '';
  const server: Server = createServer((incoming, outgoing) => {
    const headers = { ...incoming.headers, authorization: `Bearer ${token}` };
    if (headers.host === ownAuthority) headers.host = upstream.host;
    if (headers.origin === `http://${ownAuthority}`) headers.origin = upstream.origin;
    const forwarded = httpRequest({ host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers }, (response) => {
      outgoing.writeHead(response.statusCode ?? 502, response.headers);
      response.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.writeHead(502).end());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  ownAuthority = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `http://${ownAuthority}${upstream.pathname}`,
    close: () =>
      new Promise<void>((done) => {
        server.closeAllConnections();
        server.close(() => done());
      }),
  };
}
