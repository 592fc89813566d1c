import { usernameOf } from '../../lambda/authorize/routes/callback';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { consentCookieName, readCookie, sessionCookieName, setCookie } from '../../lambda/authorize/cookies';
import { entitlementClaimNames } from '../../lambda/authorize/session';
import { displayName, escapeHtml } from '../../lambda/authorize/pages';
import { responseLocation } from '../../lambda/authorize/responses';
import { grantedScope, scopesToAsk } from '../../lambda/authorize/scopes';
import { secretsManagerSecret } from '../../lambda/shared/secrets';
import { loadAuthorizeConfig } from '../../lambda/authorize/config';
import { environmentOf } from '../../lib/environment-reader';
import { resourceServersFrom } from '../../lambda/shared/resource-servers';
import { DEFAULT_SCOPE_MODEL, type ScopeModel } from '../../lib/scopes';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { proxyEvent } from '../support/harness';

/** The authorize flow's plain functions, each on its own. */

describe('scopes to ask and to grant', () => {
  test('AZR-15 requested scopes are sorted and deduplicated; none requested means the defaults', () => {
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, ' mcp:tools  mcp:admin mcp:tools')).toEqual({ ok: true, scope: 'mcp:admin mcp:tools' });
  });

  test('unknown scopes and grammar violations are refused; no access scope means the defaults', () => {
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, 'mcp:tools bogus')).toEqual({ ok: false, reason: 'unknown_scope' });
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, 'a"b')).toEqual({ ok: false, reason: 'scope_grammar' });
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, 'mcp:tools '.repeat(200))).toEqual({ ok: false, reason: 'scope_grammar' });
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, 'mcp:admin mcp:tools offline_access')).toEqual({ ok: true, scope: 'mcp:admin mcp:tools offline_access' });
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, 'offline_access')).toEqual({ ok: true, scope: 'mcp:tools offline_access' });
    expect(scopesToAsk(DEFAULT_SCOPE_MODEL, undefined)).toEqual({ ok: true, scope: 'mcp:tools' });
  });

  test('entitlements from upstream claims decide restricted scopes, e.g. Cognito groups', () => {
    const cognito: ScopeModel = { ...DEFAULT_SCOPE_MODEL, entitlements: [{ claim: 'cognito:groups', value: 'admins', scopes: ['mcp:admin'] }] };
    expect(grantedScope(cognito, 'mcp:admin mcp:tools offline_access', { 'cognito:groups': ['admins', 'staff'] })).toBe('mcp:admin mcp:tools offline_access');
    expect(grantedScope(cognito, 'mcp:admin mcp:tools', { 'cognito:groups': ['staff'] })).toBe('mcp:tools');
    expect(grantedScope(cognito, 'mcp:admin mcp:tools', { groups: ['admins'] })).toBe('mcp:tools');
    expect(grantedScope(cognito, 'mcp:admin offline_access', {})).toBeUndefined();
  });
});

describe('cookies', () => {
  const withCookies = (...headers: string[]) => proxyEvent({ method: 'GET', path: '/consent', multiValueHeaders: { Cookie: headers } });
  const value = 'A'.repeat(43);

  test('AS-20 cookies are set with the __Host- attributes', () => {
    expect(setCookie('__Host-x', value, 600)).toBe(`__Host-x=${value}; Max-Age=600; Path=/; Secure; HttpOnly; SameSite=Lax`);
    expect(consentCookieName('https://mcp.example.com', 'client-a', 'https://mcp.example.com/mcp')).not.toBe(consentCookieName('https://mcp.example.com', 'client-b', 'https://mcp.example.com/mcp'));
  });

  test('REV-14 two instances on one host (base paths) keep separate consent cookies for the same metadata-document client', () => {
    const client = 'https://app.example/oauth/client.json';
    const first = consentCookieName('https://mcp.example.com/team-a', client, 'https://mcp.example.com/team-a/mcp');
    const second = consentCookieName('https://mcp.example.com/team-b', client, 'https://mcp.example.com/team-b/mcp');
    expect(first).not.toBe(second);
    for (const name of [first, second]) expect(name).toMatch(/^__Host-mcp-consent-[A-Za-z0-9_-]{16}$/);
  });

  test('MRS-08 one client keeps a separate consent cookie per MCP server of one issuer', () => {
    const issuer = 'https://mcp.example.com';
    expect(consentCookieName(issuer, 'client-a', `${issuer}/mcp`)).not.toBe(consentCookieName(issuer, 'client-a', `${issuer}/tools/mcp`));
  });

  test('MRS-10 REV-14 one session cookie per instance and upstream provider: another instance on the host, or a replaced provider, never reads it', () => {
    const name = sessionCookieName('https://mcp.example.com/team-a', 'https://idp.example.com');
    expect(name).toMatch(/^__Host-mcp-session-[A-Za-z0-9_-]{16}$/);
    expect(sessionCookieName('https://mcp.example.com/team-b', 'https://idp.example.com')).not.toBe(name);
    expect(sessionCookieName('https://mcp.example.com/team-a', 'https://other-idp.example.com')).not.toBe(name);
  });

  test('MRS-10 a session keeps the claims the entitlement rules of every server read, and no other', () => {
    const model = (claim: string): ScopeModel => ({ ...DEFAULT_SCOPE_MODEL, entitlements: [{ claim, value: 'x', scopes: ['mcp:admin'] }] });
    const servers = resourceServersFrom(
      environmentOf('authorize', {
        PROTECTED_RESOURCES: JSON.stringify({
          servers: [
            { path: '/mcp', scopeModel: model('groups'), authorizerCacheTtlSeconds: 0 },
            { path: '/b/mcp', scopeModel: model('cognito:groups'), authorizerCacheTtlSeconds: 0 },
            { path: '/c/mcp', scopeModel: { ...DEFAULT_SCOPE_MODEL, entitlements: [] }, authorizerCacheTtlSeconds: 0 },
          ],
          challenges: 'authorizer',
        }),
      }),
      'https://mcp.example.com',
    );
    expect([...entitlementClaimNames(servers)].sort()).toEqual(['cognito:groups', 'groups']);
  });

  test('CONS-06 only one well-formed value counts: repeated, malformed or absent cookies read as absent', () => {
    expect(readCookie(withCookies(`a=1; __Host-x=${value}`), '__Host-x')).toBe(value);
    expect(readCookie(withCookies(`__Host-x=${value}`, `__Host-x=${'B'.repeat(43)}`), '__Host-x')).toBeUndefined();
    expect(readCookie(withCookies(`__Host-x=${value.slice(1)}`), '__Host-x')).toBeUndefined();
    expect(readCookie(withCookies(`__Host-x=${value.slice(1)}%`), '__Host-x')).toBeUndefined();
    expect(readCookie(withCookies(`x__Host-x=${value}`), '__Host-x')).toBeUndefined();
  });
});

describe('pages and locations', () => {
  test('CONS-05 escaping and display names', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
    expect(displayName('Claude\u202E')).toBe('Claude\uFFFD');
    expect(displayName('\u2066\u2069 ')).toBeUndefined();
    expect(displayName(undefined)).toBeUndefined();
    expect(displayName('x'.repeat(121))).toBe(`${'x'.repeat(120)}…`);
  });

  test('AZR-04 ROB-07 response parameters are appended to the exact redirect URI and percent-encoded', () => {
    expect(responseLocation('https://c.example/cb', { code: 'a', state: undefined })).toBe('https://c.example/cb?code=a');
    expect(responseLocation('https://c.example/cb?foo=bar', { code: 'a' })).toBe('https://c.example/cb?foo=bar&code=a');
    expect(responseLocation('https://c.example/cb?', { code: 'a' })).toBe('https://c.example/cb?code=a');
    expect(responseLocation('com.example.app:/cb', { state: '\r\n<x>' })).toBe('com.example.app:/cb?state=%0D%0A%3Cx%3E');
  });
});

describe('upstream configuration', () => {
  const tables = { CLIENTS_TABLE: 'clients', CODES_TABLE: 'codes', PENDING_TABLE: 'pending', CONSENTS_TABLE: 'consents' };
  const base = { ISSUER: 'https://mcp.example.com/prod', UPSTREAM_ISSUER: 'https://idp.example.com', UPSTREAM_CLIENT_ID: 'client', ...tables };

  test('any https issuer (Cognito included); plain http only on loopback, which alone allows insecure requests', () => {
    const cognito = loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf' }).upstream;
    expect(cognito).toEqual({
      issuer: 'https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf',
      clientId: 'client',
      clientSecretArn: undefined,
      scopes: ['openid', 'email', 'profile'],
      timeoutMs: 10_000,
      allowInsecure: false,
    });
    expect(loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: 'http://127.0.0.1:4100' }).upstream.allowInsecure).toBe(true);
    expect(() => loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: 'http://idp.example.com' })).toThrow(/must use https/);
    expect(() => loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: 'https://idp.example.com', UPSTREAM_CLIENT_ID: '' })).toThrow(/UPSTREAM_CLIENT_ID/);
  });

  test('scopes always include openid; the timeout stays well inside API Gateway\'s 29 s; consent lifetime is bounded', () => {
    const config = loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: 'https://idp.example.com', UPSTREAM_SCOPES: 'email groups', UPSTREAM_TIMEOUT_SECONDS: '5', CONSENT_TTL_SECONDS: '0' });
    expect(config.upstream.scopes).toEqual(['openid', 'email', 'groups']);
    expect(config.upstream.timeoutMs).toBe(5000);
    expect(config.lifetimes.rememberedConsent).toBe(0);
    expect(() => loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: 'https://idp.example.com', UPSTREAM_TIMEOUT_SECONDS: '30' })).toThrow(/between 1 and 20/);
    expect(() => loadAuthorizeConfig({ ...base, CONSENT_TTL_SECONDS: '-1' })).toThrow(/CONSENT_TTL_SECONDS/);
    expect(() => loadAuthorizeConfig({ ...base, UPSTREAM_ISSUER: '' })).toThrow('Missing required environment variable UPSTREAM_ISSUER');
  });

  test('MRS-10 the sign-in session lasts an hour at most by default, 0 turns it off, and a bad value fails fast', () => {
    expect(loadAuthorizeConfig(base).lifetimes.signInSession).toBe(3600);
    expect(loadAuthorizeConfig({ ...base, SIGN_IN_SESSION_TTL_SECONDS: '0' }).lifetimes.signInSession).toBe(0);
    expect(loadAuthorizeConfig({ ...base, SIGN_IN_SESSION_TTL_SECONDS: '28800' }).lifetimes.signInSession).toBe(28800);
    expect(() => loadAuthorizeConfig({ ...base, SIGN_IN_SESSION_TTL_SECONDS: '86401' })).toThrow(/SIGN_IN_SESSION_TTL_SECONDS must be an integer between 0 and 86400/);
    expect(() => loadAuthorizeConfig({ ...base, SIGN_IN_SESSION_TTL_SECONDS: '1h' })).toThrow(/SIGN_IN_SESSION_TTL_SECONDS/);
  });
});

describe('the upstream client secret from Secrets Manager', () => {
  /** A Secrets Manager JSON-protocol endpoint, so the real SDK client runs. */
  async function secretsEndpoint(answers: Array<string | 'fail'>) {
    const requests: Array<{ target: string; body: Record<string, unknown> }> = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        requests.push({ target: String(request.headers['x-amz-target']), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        const answer = answers[Math.min(requests.length - 1, answers.length - 1)];
        if (answer === 'fail') {
          response.writeHead(400, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no' }));
        } else {
          response.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1' }).end(JSON.stringify({ ARN: 'arn', Name: 'n', SecretString: answer }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new SecretsManagerClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    return { client, requests, stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  test('INFRA-08 the secret is read by ARN at run time, cached per container, re-read after 10 minutes; failures are not cached', async () => {
    const endpoint = await secretsEndpoint(['fail', 'first-secret', 'rotated-secret']);
    let now = 0;
    const arn = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:upstream-AbCdEf';
    const secret = secretsManagerSecret(endpoint.client, arn, () => now);
    const signal = new AbortController().signal;
    await expect(secret(signal)).rejects.toThrow();
    expect(await secret(signal)).toBe('first-secret');
    expect(await secret(signal)).toBe('first-secret');
    expect(endpoint.requests).toHaveLength(2);
    expect(endpoint.requests[1]).toEqual({ target: 'secretsmanager.GetSecretValue', body: { SecretId: arn } });
    now += 10 * 60 * 1000 + 1;
    expect(await secret(signal)).toBe('rotated-secret');
    expect(endpoint.requests).toHaveLength(3);
    endpoint.client.destroy();
    await endpoint.stop();
  });
});

describe('REV-11 the display name in tokens comes from verified values only', () => {
  test('REV-11 preferred_username, then cognito:username, then the email only when email_verified is true', () => {
    expect(usernameOf({ sub: 's', preferred_username: 'ada', email: 'ada@example.test', email_verified: true })).toBe('ada');
    expect(usernameOf({ sub: 's', 'cognito:username': 'ada-cognito', email: 'x@example.test' })).toBe('ada-cognito');
    expect(usernameOf({ sub: 's', email: 'ceo@victim.example', email_verified: true })).toBe('ceo@victim.example');
    for (const verified of [undefined, false, 'true', 1]) {
      expect(usernameOf({ sub: 's', email: 'ceo@victim.example', email_verified: verified })).toBeUndefined();
    }
    expect(usernameOf({ sub: 's', preferred_username: '', email: 'a@b.example' })).toBeUndefined();
  });
});
