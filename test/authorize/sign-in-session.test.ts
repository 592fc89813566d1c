import * as jose from 'jose';
import { randomBytes } from 'node:crypto';
import { sha256, subjectHash } from '../../lambda/shared/crypto';
import { DEFAULT_SCOPE_MODEL, type ScopeModel } from '../../lib/scopes';
import { auditEventSchema } from '../support/security-probes';
import { ISSUER } from '../support/harness';
import { AuthorizeFixture, authorizationParams, errorResponse, header, locationQuery, type Result, runFlow, setCookies, UserAgent } from '../support/authorize-fixture';

/**
 * One authorization server in front of two MCP servers, A (`/mcp`, the default scope model) and B
 * (`/tools/mcp`, its own model, which also names a scope `mcp:tools`). One upstream sign-in serves
 * both (MRS-10); consent, scopes and audiences stay per server (MRS-08, MRS-09, MRS-02).
 *
 * The clock is the real one here: a session lasts until the upstream ID token's `exp`, which the
 * real provider sets from the real time.
 */

const A = `${ISSUER}/mcp`;
const B = `${ISSUER}/tools/mcp`;
const B_MODEL: ScopeModel = {
  scopes: [
    { name: 'mcp:tools', description: 'Run the build tools', isDefault: true },
    { name: 'tools:deploy', description: 'Deploy a build' },
  ],
  toolScopes: { deploy: ['tools:deploy'] },
  // Another claim than A's `groups`: the session keeps both, and nothing else.
  entitlements: [{ claim: 'email', value: 'bob@example.test', scopes: ['tools:deploy'] }],
};
const SESSION_COOKIE = /^__Host-mcp-session-[A-Za-z0-9_-]{16}$/;

const fixture = new AuthorizeFixture();
/** Every ID token the upstream issued, newest last (to compare the session's expiry with). */
const idTokens: string[] = [];
/** Every token the upstream sent us, to prove none is stored. */
const upstreamTokens: string[] = [];
const ALICE = subjectHash('alice');
const BOB = subjectHash('bob');
const realNow = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  await fixture.start({
    PROTECTED_RESOURCES: JSON.stringify({
      servers: [
        { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 },
        { path: '/tools/mcp', scopeModel: B_MODEL, authorizerCacheTtlSeconds: 0 },
      ],
      challenges: 'authorizer',
    }),
  });
  fixture.idp.hooks.tokenResponse = (body) => {
    idTokens.push(String(body.id_token));
    for (const name of ['access_token', 'id_token', 'refresh_token']) if (typeof body[name] === 'string') upstreamTokens.push(body[name] as string);
    return body;
  };
}, 60_000);
afterAll(() => fixture.stop());
beforeEach(() => {
  fixture.clock.now = realNow();
  fixture.audit.clear();
});
// AUDIT-01: the new events keep the audit line schema (subjects only hashed, no cookie or token member).
afterEach(() => {
  for (const event of fixture.audit.events()) expect(auditEventSchema.safeParse(event).error).toBeUndefined();
});

const sessionCookieOf = (agent: UserAgent) => [...agent.cookies].find(([name]) => SESSION_COOKIE.test(name));
const upstreamRequests = () => fixture.idp.requests.length;
const sessions = async () => (await fixture.items('pending')).filter((item) => String(item.pk).startsWith('session#'));

/** A browser that signed in once, upstream, for A (consent asked, then the upstream sign-in). */
async function signedIn(username = 'alice', handler = fixture.authorizeHandler) {
  const client = await fixture.register();
  const agent = new UserAgent(fixture, handler);
  const before = fixture.idp.requests.filter((path) => path === '/auth').length;
  const flow = await runFlow(agent, authorizationParams(client.clientId, client.redirectUri, { resource: A }).query, username);
  expect(flow.callback.statusCode).toBe(303);
  expect(fixture.idp.requests.filter((path) => path === '/auth').length).toBe(before + 1);
  return { client, agent, flow };
}

async function accessTokenClaims(result: Result, client: { clientId: string; redirectUri: string }, verifier: string, audience: string) {
  const redeemed = await fixture.redeem({ code: locationQuery(result).get('code')!, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId });
  expect(redeemed.status).toBe(200);
  const { payload } = await jose.jwtVerify(redeemed.json.access_token, fixture.backend.kms.publicKeyOf(fixture.backend.keyArn), {
    issuer: ISSUER,
    audience,
    typ: 'at+jwt',
    currentDate: new Date(fixture.clock.now * 1000),
  });
  return { payload, scope: redeemed.json.scope as string };
}

describe('MRS-10 one sign-in for every MCP server', () => {
  test('MRS-10 MRS-08 MRS-02 signed in for A, an authorization for B in the same browser sends nothing upstream, shows B its own consent page, and its code gives a token for B only', async () => {
    const { client, agent, flow } = await signedIn();
    const cookie = setCookies(flow.callback).find((line) => line.startsWith('__Host-mcp-session-'))!;
    expect(cookie).toMatch(/^__Host-mcp-session-[A-Za-z0-9_-]{16}=[A-Za-z0-9_-]{43}; Max-Age=\d+; Path=\/; Secure; HttpOnly; SameSite=Lax$/);
    expect(fixture.audit.named('signin.session_started')).toEqual([expect.objectContaining({ sub_hash: ALICE })]);

    const before = upstreamRequests();
    fixture.audit.clear();
    const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { resource: B, scope: 'mcp:tools' });
    const authorized = await agent.authorize(query);
    expect(header(authorized, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
    expect(fixture.audit.named('consent.required')).toEqual([expect.objectContaining({ reason: 'new_client', sub_hash: ALICE })]);
    expect(fixture.audit.named('signin.session_reused')).toEqual([expect.objectContaining({ sub_hash: ALICE, resource: B })]);
    const consent = await agent.openConsent(authorized);
    expect(consent.page.body).toContain(`MCP server: <code>${B}</code>`);
    expect(consent.page.body).toContain('Signed in as <strong>alice</strong>');
    // MRS-09: B's own meaning of the scope name A uses too.
    expect(consent.page.body).toContain('Run the build tools');
    expect(consent.page.body).not.toContain('Use the tools of this MCP server');

    const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    expect(header(approved, 'location')!.startsWith(`${client.redirectUri}?code=`)).toBe(true);
    expect(upstreamRequests()).toBe(before);
    expect(fixture.audit.named('authorize.code_issued')).toEqual([expect.objectContaining({ sub_hash: ALICE, resource: B, scope: 'mcp:tools' })]);

    // MRS-02: the code is B's; naming A at the token endpoint is refused without spending it.
    const code = locationQuery(approved).get('code')!;
    const foreign = await fixture.redeem({ code, code_verifier: verifier, redirect_uri: client.redirectUri, client_id: client.clientId, resource: A });
    expect(foreign).toEqual({ status: 400, json: expect.objectContaining({ error: 'invalid_target' }) });
    const { payload, scope } = await accessTokenClaims(approved, client, verifier, B);
    expect(payload).toMatchObject({ aud: B, sub: 'alice', scope: 'mcp:tools' });
    expect(scope).toBe('mcp:tools');
  });

  test('MRS-10 with this user\'s remembered consent for B, the next authorization for B is answered at /authorize: a code, no page, nothing upstream', async () => {
    const { client, agent } = await signedIn();
    await runFlowSignedIn(agent, client, B);
    const before = upstreamRequests();
    fixture.audit.clear();
    const { query, verifier } = authorizationParams(client.clientId, client.redirectUri, { resource: B });
    const authorized = await agent.authorize(query);
    expect(header(authorized, 'location')!.startsWith(`${client.redirectUri}?code=`)).toBe(true);
    expect(locationQuery(authorized).get('iss')).toBe(ISSUER);
    expect(upstreamRequests()).toBe(before);
    expect(fixture.audit.named('consent.remembered')).toEqual([expect.objectContaining({ sub_hash: ALICE })]);
    expect((await accessTokenClaims(authorized, client, verifier, B)).payload.aud).toBe(B);
  });

  test('MRS-10 a remembered consent of another user is not this user\'s: asked, signed in as the session\'s user, still nothing upstream', async () => {
    // Alice's browser remembers her consent for A; then the browser holds bob's session.
    const alice = await signedIn('alice');
    const bob = await signedIn('bob');
    const shared = new UserAgent(fixture);
    for (const [name, value] of alice.agent.cookies) if (name.startsWith('__Host-mcp-consent-')) shared.cookies.set(name, value);
    const [sessionName, sessionValue] = sessionCookieOf(bob.agent)!;
    shared.cookies.set(sessionName, sessionValue);
    const before = upstreamRequests();
    fixture.audit.clear();
    const authorized = await shared.authorize(authorizationParams(alice.client.clientId, alice.client.redirectUri, { resource: A }).query);
    expect(header(authorized, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
    expect(fixture.audit.named('consent.required')).toEqual([expect.objectContaining({ reason: 'other_user', sub_hash: BOB })]);
    const consent = await shared.openConsent(authorized);
    expect(consent.page.body).toContain('Signed in as <strong>bob</strong>');
    expect(upstreamRequests()).toBe(before);
    expect(fixture.audit.named('authorize.code_issued')).toEqual([]);
  });

  test('MRS-10 the session record holds the subject, the display name and only the claims the entitlement rules read; no upstream token; the cookie only as its hash, never logged', async () => {
    const { agent } = await signedIn();
    const [, secret] = sessionCookieOf(agent)!;
    const record = (await sessions()).find((item) => item.pk === `session#${sha256(secret)}`)!;
    const idToken = jose.decodeJwt(idTokens[idTokens.length - 1]);
    expect(record).toEqual({
      pk: `session#${sha256(secret)}`,
      sessionHash: sha256(secret),
      sub: 'alice',
      username: 'alice',
      // `groups` for A, `email` for B: not name, preferred_username, nonce, iss, aud, ...
      claims: { groups: ['admins'], email: 'alice@example.test' },
      createdAt: fixture.clock.now,
      // The ID token's exp is earlier than the default maximum of an hour.
      expiresAt: idToken.exp,
      ttl: idToken.exp,
    });
    const stored = JSON.stringify(await fixture.items('pending'));
    expect(stored).not.toContain(secret);
    for (const token of upstreamTokens) expect(stored).not.toContain(token);
    expect(fixture.audit.lines.join('\n')).not.toContain(secret);
  });

  test('MRS-10 MRS-09 the grant for B comes from the stored claims with B\'s model: bob holds B\'s tools:deploy through his email, alice does not and is refused without a page', async () => {
    const bob = await signedIn('bob');
    const deploy = authorizationParams(bob.client.clientId, bob.client.redirectUri, { resource: B, scope: 'mcp:tools tools:deploy' });
    const granted = await runFlowSignedIn(bob.agent, bob.client, B, deploy);
    expect((await accessTokenClaims(granted, bob.client, deploy.verifier, B)).scope).toBe('mcp:tools tools:deploy');

    const alice = await signedIn('alice');
    const page = await alice.agent.openConsent(await alice.agent.authorize(authorizationParams(alice.client.clientId, alice.client.redirectUri, { resource: B, scope: 'mcp:tools tools:deploy' }).query));
    // Only what she will get is shown.
    expect(page.page.body).not.toContain('tools:deploy');

    const before = await fixture.flowState();
    fixture.audit.clear();
    const refused = await alice.agent.authorize(authorizationParams(alice.client.clientId, alice.client.redirectUri, { resource: B, scope: 'tools:deploy' }).query);
    expect(errorResponse(refused, alice.client.redirectUri).get('error')).toBe('access_denied');
    expect(fixture.audit.named('authorize.rejected')).toEqual([expect.objectContaining({ reason: 'scope_not_entitled', sub_hash: ALICE })]);
    // A's mcp:admin is not a scope of B at all.
    const unknown = await alice.agent.authorize(authorizationParams(alice.client.clientId, alice.client.redirectUri, { resource: B, scope: 'mcp:admin' }).query);
    expect(errorResponse(unknown, alice.client.redirectUri).get('error')).toBe('invalid_scope');
    expect(await fixture.flowState()).toBe(before);
  });
});

/** Asks for `resource` in a signed-in browser and approves the consent page; returns the response carrying the code. */
async function runFlowSignedIn(agent: UserAgent, client: { clientId: string; redirectUri: string }, resource: string, params = authorizationParams(client.clientId, client.redirectUri, { resource })) {
  const before = upstreamRequests();
  const consent = await agent.openConsent(await agent.authorize(params.query));
  const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
  expect(header(approved, 'location')!.startsWith(`${client.redirectUri}?code=`)).toBe(true);
  expect(upstreamRequests()).toBe(before);
  return approved;
}

/** The authorization for B in a browser without a (usable) session: the consent page asks without a user, approving goes upstream. */
async function expectUpstreamFor(agent: UserAgent, client: { clientId: string; redirectUri: string }) {
  const authorized = await agent.authorize(authorizationParams(client.clientId, client.redirectUri, { resource: B }).query);
  const consent = await agent.openConsent(authorized);
  expect(consent.page.body).not.toContain('Signed in as');
  const approved = await agent.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
  expect(header(approved, 'location')!.startsWith(`${fixture.idp.issuer}/auth?`)).toBe(true);
  return authorized;
}

describe('MRS-10 when there is no session', () => {
  test('MRS-10 the session ends at the ID token\'s exp: then the upstream is asked again, and the stale cookie is cleared', async () => {
    const { client, agent } = await signedIn();
    const [name] = sessionCookieOf(agent)!;
    const idToken = jose.decodeJwt(idTokens[idTokens.length - 1]);
    fixture.clock.now = idToken.exp!;
    const authorized = await expectUpstreamFor(agent, client);
    expect(setCookies(authorized)).toContain(`${name}=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Lax`);
    expect(fixture.audit.named('signin.session_reused')).toEqual([]);
  });

  test('MRS-10 SIGN_IN_SESSION_TTL_SECONDS caps the session below the ID token\'s lifetime', async () => {
    const capped = fixture.buildAuthorize({ config: { ...fixture.config, lifetimes: { ...fixture.config.lifetimes, signInSession: 60 } } });
    const { client, agent, flow } = await signedIn('alice', capped);
    expect(setCookies(flow.callback).find((line) => line.startsWith('__Host-mcp-session-'))).toContain('; Max-Age=60;');
    const [, secret] = sessionCookieOf(agent)!;
    expect((await sessions()).find((item) => item.pk === `session#${sha256(secret)}`)).toMatchObject({ expiresAt: fixture.clock.now + 60 });
    fixture.clock.advance(60);
    await expectUpstreamFor(agent, client);
  });

  test('MRS-10 an absent, tampered or malformed session cookie is no session: the upstream is asked', async () => {
    const { client, agent } = await signedIn();
    const [name] = sessionCookieOf(agent)!;
    agent.cookies.set(name, randomBytes(32).toString('base64url'));
    await expectUpstreamFor(agent, client);
    agent.cookies.set(name, 'not-a-session');
    await expectUpstreamFor(agent, client);
    agent.cookies.delete(name);
    await expectUpstreamFor(agent, client);
    expect(fixture.audit.named('signin.session_reused')).toEqual([]);
  });

  test('MRS-10 with SIGN_IN_SESSION_TTL_SECONDS=0 no session is kept or read: every authorization signs in upstream', async () => {
    const sessionsBefore = (await sessions()).length;
    const off = fixture.buildAuthorize({ config: { ...fixture.config, lifetimes: { ...fixture.config.lifetimes, signInSession: 0 } } });
    const { client, agent, flow } = await signedIn('alice', off);
    expect(setCookies(flow.callback).filter((line) => line.startsWith('__Host-mcp-session-'))).toEqual([]);
    expect((await sessions()).length).toBe(sessionsBefore);
    await expectUpstreamFor(agent, client);
    // A session started while they were on is not honoured once sessions are off.
    const live = await signedIn();
    const switched = new UserAgent(fixture, off);
    for (const [name, value] of live.agent.cookies) switched.cookies.set(name, value);
    await expectUpstreamFor(switched, live.client);
  });

  test('MRS-08 without a session too, a remembered consent for A never covers B: B\'s consent page comes before anything goes upstream', async () => {
    const off = fixture.buildAuthorize({ config: { ...fixture.config, lifetimes: { ...fixture.config.lifetimes, signInSession: 0 } } });
    const { client, agent } = await signedIn('alice', off);
    // A is remembered: straight to the upstream.
    const again = await agent.authorize(authorizationParams(client.clientId, client.redirectUri, { resource: A }).query);
    expect(header(again, 'location')!.startsWith(`${fixture.idp.issuer}/auth?`)).toBe(true);
    const before = upstreamRequests();
    const forB = await agent.authorize(authorizationParams(client.clientId, client.redirectUri, { resource: B }).query);
    expect(header(forB, 'location')!.startsWith(`${ISSUER}/consent?`)).toBe(true);
    const consent = await agent.openConsent(forB);
    expect(consent.page.body).toContain(`MCP server: <code>${B}</code>`);
    expect(upstreamRequests()).toBe(before);
  });
});
