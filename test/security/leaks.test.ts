import { randomBytes } from 'node:crypto';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult, Context } from 'aws-lambda';
import { accessLogFormat } from '../../lib/private/rest-api';
import { DEFAULT_SCOPE_MODEL } from '../../lib/scopes';
import { loadAuthorizerRoutes } from '../../lambda/authorizer/config';
import { createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { keysFromJwks, pinKeys } from '../../lambda/shared/verification-keys';
import { ALLOW_CONTEXT, DENY_CONTEXT } from '../../lambda/runtime/caller';
import { withMcpGuard } from '../../lambda/runtime/middleware';
import { s256Challenge } from '../../lambda/shared/pkce';
import { AuthorizeFixture, authorizationParams, header, locationQuery, setCookies, UPSTREAM_CLIENT_SECRET, UserAgent } from '../support/authorize-fixture';
import { REDIRECT } from '../support/token-fixtures';
import { basicAuth, formEvent, ISSUER, lambdaContext, proxyEvent } from '../support/harness';
import { findCanaries, scanAll } from '../support/security-probes';

/**
 * AUDIT-02 (and UPS-06, CODE-09, RS-9): representative flows with canary values, then a search of
 * every audit line, every console or stdout/stderr line, every response other than the one that
 * legitimately delivers a value, and every attribute of all five tables. Secrets we choose carry a
 * `canary` marker; secrets the server or the upstream generates are captured as they appear.
 */

const fixture = new AuthorizeFixture();
const upstreamTokens: string[] = [];
/** Every response of our handlers, labelled with the step that produced it. */
const responses: Array<{ step: string; result: unknown }> = [];
const logLines: string[] = [];
const authorizerLines: string[] = [];

const canaryOf = (label: string) => `canary-${label}-${randomBytes(24).toString('base64url')}`;

beforeAll(async () => {
  await fixture.start();
  fixture.idp.hooks.tokenResponse = (body) => {
    for (const name of ['access_token', 'id_token', 'refresh_token']) if (typeof body[name] === 'string') upstreamTokens.push(body[name] as string);
    return body;
  };
}, 60_000);
afterAll(() => fixture.stop());

function capture(step: string, result: unknown) {
  responses.push({ step, result });
  return result;
}

/** Every console and process output line while `run` executes (a stray log statement would land here). */
async function capturingOutput(run: () => Promise<void>) {
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => void logLines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '))),
  );
  const writes = [process.stdout, process.stderr].map((stream) => {
    const original = stream.write.bind(stream);
    const spy = jest.spyOn(stream, 'write').mockImplementation(((chunk: unknown, ...rest: unknown[]) => {
      logLines.push(String(chunk));
      return original(chunk as string, ...(rest as []));
    }) as typeof stream.write);
    return spy;
  });
  try {
    await run();
  } finally {
    [...spies, ...writes].forEach((spy) => spy.mockRestore());
  }
}

test('AUDIT-02 UPS-06 no canary (secret, verifier, code, tokens, Authorization, cookies, CSRF, upstream values) in any log line, foreign response or table', async () => {
  /** Canary value → the steps whose responses legitimately carry it. */
  const canaries = new Map<string, { value: string; deliveredBy: string[] }>();
  const track = (name: string, value: string | undefined, ...deliveredBy: string[]) => {
    expect([name, typeof value]).toEqual([name, 'string']);
    canaries.set(name, { value: value!, deliveredBy });
  };
  const authorizeRecorder = (async (event: unknown, context: Context) => capture('authorize', await fixture.authorizeHandler(event as never, context))) as unknown as typeof fixture.authorizeHandler;
  const token = async (step: string, params: Record<string, string>, headers: Record<string, string> = {}) => {
    const result = capture(step, await fixture.tokenHandler(formEvent(step.split(':')[0], params, headers), lambdaContext)) as APIGatewayProxyResult;
    return JSON.parse(result.body || '{}');
  };

  await capturingOutput(async () => {
    // 1. A confidential client registers (RFC 7591) and reads its configuration (RFC 7592).
    const registered = JSON.parse(
      (capture(
        'register',
        await fixture.registerHandler(
          proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:tools offline_access' }) }),
          lambdaContext,
        ),
      ) as APIGatewayProxyResult).body,
    );
    track('client secret', registered.client_secret, 'register');
    track('registration access token', registered.registration_access_token, 'register');
    const clientId: string = registered.client_id;
    const configuration = (token: string) =>
      proxyEvent({ method: 'GET', path: `/register/${clientId}`, resource: '/register/{client_id}', pathParameters: { client_id: clientId }, headers: { authorization: `Bearer ${token}` } });
    capture('register-read', await fixture.registerHandler(configuration(registered.registration_access_token), lambdaContext));
    const wrongRegistrationToken = canaryOf('rat').replace(/-/g, '_');
    track('wrong registration access token', wrongRegistrationToken);
    capture('register-read-wrong', await fixture.registerHandler(configuration(wrongRegistrationToken), lambdaContext));

    // 2. The browser flow with a verifier we chose, through consent and the real upstream sign-in.
    const verifier = canaryOf('verifier');
    track('code verifier', verifier);
    const browser = new UserAgent(fixture, authorizeRecorder);
    const { query } = authorizationParams(clientId, REDIRECT, { code_challenge: s256Challenge(verifier), scope: 'mcp:tools offline_access' });
    const consent = await browser.openConsent(await browser.authorize(query));
    track('consent CSRF token', consent.csrf, 'authorize');
    const flowCookie = [...browser.cookies].find(([name]) => name.startsWith('__Host-mcp-authz-'))?.[1];
    track('flow cookie', flowCookie, 'authorize');
    const forgedCsrf = canaryOf('csrf');
    track('forged CSRF token', forgedCsrf);
    await browser.postConsent({ request: consent.request, csrf: forgedCsrf, decision: 'approve' });
    const approved = await browser.postConsent({ request: consent.request, csrf: consent.csrf, decision: 'approve' });
    const upstreamUrl = header(approved, 'location')!;
    track('upstream state', new URL(upstreamUrl).searchParams.get('state')!, 'authorize');
    track('sign-in cookie', [...browser.cookies].find(([name]) => name.startsWith('__Host-mcp-signin-'))?.[1], 'authorize');
    const callbackUrl = await browser.signIn(upstreamUrl);
    track('upstream code', new URL(callbackUrl).searchParams.get('code')!);
    await new UserAgent(fixture, authorizeRecorder).get(callbackUrl); // another browser: refused, state kept
    const callback = await browser.get(callbackUrl);
    const code = locationQuery(callback).get('code')!;
    track('authorization code', code, 'authorize');
    track('consent cookie', setCookies(callback).map((c) => /^__Host-mcp-consent-[^=]+=([^;]+)/.exec(c)?.[1]).find(Boolean), 'authorize');
    track('upstream client secret', UPSTREAM_CLIENT_SECRET);
    expect(upstreamTokens.length).toBeGreaterThanOrEqual(2);
    upstreamTokens.forEach((value, i) => track(`upstream token ${i}`, value.split('.')[2] || value));

    // 3. The token endpoint: failures first (a wrong secret, a wrong verifier), then the exchange.
    const basic = basicAuth(clientId, registered.client_secret);
    track('Authorization header', basic.slice('Basic '.length));
    const wrongSecret = canaryOf('secret');
    track('wrong client secret', wrongSecret);
    await token('/token:wrong-secret', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { authorization: basicAuth(clientId, wrongSecret) });
    const wrongVerifier = canaryOf('wrong-verifier');
    track('wrong verifier', wrongVerifier);
    await token('/token:wrong-verifier', { grant_type: 'authorization_code', code, code_verifier: wrongVerifier, redirect_uri: REDIRECT }, { authorization: basic });
    const issued = await token('/token:exchange', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { authorization: basic });
    track('access token', issued.access_token, '/token:exchange');
    track('access token signature', issued.access_token.split('.')[2], '/token:exchange');
    track('refresh token', issued.refresh_token, '/token:exchange');
    track('refresh token secret', issued.refresh_token.split('.')[1], '/token:exchange');

    // 4. Refresh, introspection, a forged refresh token, reuse of the old one, and a replayed code.
    const refreshed = await token('/token:refresh', { grant_type: 'refresh_token', refresh_token: issued.refresh_token }, { authorization: basic });
    track('rotated refresh token secret', refreshed.refresh_token.split('.')[1], '/token:refresh');
    track('refreshed access token signature', refreshed.access_token.split('.')[2], '/token:refresh');
    await token('/introspect:access', { token: refreshed.access_token }, { authorization: basic });
    await token('/introspect:refresh', { token: refreshed.refresh_token }, { authorization: basic });
    const forgedRefresh = `${issued.refresh_token.split('.')[0]}.${randomBytes(32).toString('base64url')}`;
    track('forged refresh token secret', forgedRefresh.split('.')[1]);
    await token('/token:forged-refresh', { grant_type: 'refresh_token', refresh_token: forgedRefresh }, { authorization: basic });

    // 5. The edge: the authorizer allows, denies for scope, refuses a canary bearer; the guard strips the token.
    const keys = pinKeys('RS256', keysFromJwks(await fixture.backend.jwks().jwks(), 'RS256'));
    const authorizer = createAuthorizerHandler({ config: loadAuthorizerRoutes({ ISSUER }), keys: () => keys, clock: fixture.clock.fn, auditSink: (line) => authorizerLines.push(line) });
    const edge = async (step: string, headers: Record<string, string>) => {
      const event = { type: 'REQUEST', methodArn: 'arn:aws:execute-api:us-east-1:1:api/prod/POST/mcp', resource: '/mcp', headers, multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])), requestContext: { requestId: step, identity: { sourceIp: '198.51.100.7' } } };
      try {
        return capture(step, await authorizer(event as never)) as APIGatewayAuthorizerResult;
      } catch (error) {
        capture(step, { thrown: (error as Error).message });
        return undefined;
      }
    };
    const allowed = await edge('authorizer-allow', { Authorization: `Bearer ${refreshed.access_token}` });
    expect(allowed?.policyDocument.Statement[0].Effect).toBe('Allow');
    await edge('authorizer-scope', { Authorization: `Bearer ${refreshed.access_token}`, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'admin_stats' });
    const bogusBearer = canaryOf('bearer');
    track('bogus bearer token', bogusBearer);
    await edge('authorizer-bogus', { Authorization: `Bearer ${bogusBearer}` });
    await edge('authorizer-tampered', { Authorization: `Bearer ${refreshed.access_token.slice(0, -4)}AAAA` });
    const seenByTool: string[] = [];
    const guarded = withMcpGuard(
      async (event) => {
        seenByTool.push(JSON.stringify(event));
        return { statusCode: 200, headers: { 'Content-Type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"result":{}}' };
      },
      { resourceMetadataUrl: `${ISSUER}/.well-known/oauth-protected-resource/mcp`, scopeModel: DEFAULT_SCOPE_MODEL, clock: fixture.clock.fn },
    );
    const mcpEvent = proxyEvent({ method: 'POST', path: '/mcp', headers: { authorization: `Bearer ${refreshed.access_token}`, 'content-type': 'application/json' }, body: '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo"}}' });
    mcpEvent.requestContext.authorizer = allowed!.context as never;
    capture('guard', await guarded(mcpEvent, lambdaContext));
    expect(seenByTool).toHaveLength(1);
    logLines.push(...seenByTool); // what the tool could log: never the token (RS-9)

    // 6. Revocation, then reuse of the superseded refresh token and a replay of the code.
    await token('/revoke', { token: refreshed.refresh_token }, { authorization: basic });
    await token('/token:reuse', { grant_type: 'refresh_token', refresh_token: issued.refresh_token }, { authorization: basic });
    await token('/token:replay', { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT }, { authorization: basic });
  });

  const tables = await scanAll(fixture.backend);
  const auditLines = [...fixture.audit.lines, ...authorizerLines];
  expect(auditLines.length).toBeGreaterThan(15);
  const findings: string[] = [];
  for (const [name, { value, deliveredBy }] of canaries) {
    const haystacks: Record<string, string> = {
      'an audit line': auditLines.join('\n'),
      'a console or stdout/stderr line': logLines.join('\n'),
      ...Object.fromEntries(Object.entries(tables).map(([table, items]) => [`the ${table} table`, JSON.stringify(items)])),
    };
    responses.forEach(({ step, result }, index) => {
      if (!deliveredBy.includes(step)) haystacks[`response ${index} (${step})`] = JSON.stringify(result);
    });
    findings.push(...findCanaries(haystacks, { [name]: value }));
  }
  expect(findings).toEqual([]);
  // The search covered what it claims: every table was scanned and tokens were really stored (as hashes).
  expect(tables.grants.length).toBeGreaterThan(0);
  expect(responses.length).toBeGreaterThan(20);
});

test('AUDIT-02 the API Gateway access log records only request metadata and the authorizer context: no header, query, body or token', () => {
  const format = accessLogFormat().toString();
  const variables = [...format.matchAll(/\$([A-Za-z0-9_.]+)/g)].map((match) => match[1]);
  expect(variables.length).toBeGreaterThan(10);
  for (const variable of variables) {
    expect([variable, /^(input|method|util|stageVariables)\b/.test(variable)]).toEqual([variable, false]);
    expect([variable, /header|querystring|body|token|apiKey|requestOverride|responseOverride/i.test(variable)]).toEqual([variable, false]);
    expect([variable, variable.startsWith('context.')]).toEqual([variable, true]);
  }
  // The authorizer context keys it logs are API Gateway's own or keys the authorizer fills with
  // identifiers (the first test searched their values for every canary).
  const contextKeys = new Set<string>(['status', 'latency', 'principalId', ...Object.values(ALLOW_CONTEXT), ...Object.values(DENY_CONTEXT)]);
  for (const key of variables.filter((v) => v.startsWith('context.authorizer.')).map((v) => v.slice('context.authorizer.'.length))) {
    expect([key, contextKeys.has(key)]).toEqual([key, true]);
  }
});
