import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { buildAuthorizeHandler, type AuthorizeHandlerDeps } from '../../lambda/authorize/handler';
import { OidcUpstream } from '../../lambda/authorize/upstream';
import type { AuthorizationServerFunction } from '../../lib/functions';
import type { FunctionConfig } from './loaders';
import { buildRegisterHandler } from '../../lambda/register/handler';
import { buildTokenHandler } from '../../lambda/token/handler';
import { s256Challenge } from '../../lambda/shared/pkce';
import { randomBytes } from 'node:crypto';
import { AuditCapture, Backend, formEvent, ISSUER, lambdaContext, proxyEvent, TestClock } from './harness';
import { startUpstreamIdp, UPSTREAM_USERS, type StartUpstreamIdpOptions, type UpstreamIdp } from '../../local/upstream-idp';

/**
 * The authorize flow as deployed, on this machine: our handlers on dynalite and the local KMS, and a
 * real OpenID Connect provider (oidc-provider) as the upstream, reached over HTTP by oauth4webapi.
 */

export const UPSTREAM_CLIENT_ID = 'mcp-authorization-server';
export const UPSTREAM_CLIENT_SECRET = 'upstream-client-secret-for-tests';
export const CALLBACK_URL = `${ISSUER}/callback`;
export const ISSUER_ORIGIN = new URL(ISSUER).origin;

export type Result = APIGatewayProxyResult;

export class AuthorizeFixture {
  readonly backend = new Backend();
  readonly clock = new TestClock();
  readonly audit = new AuditCapture();
  idp!: UpstreamIdp;
  /** The environment every handler's configuration is taken from (each gets its own variables of it). */
  environment!: Record<string, string>;
  config!: FunctionConfig<'authorize'>;
  /** Every store over the backend's tables. */
  stores!: ReturnType<Backend['stores']>;
  authorizeHandler!: ReturnType<typeof buildAuthorizeHandler>;
  tokenHandler!: ReturnType<typeof buildTokenHandler>;
  registerHandler!: ReturnType<typeof buildRegisterHandler>;

  async start(env: Record<string, string> = {}, upstream: Omit<StartUpstreamIdpOptions, 'clients'> = {}) {
    await this.backend.start();
    this.idp = await startUpstreamIdp({
      clients: [{ client_id: UPSTREAM_CLIENT_ID, client_secret: UPSTREAM_CLIENT_SECRET, redirect_uris: [CALLBACK_URL] }],
      ...upstream,
    });
    this.environment = {
      UPSTREAM_ISSUER: this.idp.issuer,
      UPSTREAM_CLIENT_ID: UPSTREAM_CLIENT_ID,
      // `groups` puts the group claim the default scope model's entitlements read into the ID token.
      UPSTREAM_SCOPES: 'openid profile email groups',
      CIMD_ENABLED: 'false',
      ...env,
    };
    this.config = this.configOf('authorize');
    this.stores = this.backend.stores();
    this.authorizeHandler = this.buildAuthorize();
    const common = { stores: this.backend.stores(), clock: this.clock.fn, sink: this.audit.sink };
    this.tokenHandler = buildTokenHandler({ ...common, config: this.configOf('token'), signer: this.backend.signer(), jwks: this.backend.jwks(), machineSecret: this.backend.machine.machineSecret });
    this.registerHandler = buildRegisterHandler({ ...common, config: this.configOf('register') });
    return this;
  }

  /** Function `name`'s configuration from this fixture's environment. */
  configOf<F extends AuthorizationServerFunction>(name: F): FunctionConfig<F> {
    return this.backend.config(name, this.environment);
  }

  async stop() {
    await this.idp?.stop();
    await this.backend.stop();
  }

  /** An authorize handler with the real upstream client; tests may swap parts (timeout, CIMD). */
  buildAuthorize(overrides: Partial<AuthorizeHandlerDeps> & { upstreamTimeoutMs?: number } = {}) {
    const upstreamConfig = { ...this.config.upstream, timeoutMs: overrides.upstreamTimeoutMs ?? this.config.upstream.timeoutMs };
    const upstream = new OidcUpstream({ config: upstreamConfig, redirectUri: CALLBACK_URL, secret: async () => UPSTREAM_CLIENT_SECRET });
    return buildAuthorizeHandler({
      config: this.config,
      stores: this.backend.stores(),
      upstream,
      clock: this.clock.fn,
      sink: this.audit.sink,
      ...overrides,
    });
  }

  /** Registers a client through POST /register, as MCP clients do. */
  async register(metadata: Record<string, unknown> = {}): Promise<{ clientId: string; redirectUri: string }> {
    const body = {
      client_name: 'Example MCP client',
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      ...metadata,
    };
    const result = await this.registerHandler(
      proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      lambdaContext,
    );
    if (result.statusCode !== 201) throw new Error(`registration failed: ${result.body}`);
    const registered = JSON.parse(result.body);
    return { clientId: registered.client_id, redirectUri: registered.redirect_uris[0] };
  }

  async redeem(params: Record<string, string>) {
    const result = await this.tokenHandler(formEvent('/token', { grant_type: 'authorization_code', ...params }), lambdaContext);
    return { status: result.statusCode, json: JSON.parse(result.body) };
  }

  /** Every item of a table (tests only: handlers never scan). */
  async items(table: 'pending' | 'consents' | 'codes' | 'clients'): Promise<Array<Record<string, unknown>>> {
    const output = await this.backend.db.send(new ScanCommand({ TableName: this.backend.tables[table] }));
    return (output.Items ?? []).map((item) => unmarshall(item));
  }

  /** A snapshot of the flow tables, to prove a refused request wrote nothing (∅). */
  async flowState(): Promise<string> {
    const [pending, consents, codes] = await Promise.all([this.items('pending'), this.items('consents'), this.items('codes')]);
    // PKCE-10 counters are bookkeeping of accepted requests, not flow state.
    const flow = pending.filter((item) => !String(item.pk).startsWith('pkce#'));
    return JSON.stringify({ flow: flow.map((i) => i.pk).sort(), consents: consents.map((i) => i.pk).sort(), codes: codes.map((i) => i.pk).sort() });
  }
}

export function newVerifier() {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier) };
}

/** The authorization request an MCP client sends (override or drop any parameter). */
export function authorizationParams(clientId: string, redirectUri: string, overrides: Record<string, string | undefined> = {}) {
  const { challenge, verifier } = newVerifier();
  const params: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'client-state-123',
    scope: 'mcp:tools',
    resource: `${ISSUER}/mcp`,
    ...overrides,
  };
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query[key] = value;
  return { query, verifier };
}

export const header = (result: Result, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  const found = Object.entries(result.headers ?? {}).find(([key]) => key.toLowerCase() === wanted);
  return found === undefined ? undefined : String(found[1]);
};

export const setCookies = (result: Result): string[] =>
  Object.entries(result.multiValueHeaders ?? {})
    .filter(([key]) => key.toLowerCase() === 'set-cookie')
    .flatMap(([, values]) => values.map(String));

/** The query of a redirect's Location, as a list of [name, value] pairs (so repeats are visible). */
/**
 * The return link of an authorization-error interstitial (REV-03), unescaped as a browser follows it;
 * undefined when the page has none.
 */
export function returnLink(result: Result): string | undefined {
  const match = /<a href="([^"]+)"/.exec(result.body ?? '');
  if (!match) return undefined;
  return match[1].replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/**
 * An authorization error answered as it must be (AS-7, REV-03): a 400 HTML page, never a redirect, whose
 * link goes to the client's redirect URI with the error and `iss`. Returns the link's parameters.
 */
export function errorResponse(result: Result, redirectUri: string): URLSearchParams {
  expect(result.statusCode).toBe(400);
  expect(header(result, 'location')).toBeUndefined();
  expect(header(result, 'content-type')).toBe('text/html; charset=utf-8');
  const link = returnLink(result);
  expect(link?.startsWith(`${redirectUri}?`)).toBe(true);
  return new URL(link!).searchParams;
}

export function locationQuery(result: Result): URLSearchParams {
  const location = header(result, 'location');
  if (!location) throw new Error(`no Location (status ${result.statusCode}): ${result.body.slice(0, 200)}`);
  return new URL(location).searchParams;
}

/**
 * A browser for the flow: one cookie jar for our handlers (invoked as API Gateway would) and one for
 * the upstream provider (real HTTP). Only what tests need: names and values, Max-Age=0 deletes.
 */
export class UserAgent {
  readonly cookies = new Map<string, string>();
  private readonly upstreamCookies = new Map<string, string>();

  private readonly handler: AuthorizeFixture['authorizeHandler'];

  constructor(fixture: AuthorizeFixture, handler = fixture.authorizeHandler) {
    this.handler = handler;
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  absorb(result: Result): void {
    for (const cookie of setCookies(result)) {
      const [pair] = cookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (/Max-Age=0(;|$)/.test(cookie) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** A GET of one of our URLs (absolute, under the issuer). */
  async get(url: string, headers: Record<string, string> = {}): Promise<Result> {
    const parsed = new URL(url);
    const path = parsed.pathname.slice(new URL(ISSUER).pathname.length);
    const multiQuery: Record<string, string[]> = {};
    for (const [key, value] of parsed.searchParams) (multiQuery[key] ??= []).push(value);
    return this.send(
      proxyEvent({
        method: 'GET',
        path,
        headers: { ...(this.cookies.size ? { cookie: this.cookieHeader() } : {}), ...headers },
        multiQuery: Object.keys(multiQuery).length ? multiQuery : undefined,
      }),
    );
  }

  async authorize(query: Record<string, string>, headers: Record<string, string> = {}): Promise<Result> {
    return this.get(`${ISSUER}/authorize?${new URLSearchParams(query)}`, headers);
  }

  async postConsent(fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Result> {
    const cookie = this.cookies.size ? { cookie: this.cookieHeader() } : {};
    // An empty value drops the header (e.g. a request without Origin).
    const sent = Object.fromEntries(Object.entries({ origin: ISSUER_ORIGIN, ...cookie, ...headers }).filter(([, value]) => value !== ''));
    return this.send(formEvent('/consent', fields, sent));
  }

  private async send(event: ReturnType<typeof proxyEvent>): Promise<Result> {
    const result = await this.handler(event, lambdaContext);
    this.absorb(result);
    return result;
  }

  /** Follows the /authorize redirect to the consent page and reads the form. */
  async openConsent(authorizeResult: Result): Promise<{ page: Result; request: string; csrf: string }> {
    expect(authorizeResult.statusCode).toBe(303);
    const page = await this.get(header(authorizeResult, 'location')!);
    expect(page.statusCode).toBe(200);
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]+)"`).exec(page.body)?.[1];
    return { page, request: field('request')!, csrf: field('csrf')! };
  }

  /** Signs in at the upstream provider from its authorization URL; returns the callback URL it sends back. */
  async signIn(authorizationUrl: string, username: keyof typeof UPSTREAM_USERS | string = 'alice', password?: string): Promise<string> {
    let url = authorizationUrl;
    for (let hops = 0; hops < 10; hops++) {
      if (url.startsWith(CALLBACK_URL)) return url;
      const response = await this.upstreamFetch(url);
      if (response.status === 200) {
        const action = /action="([^"]+\/login)"/.exec(await response.text())?.[1];
        if (!action) throw new Error('no login form at the upstream');
        const user = UPSTREAM_USERS[username];
        const body = new URLSearchParams({ username, password: password ?? user?.password ?? 'wrong' });
        const login = await this.upstreamFetch(new URL(action, url).href, body);
        url = new URL(login.headers.get('location')!, url).href;
        continue;
      }
      const location = response.headers.get('location');
      if (!location) throw new Error(`upstream answered ${response.status} without Location`);
      url = new URL(location, url).href;
    }
    throw new Error('too many upstream redirects');
  }

  /** Cancels at the upstream's sign-in page with an error_description the upstream passes through (UPS-04). */
  async cancelSignIn(authorizationUrl: string, errorDescription: string): Promise<string> {
    const interaction = await this.upstreamFetch(authorizationUrl);
    const page = await this.upstreamFetch(new URL(interaction.headers.get('location')!, authorizationUrl).href);
    const action = /action="([^"]+\/abort)"/.exec(await page.text())![1];
    const aborted = await this.upstreamFetch(new URL(action, authorizationUrl).href, new URLSearchParams({ error_description: errorDescription }));
    let url = new URL(aborted.headers.get('location')!, authorizationUrl).href;
    while (!url.startsWith(CALLBACK_URL)) {
      const next = await this.upstreamFetch(url);
      url = new URL(next.headers.get('location')!, url).href;
    }
    return url;
  }

  /** Forgets the upstream session (as if the user signed out there). */
  forgetUpstreamSession(): void {
    this.upstreamCookies.clear();
  }

  private async upstreamFetch(url: string, form?: URLSearchParams): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.upstreamCookies.size) headers.cookie = [...this.upstreamCookies].map(([n, v]) => `${n}=${v}`).join('; ');
    if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const response = await fetch(url, { method: form ? 'POST' : 'GET', body: form?.toString(), headers, redirect: 'manual' });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const name = pair.slice(0, pair.indexOf('='));
      const value = pair.slice(pair.indexOf('=') + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(cookie)) this.upstreamCookies.delete(name);
      else this.upstreamCookies.set(name, value);
    }
    return response;
  }
}

/**
 * The whole happy path for one authorization: /authorize → consent page → approve → upstream sign-in
 * → /callback. Returns every intermediate response for assertions.
 */
export async function runFlow(agent: UserAgent, query: Record<string, string>, username = 'alice') {
  const authorized = await agent.authorize(query);
  const consent = await agent.openConsent(authorized);
  const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
  expect(approved.statusCode).toBe(303);
  const callbackUrl = await agent.signIn(header(approved, 'location')!, username);
  const callback = await agent.get(callbackUrl);
  return { authorized, consent, approved, callbackUrl, callback };
}
