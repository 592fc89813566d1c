import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as jose from 'jose';
import { grantedScope } from '../../lambda/authorize/scopes';
import { OidcUpstream, signInParameters, UpstreamFailure } from '../../lambda/authorize/upstream';
import { DEFAULT_SCOPE_MODEL, type ScopeModel } from '../../lib/scopes';

/**
 * Amazon Cognito as the upstream: an issuer with a path (`https://cognito-idp.{region}.amazonaws.com/{poolId}`),
 * the hosted UI's endpoints on another host (found through discovery), no RFC 9207 `iss` on the
 * callback, `client_secret_basic`, and groups in `cognito:groups`. Cognito cannot run offline, so this
 * endpoint reproduces those documented traits; the full flow runs against oidc-provider elsewhere.
 */

const POOL = 'eu-west-1_TestPool';
const CLIENT_ID = 'cognito-app-client';
const CLIENT_SECRET = 'cognito-app-secret';
const CALLBACK = 'https://mcp.example.test/prod/callback';

let server: Server;
let origin: string;
let issuer: string;
const keys = jose.generateKeyPair('RS256');
/** Codes the "hosted UI" issued: code -> what it is bound to. */
const issued = new Map<string, { challenge: string; nonce: string; redirectUri: string }>();
const tokenRequests: Array<{ authorization?: string; form: URLSearchParams }> = [];

beforeAll(async () => {
  const { publicKey, privateKey } = await keys;
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'cognito-key-1', alg: 'RS256', use: 'sig' };
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', async () => {
      const send = (status: number, body: unknown) => response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      switch (request.url) {
        case `/${POOL}/.well-known/openid-configuration`:
          return send(200, {
            issuer,
            authorization_endpoint: `${origin}/oauth2/authorize`,
            token_endpoint: `${origin}/oauth2/token`,
            userinfo_endpoint: `${origin}/oauth2/userInfo`,
            jwks_uri: `${issuer}/.well-known/jwks.json`,
            response_types_supported: ['code', 'token'],
            scopes_supported: ['openid', 'email', 'phone', 'profile'],
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: ['RS256'],
            token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          });
        case `/${POOL}/.well-known/jwks.json`:
          return send(200, { keys: [jwk] });
        case '/oauth2/token': {
          const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
          tokenRequests.push({ authorization: request.headers.authorization, form });
          // RFC 6749 §2.3.1: id and secret are form-urlencoded inside the Basic credentials.
          const basic = Buffer.from((request.headers.authorization ?? '').replace(/^Basic /, ''), 'base64').toString('utf8');
          const [id, secret] = basic.split(':').map((part) => decodeURIComponent(part));
          if (id !== CLIENT_ID || secret !== CLIENT_SECRET) return send(400, { error: 'invalid_client' });
          const grant = issued.get(form.get('code') ?? '');
          const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
          if (!grant || grant.challenge !== challenge || grant.redirectUri !== form.get('redirect_uri')) return send(400, { error: 'invalid_grant' });
          issued.delete(form.get('code')!);
          const now = Math.floor(Date.now() / 1000);
          const idToken = await new jose.SignJWT({
            sub: '8a7b6c5d-0000-4000-8000-000000000001',
            aud: CLIENT_ID,
            iss: issuer,
            token_use: 'id',
            auth_time: now,
            nonce: grant.nonce,
            email: 'carol@example.test',
            'cognito:username': 'carol',
            'cognito:groups': ['admins'],
          })
            .setProtectedHeader({ alg: 'RS256', kid: 'cognito-key-1' })
            .setIssuedAt(now)
            .setExpirationTime(now + 3600)
            .sign(privateKey);
          return send(200, { id_token: idToken, access_token: 'cognito-access-token', refresh_token: 'cognito-refresh', expires_in: 3600, token_type: 'Bearer' });
        }
        default:
          return send(404, { error: 'not_found' });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  issuer = `${origin}/${POOL}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const upstream = () =>
  new OidcUpstream({
    config: { issuer, clientId: CLIENT_ID, clientSecretArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:x', scopes: ['openid', 'email', 'profile'], timeoutMs: 5000, allowInsecure: true },
    redirectUri: CALLBACK,
    secret: async () => CLIENT_SECRET,
  });

/** What the hosted UI does after the user signs in: a code bound to the request, back to our callback without `iss`. */
function hostedUiSignIn(authorizationUrl: string): URLSearchParams {
  const query = new URL(authorizationUrl).searchParams;
  const code = randomBytes(16).toString('hex');
  issued.set(code, { challenge: query.get('code_challenge')!, nonce: query.get('nonce')!, redirectUri: query.get('redirect_uri')! });
  return new URLSearchParams({ code, state: query.get('state')! });
}

test('a Cognito user pool works as the upstream: discovery on an issuer with a path, hosted UI endpoints, cognito:groups entitlements', async () => {
  const provider = upstream();
  const parameters = signInParameters('s'.repeat(43), 'c'.repeat(43));
  const url = new URL(await provider.authorizationUrl(parameters));
  expect(`${url.origin}${url.pathname}`).toBe(`${origin}/oauth2/authorize`);
  expect(Object.fromEntries(url.searchParams)).toMatchObject({
    client_id: CLIENT_ID,
    redirect_uri: CALLBACK,
    response_type: 'code',
    scope: 'openid email profile',
    state: parameters.state,
    nonce: parameters.nonce,
    code_challenge_method: 'S256',
  });

  const identity = await provider.completeSignIn(hostedUiSignIn(url.href), parameters);
  expect(identity.sub).toBe('8a7b6c5d-0000-4000-8000-000000000001');
  expect(identity.claims['cognito:groups']).toEqual(['admins']);
  expect(tokenRequests.at(-1)!.form.get('code_verifier')).toBe(parameters.codeVerifier);

  const cognitoModel: ScopeModel = { ...DEFAULT_SCOPE_MODEL, entitlements: [{ claim: 'cognito:groups', value: 'admins', scopes: ['mcp:admin'] }] };
  expect(grantedScope(cognitoModel, 'mcp:admin mcp:tools', identity.claims)).toBe('mcp:admin mcp:tools');
});

test('a wrong client secret at Cognito is a token endpoint refusal, not a sign-in', async () => {
  const provider = new OidcUpstream({
    config: { issuer, clientId: CLIENT_ID, scopes: ['openid'], timeoutMs: 5000, allowInsecure: true },
    redirectUri: CALLBACK,
    secret: async () => 'stale-secret',
  });
  const parameters = signInParameters('t'.repeat(43), 'd'.repeat(43));
  const callback = hostedUiSignIn(await provider.authorizationUrl(parameters));
  await expect(provider.completeSignIn(callback, parameters)).rejects.toEqual(new UpstreamFailure('token_endpoint', 'invalid_client'));
});

test('a callback carrying an iss from another issuer is refused even though Cognito never sends one', async () => {
  const provider = upstream();
  const parameters = signInParameters('u'.repeat(43), 'e'.repeat(43));
  const callback = hostedUiSignIn(await provider.authorizationUrl(parameters));
  callback.set('iss', 'https://evil.example');
  await expect(provider.completeSignIn(callback, parameters)).rejects.toEqual(new UpstreamFailure('callback', 'iss'));
});
