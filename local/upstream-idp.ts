import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import * as jose from 'jose';
import Provider, { type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js';

/**
 * A real OpenID Connect provider (the certified `oidc-provider`) on 127.0.0.1, standing in for the
 * platform's identity provider: the tests and the local stack sign in against it exactly as a
 * deployment signs in against Cognito, Okta or Entra ID.
 *
 * - Users `alice` (member of `admins`) and `bob` (no groups), with fixed passwords. The `groups` claim
 *   is in the ID token when the relying party asks for the `groups` scope.
 * - Sign-in is a plain HTML form (`/interaction/<uid>`), drivable with HTTP requests and a cookie jar
 *   or by a browser. The upstream's own consent step is skipped for registered clients: the
 *   authorization server is a first-party relying party of the platform IdP, as in production.
 * - `hooks` lets a test make the provider misbehave (slow or tampered token responses) without
 *   mocking it away.
 */

export interface UpstreamUser {
  readonly sub: string;
  readonly password: string;
  readonly name: string;
  readonly email: string;
  readonly groups?: string[];
}

export const UPSTREAM_USERS: Readonly<Record<string, UpstreamUser>> = {
  alice: { sub: 'alice', password: 'alice-password', name: 'Alice Example', email: 'alice@example.test', groups: ['admins'] },
  bob: { sub: 'bob', password: 'bob-password', name: 'Bob Example', email: 'bob@example.test' },
};

export interface UpstreamClient {
  readonly client_id: string;
  /** @default - a public client: PKCE only, no client authentication */
  readonly client_secret?: string;
  readonly redirect_uris: string[];
}

export interface UpstreamHooks {
  /** Delays every token endpoint response by this many milliseconds (ROB-09: a hanging upstream). */
  tokenDelayMs?: number;
  /** Rewrites the token endpoint's JSON response (UPS-05: tampered ID tokens). */
  tokenResponse?: (body: Record<string, unknown>) => Promise<Record<string, unknown>> | Record<string, unknown>;
}

export interface StartUpstreamIdpOptions {
  readonly clients: UpstreamClient[];
  /** @default 0 (any free port) */
  readonly port?: number;
  /** @default UPSTREAM_USERS */
  readonly users?: Readonly<Record<string, UpstreamUser>>;
  /**
   * The claim the users' groups travel in. `cognito:groups` shapes the ID tokens as Amazon Cognito does:
   * no `groups` claim, and the groups in every ID token whatever the scopes.
   * @default 'groups' (in the ID token when the relying party asks for the `groups` scope)
   */
  readonly groupsClaim?: 'groups' | 'cognito:groups';
}

export interface UpstreamIdp {
  /** `http://127.0.0.1:<port>`: byte-identical to the ID tokens' `iss`. */
  readonly issuer: string;
  readonly hooks: UpstreamHooks;
  /** Every request path (without query) the provider received, in order. */
  readonly requests: string[];
  /** Signs an ID token with the provider's own key (or `alg: none` when `alg` is `none`). */
  signIdToken(claims: jose.JWTPayload, options?: { alg?: 'RS256' | 'none'; kid?: string }): Promise<string>;
  stop(): Promise<void>;
}

const SIGNING_KID = 'upstream-test-key';
const LOGIN_STYLE = 'body{font-family:sans-serif;max-width:24rem;margin:3rem auto}label,input,button{display:block;margin:.5rem 0}';

const escapeHtml = (value: string) =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function loginPage(uid: string, clientId: string, failed: boolean): string {
  const action = `/interaction/${encodeURIComponent(uid)}`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Upstream sign-in</title><style>${LOGIN_STYLE}</style></head><body>
<h1>Sign in to the upstream identity provider</h1>
<p>Signing in for <code>${escapeHtml(clientId)}</code></p>
${failed ? '<p role="alert">Wrong username or password.</p>' : ''}
<form method="post" action="${action}/login">
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
<form method="post" action="${action}/abort"><button type="submit">Cancel</button></form>
</body></html>`;
}

async function readForm(request: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export async function startUpstreamIdp(options: StartUpstreamIdpOptions): Promise<UpstreamIdp> {
  const users = options.users ?? UPSTREAM_USERS;
  const groupsClaim = options.groupsClaim ?? 'groups';
  const usersBySub = new Map(Object.values(users).map((user) => [user.sub, user]));
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const privateJwk = { ...(await jose.exportJWK(privateKey)), kid: SIGNING_KID, alg: 'RS256', use: 'sig' };
  const hooks: UpstreamHooks = {};
  const requests: string[] = [];

  // The issuer needs the port, so listen first and attach the provider once it exists.
  let handleProvider: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const sockets = new Set<Socket>();

  const server: Server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    requests.push(path);
    if (path.startsWith('/interaction/')) {
      interaction(request, response, path).catch((error: Error) => {
        response.writeHead(400, { 'Content-Type': 'text/plain' }).end(error.name);
      });
      return;
    }
    handleProvider!(request, response);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const configuration: Configuration = {
    // The provider's own in-memory store, chosen explicitly (state is per test run).
    adapter: createMemoryAdapter(0),
    clients: options.clients.map((client) => ({
      ...client,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: client.client_secret === undefined ? 'none' : 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    })),
    jwks: { keys: [privateJwk as never] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    claims: {
      openid: ['sub', ...(groupsClaim === 'groups' ? [] : [groupsClaim])],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: groupsClaim === 'groups' ? ['groups'] : [],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    // The ID token carries the scope's claims (groups for entitlements), as Cognito's does.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Grant: 3600, Session: 3600 },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const user = usersBySub.get(sub);
      if (!user) return undefined;
      const username = Object.keys(users).find((name) => users[name] === user)!;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          name: user.name,
          preferred_username: username,
          email: user.email,
          ...(user.groups ? { [groupsClaim]: user.groups } : {}),
        }),
      };
    },
    // First-party relying parties are not asked for consent at the upstream.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const existing = ctx.oidc.result?.consent?.grantId || ctx.oidc.session!.grantIdFor(ctx.oidc.client!.clientId);
      if (existing) return ctx.oidc.provider.Grant.find(existing);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid profile email groups');
      await grant.save();
      return grant;
    },
    renderError: (ctx, out) => {
      ctx.type = 'text/plain';
      ctx.body = `upstream error: ${out.error}`;
    },
  };
  const provider = new Provider(issuer, configuration);
  provider.use(async (ctx, next) => {
    if (ctx.path !== '/token') {
      await next();
      return;
    }
    if (hooks.tokenDelayMs) {
      // Hang like a stuck provider, but stop as soon as the caller gives up.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, hooks.tokenDelayMs);
        ctx.res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (ctx.req.socket.destroyed) return;
    }
    await next();
    if (hooks.tokenResponse && ctx.status === 200 && ctx.body && typeof ctx.body === 'object') {
      ctx.body = await hooks.tokenResponse(ctx.body as Record<string, unknown>);
    }
  });
  handleProvider = provider.callback();

  async function interaction(request: IncomingMessage, response: ServerResponse, path: string): Promise<void> {
    const [, , uid, action] = path.split('/');
    const details = await provider.interactionDetails(request, response);
    if (details.uid !== uid) throw new Error('InteractionMismatch');
    if (request.method === 'GET' && action === undefined) {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
      response.end(loginPage(uid, String(details.params.client_id), false));
      return;
    }
    if (request.method === 'POST' && action === 'login') {
      const form = await readForm(request);
      const user = users[form.get('username') ?? ''];
      if (!user || user.password !== form.get('password')) {
        response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' });
        response.end(loginPage(uid, String(details.params.client_id), true));
        return;
      }
      await provider.interactionFinished(request, response, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
      return;
    }
    if (request.method === 'POST' && action === 'abort') {
      // A hostile or careless upstream may put anything in error_description (UPS-04): tests pass it through.
      const form = await readForm(request);
      const result = { error: 'access_denied', error_description: form.get('error_description') ?? 'End-User aborted interaction' };
      await provider.interactionFinished(request, response, result, { mergeWithLastSubmission: false });
      return;
    }
    response.writeHead(404).end();
  }

  return {
    issuer,
    hooks,
    requests,
    async signIdToken(claims, signOptions = {}) {
      if (signOptions.alg === 'none') {
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.`;
      }
      return new jose.SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: signOptions.kid ?? SIGNING_KID }).sign(privateKey);
    },
    async stop() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
