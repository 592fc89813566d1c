import { generateKeyPairSync } from 'node:crypto';
import { createAuthorizerHandler } from '../../lambda/authorizer/handler';
import { fetchJwks, keysFromJwks, verificationKeysLoader, type Fetch } from '../../lambda/shared/verification-keys';
import { environmentOf } from '../../lib/environment-reader';
import { authorizerRoutes, authorizerEvent, jwksOf, mint, NOW, testKey } from '../support/tokens';

const rsa = testKey('RS256');
const rsa2 = testKey('RS256', 'rs256-2');
const ec = testKey('ES256');

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}

describe('TRUSTED_JWKS (keys in the function configuration)', () => {
  test('every usable key is pinned by kid; keys for another algorithm or use are skipped', () => {
    const encryption = { ...testKey('RS256', 'enc').jwk, use: 'enc' };
    const keys = keysFromJwks({ keys: [rsa.jwk, rsa2.jwk, ec.jwk, encryption] }, 'RS256');
    expect([...keys.keys()]).toEqual([rsa.kid, rsa2.kid]);
    expect([...keysFromJwks({ keys: [rsa.jwk, ec.jwk] }, 'ES256').keys()]).toEqual([ec.kid]);
  });

  test('a JWKS holding a private key is refused at init', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(() => keysFromJwks({ keys: [{ ...privateKey.export({ format: 'jwk' }), kid: 'p' }] }, 'RS256')).toThrow('public keys only');
    expect(() => keysFromJwks({ keys: [{ kty: 'oct', k: 'c2VjcmV0', kid: 'h' }] }, 'RS256')).toThrow('public keys only');
  });

  test('an RSA key under 2048 bits is refused at init', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expect(() => keysFromJwks({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'weak' }] }, 'RS256')).toThrow('at least 2048');
  });

  test.each([
    ['not an object', 'x'],
    ['no keys array', { keys: 'none' }],
    ['an entry without kid', { keys: [{ ...rsa.jwk, kid: undefined }] }],
    ['a duplicate kid', { keys: [rsa.jwk, rsa.jwk] }],
    ['an entry that is not an object', { keys: [null] }],
  ])('a malformed JWKS (%s) is refused at init', (_name, jwks) => {
    expect(() => keysFromJwks(jwks, 'RS256')).toThrow();
  });

  test('a JWKS with no key for the configured algorithm fails the init', () => {
    expect(() => verificationKeysLoader(environmentOf('authorizer', { TRUSTED_JWKS: JSON.stringify(jwksOf(ec)) }), 'RS256')).toThrow('holds no RS256 verification key');
  });

  test('neither TRUSTED_JWKS nor JWKS_URI fails the init', () => {
    expect(() => verificationKeysLoader(environmentOf('authorizer', {}), 'RS256')).toThrow('Set TRUSTED_JWKS or JWKS_URI');
  });
});

describe('JWKS_URI (fetched once per container)', () => {
  const uri = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/jwks.json';

  test('JWT-04 the JWKS is fetched once, and never again for an unknown kid', async () => {
    const fetchDocument = jest.fn<ReturnType<Fetch>, Parameters<Fetch>>(async () => jsonResponse(jwksOf(rsa)));
    const keys = verificationKeysLoader(environmentOf('authorizer', { JWKS_URI: uri }), 'RS256', fetchDocument);
    const handler = createAuthorizerHandler({ config: authorizerRoutes(), keys, clock: () => NOW, auditSink: () => undefined });
    await expect(handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}` }))).resolves.toMatchObject({ principalId: 'user-123' });
    for (const kid of ['unknown', rsa2.kid, '../../jwks']) {
      await expect(handler(authorizerEvent({ authorization: `Bearer ${mint(rsa, { header: { kid } })}` }))).rejects.toThrow('Unauthorized');
    }
    expect(fetchDocument).toHaveBeenCalledTimes(1);
    const [url, init] = fetchDocument.mock.calls[0];
    expect(url.href).toBe(uri);
    expect(init.redirect).toBe('error');
    expect(init.signal).toBeInstanceOf(AbortSignal);
  });

  test('concurrent first requests share one fetch', async () => {
    const fetchDocument = jest.fn(async () => jsonResponse(jwksOf(rsa)));
    const keys = verificationKeysLoader(environmentOf('authorizer', { JWKS_URI: uri }), 'RS256', fetchDocument);
    await Promise.all([keys(), keys(), keys()]);
    expect(fetchDocument).toHaveBeenCalledTimes(1);
  });

  test('a failed fetch is an outage for that request, and the next request tries again', async () => {
    const fetchDocument = jest
      .fn<ReturnType<Fetch>, Parameters<Fetch>>()
      .mockResolvedValueOnce(jsonResponse({ message: 'busy' }, 503))
      .mockResolvedValueOnce(jsonResponse(jwksOf(rsa)));
    const keys = verificationKeysLoader(environmentOf('authorizer', { JWKS_URI: uri }), 'RS256', fetchDocument);
    const handler = createAuthorizerHandler({ config: authorizerRoutes(), keys, clock: () => NOW, auditSink: () => undefined });
    const event = authorizerEvent({ authorization: `Bearer ${mint(rsa)}` });
    await expect(handler(event)).rejects.toThrow('JWKS fetch failed with HTTP 503');
    await expect(handler(event)).resolves.toMatchObject({ principalId: 'user-123' });
    await handler(event);
    expect(fetchDocument).toHaveBeenCalledTimes(2);
  });

  test('keys pinned in TRUSTED_JWKS win over a fetched key with the same kid', async () => {
    const impostor = { ...rsa2.jwk, kid: rsa.kid };
    const keys = verificationKeysLoader(environmentOf('authorizer', { JWKS_URI: uri, TRUSTED_JWKS: JSON.stringify(jwksOf(rsa)) }), 'RS256', async () => jsonResponse({ keys: [impostor, ec.jwk] }));
    const handler = createAuthorizerHandler({ config: authorizerRoutes(), keys, clock: () => NOW, auditSink: () => undefined });
    await expect(handler(authorizerEvent({ authorization: `Bearer ${mint(rsa)}` }))).resolves.toMatchObject({ principalId: 'user-123' });
  });

  test.each([
    ['plain http to a remote host', 'http://auth.example.com/jwks.json'],
    ['a file URL', 'file:///etc/passwd'],
  ])('%s is refused', async (_name, url) => {
    const fetchDocument = jest.fn(async () => jsonResponse(jwksOf(rsa)));
    await expect(fetchJwks(url, fetchDocument)).rejects.toThrow('must be an https URL');
    expect(fetchDocument).not.toHaveBeenCalled();
  });

  test('http on loopback is allowed (the local stack)', async () => {
    await expect(fetchJwks('http://127.0.0.1:4000/jwks.json', async () => jsonResponse(jwksOf(rsa)))).resolves.toEqual(jwksOf(rsa));
  });

  test('an oversized JWKS document is refused', async () => {
    await expect(fetchJwks(uri, async () => new Response('x'.repeat(70 * 1024)))).rejects.toThrow('too large');
  });
});
