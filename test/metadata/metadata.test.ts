import * as jose from 'jose';
import fc from 'fast-check';
import { buildMetadataHandler } from '../../lambda/metadata/handler';
import { derToJose, KmsJwksProvider } from '../../lambda/shared/signer';
import { sign as cryptoSign, generateKeyPairSync, verify as cryptoVerify } from 'node:crypto';
import { AuditCapture, Backend, instrument, ISSUER, lambdaContext, proxyEvent, RESOURCE, TestClock } from '../support/harness';

const clock = new TestClock();
const audit = new AuditCapture();

async function get(handler: ReturnType<typeof buildMetadataHandler>, path: string) {
  const result = await handler(proxyEvent({ method: 'GET', path }), lambdaContext);
  return { ...result, json: JSON.parse(result.body) };
}

describe('metadata (RSA key)', () => {
  const backend = new Backend();
  let handler: ReturnType<typeof buildMetadataHandler>;
  let kmsCalls: ReturnType<typeof instrument>;
  beforeAll(async () => {
    await backend.start('RSA_2048');
    kmsCalls = instrument(backend.kmsClient);
    const config = backend.config('metadata');
    handler = buildMetadataHandler({ config, jwks: new KmsJwksProvider(backend.kmsClient, [backend.keyArn], 'RS256'), clock: clock.fn, sink: audit.sink });
  });
  afterAll(() => backend.stop());

  test('META-02 RS-1 RS-4 protected resource metadata names the exact MCP URL and never offline_access', async () => {
    for (const path of ['/.well-known/oauth-protected-resource/mcp', '/.well-known/oauth-protected-resource']) {
      const response = await get(handler, path);
      expect(response.statusCode).toBe(200);
      expect(response.json).toEqual({
        resource: RESOURCE,
        authorization_servers: [ISSUER],
        scopes_supported: ['mcp:tools'],
        bearer_methods_supported: ['header'],
      });
    }
  });

  test('META-01 AS-4 AS-5 AS-6 AS-8 CIMD-7 authorization server metadata at both discovery forms', async () => {
    const oauth = await get(handler, '/.well-known/oauth-authorization-server');
    const oidc = await get(handler, '/.well-known/openid-configuration');
    // OpenID Connect discovery is the same document plus the two members OpenID Provider Metadata requires.
    expect(oidc.json).toEqual({ ...oauth.json, subject_types_supported: ['public'], id_token_signing_alg_values_supported: ['RS256'] });
    const metadata = oauth.json;
    expect(metadata.issuer).toBe(ISSUER);
    expect(metadata.issuer.endsWith('/')).toBe(false);
    expect(metadata).toMatchObject({
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      registration_endpoint: `${ISSUER}/register`,
      revocation_endpoint: `${ISSUER}/revoke`,
      introspection_endpoint: `${ISSUER}/introspect`,
      jwks_uri: `${ISSUER}/jwks.json`,
      response_types_supported: ['code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none', 'client_secret_basic', 'client_secret_post'],
      authorization_response_iss_parameter_supported: true,
      client_id_metadata_document_supported: true,
    });
    expect(metadata.grant_types_supported).toEqual(expect.arrayContaining(['authorization_code', 'refresh_token']));
    expect(metadata.scopes_supported).toEqual(['mcp:tools', 'mcp:admin', 'offline_access']);
    // AS-9: every endpoint is https.
    for (const [key, value] of Object.entries(metadata)) {
      if (key.endsWith('_endpoint') || key === 'jwks_uri' || key === 'issuer') expect(value).toMatch(/^https:\/\//);
    }
  });

  test('AS-15 offline_access is advertised by the authorization server only', async () => {
    expect((await get(handler, '/.well-known/oauth-authorization-server')).json.scopes_supported).toContain('offline_access');
    expect((await get(handler, '/.well-known/oauth-protected-resource/mcp')).json.scopes_supported).not.toContain('offline_access');
  });

  test('metadata is publicly cacheable for a short time and readable cross-origin', async () => {
    const response = await get(handler, '/.well-known/oauth-authorization-server');
    expect(response.headers?.['Cache-Control']).toBe('public, max-age=300');
    expect(response.headers?.['Access-Control-Allow-Origin']).toBe('*');
  });

  test('JWKS publishes the KMS public key with its kid, fetched from KMS once per container', async () => {
    kmsCalls.reset();
    const first = await get(handler, '/jwks.json');
    await get(handler, '/jwks.json');
    expect(kmsCalls.calls).toEqual(['GetPublicKeyCommand']);
    expect(first.json.keys).toHaveLength(1);
    const [jwk] = first.json.keys;
    expect(jwk).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(jwk.d).toBeUndefined();
    const token = await backend.signer().sign({ iss: ISSUER, aud: RESOURCE, sub: 'a', exp: clock.now + 60 }, 'at+jwt');
    const verified = await jose.jwtVerify(token, jose.createLocalJWKSet(first.json), { issuer: ISSUER, audience: RESOURCE, currentDate: new Date(clock.now * 1000) });
    expect(verified.protectedHeader.kid).toBe(jwk.kid);
  });

  test('META-04 methods other than GET are 405', async () => {
    const response = await handler(proxyEvent({ method: 'POST', path: '/jwks.json' }), lambdaContext);
    expect(response.statusCode).toBe(405);
  });

  test('REV-01 client_credentials is advertised only when the operator declared machine clients', async () => {
    const grantsOf = async (env: Record<string, string>) => {
      const built = buildMetadataHandler({ config: backend.config('metadata', env), jwks: new KmsJwksProvider(backend.kmsClient, [backend.keyArn], 'RS256'), clock: clock.fn, sink: audit.sink });
      return (await get(built, '/.well-known/oauth-authorization-server')).json.grant_types_supported;
    };
    expect(await grantsOf({})).toEqual(['authorization_code', 'refresh_token', 'client_credentials']);
    expect(await grantsOf({ MACHINE_CLIENTS: '' })).toEqual(['authorization_code', 'refresh_token']);
  });

  test('SSRF-06 with CIMD disabled the metadata omits client_id_metadata_document_supported', async () => {
    const config = backend.config('metadata', { CIMD_ENABLED: 'false' });
    const disabled = buildMetadataHandler({ config, jwks: new KmsJwksProvider(backend.kmsClient, [backend.keyArn], 'RS256'), clock: clock.fn, sink: audit.sink });
    expect((await get(disabled, '/.well-known/oauth-authorization-server')).json.client_id_metadata_document_supported).toBeUndefined();
  });
});

describe('metadata (ECC key)', () => {
  const backend = new Backend();
  beforeAll(() => backend.start('ECC_NIST_P256'));
  afterAll(() => backend.stop());

  test('JWT-19 ES256 tokens signed through KMS (DER converted to r||s) verify with the published JWKS', async () => {
    const handler = buildMetadataHandler({ config: backend.config('metadata'), jwks: new KmsJwksProvider(backend.kmsClient, [backend.keyArn], 'ES256'), clock: clock.fn, sink: audit.sink });
    const jwks = (await get(handler, '/jwks.json')).json;
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
    const keySet = jose.createLocalJWKSet(jwks);
    for (let i = 0; i < 50; i++) {
      const token = await backend.signer('ES256').sign({ iss: ISSUER, n: i }, 'at+jwt');
      expect(Buffer.from(token.split('.')[2], 'base64url')).toHaveLength(64);
      await expect(jose.compactVerify(token, keySet)).resolves.toBeDefined();
    }
  });
});

describe('JWT-19 DER to r||s conversion', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

  test('property: every DER signature converts to 64 bytes that verify as IEEE P1363', () => {
    let sawShortOrPadded = false;
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (message) => {
        const der = cryptoSign('sha256', message, privateKey);
        // DER integers carry a 0x00 sign byte when the top bit is set, or are shorter than 32 bytes.
        if (der.length !== 70) sawShortOrPadded = true;
        const raw = derToJose(der);
        expect(raw).toHaveLength(64);
        expect(cryptoVerify('sha256', message, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw)).toBe(true);
      }),
      { numRuns: 10_000 },
    );
    expect(sawShortOrPadded).toBe(true);
  });

  test('hand-made DER with short and sign-padded integers is normalised', () => {
    const r = Buffer.concat([Buffer.from([0x00, 0x80]), Buffer.alloc(31, 1)]); // 33 bytes: sign-padded
    const s = Buffer.alloc(30, 2); // 30 bytes: short
    const der = Buffer.concat([Buffer.from([0x30, 2 + r.length + 2 + s.length, 0x02, r.length]), r, Buffer.from([0x02, s.length]), s]);
    const raw = derToJose(der);
    expect(raw.subarray(0, 32)).toEqual(r.subarray(1));
    expect(raw.subarray(32)).toEqual(Buffer.concat([Buffer.alloc(2), s]));
  });
});
