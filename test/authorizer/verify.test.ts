import * as crypto from 'node:crypto';
import fc from 'fast-check';
import { verifyAccessToken, MAX_TOKEN_LENGTH } from '../../lambda/shared/access-token-verifier';
import {
  accessTokenClaims,
  authorizerConfig,
  b64url,
  hs256,
  makeKey,
  mint,
  NOW,
  RESOURCE,
  signingInputFor,
  signWith,
  testKey,
  verificationKeys,
  type TestKey,
} from '../support/tokens';

// Catalogue section H, verifier level: each case asserts the exact stable reason that reaches the audit log.

const rsa = testKey('RS256');
const ec = testKey('ES256');
const rsaKeys = verificationKeys('RS256', rsa);
const ecKeys = verificationKeys('ES256', ec);
const rsaConfig = authorizerConfig();
const ecConfig = authorizerConfig({ SIGNING_ALGORITHM: 'ES256' });

/** node:crypto's own exports object: the one the verifier calls through (a namespace import is read-only). */
const spyOnVerify = () => jest.spyOn(jest.requireActual<typeof crypto>('node:crypto'), 'verify');

function reason(token: string, alg: 'RS256' | 'ES256' = 'RS256', now = NOW): string {
  const result = alg === 'RS256' ? verifyAccessToken(token, rsaKeys, rsaConfig, now) : verifyAccessToken(token, ecKeys, ecConfig, now);
  return result.ok ? 'ok' : result.reason;
}

/** Replaces one segment (0 header, 1 payload, 2 signature) of a compact JWS. */
function withSegment(token: string, index: number, segment: string): string {
  const parts = token.split('.');
  parts[index] = segment;
  return parts.join('.');
}

describe('RS-5 signature, issuer, expiry and audience = this server: well-formed tokens', () => {
  test.each(['RS256', 'ES256'] as const)('a token exactly as the token endpoint issues it verifies (%s)', (alg) => {
    const key = alg === 'RS256' ? rsa : ec;
    const result = alg === 'RS256' ? verifyAccessToken(mint(key), rsaKeys, rsaConfig, NOW) : verifyAccessToken(mint(key), ecKeys, ecConfig, NOW);
    expect(result).toEqual({
      ok: true,
      claims: { sub: 'user-123', clientId: 'client-abc', scopes: ['mcp:tools'], scope: 'mcp:tools', jti: 'jti-0001', aud: RESOURCE, iat: NOW - 10, exp: NOW + 590, username: undefined, machine: false },
    });
  });

  test('preferred_username is passed on when present', () => {
    const result = verifyAccessToken(mint(rsa, { claims: { preferred_username: 'ada' } }), rsaKeys, rsaConfig, NOW);
    expect(result.ok && result.claims.username).toBe('ada');
  });
});

describe('JWT-01 alg none', () => {
  test.each(['none', 'None', 'NONE'])('JWT-01 alg %s with an empty signature is refused (alg)', (alg) => {
    const token = `${b64url(JSON.stringify({ alg }))}.${b64url(JSON.stringify(accessTokenClaims()))}.`;
    expect(reason(token)).toBe('alg');
    expect(reason(`${token}AAAA`)).toBe('alg');
    const typed = `${b64url(JSON.stringify({ alg, typ: 'at+jwt', kid: rsa.kid }))}.${b64url(JSON.stringify(accessTokenClaims()))}.AAAA`;
    expect(reason(typed)).toBe('alg');
  });
});

describe('JWT-02 algorithm confusion', () => {
  const input = (secretName: string) => signingInputFor(rsa, { header: { alg: 'HS256' }, claims: { jti: secretName } });
  const secrets: Array<[string, Buffer | string]> = [
    ['PEM', rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string],
    ['DER', rsa.publicKey.export({ type: 'spki', format: 'der' })],
    ['JWK JSON', JSON.stringify(rsa.jwk)],
  ];
  test.each(secrets)('JWT-02 HS256 keyed with the public key as %s is refused (alg)', (name, secret) => {
    const signingInput = input(name);
    expect(reason(`${signingInput}.${hs256(secret, signingInput)}`)).toBe('alg');
  });
});

describe('JWT-03 algorithm allowlist', () => {
  test('JWT-03 a correct RS256 token is refused when ES256 is configured (alg)', () => {
    expect(reason(mint(rsa), 'ES256')).toBe('alg');
  });

  test('JWT-03 a correct ES256 token is refused when RS256 is configured (alg)', () => {
    expect(reason(mint(ec), 'RS256')).toBe('alg');
  });

  test.each(['ES384', 'PS256', 'RS512', 'EdDSA'])('JWT-03 alg %s is refused (alg)', (alg) => {
    const signingInput = signingInputFor(rsa, { header: { alg } });
    expect(reason(`${signingInput}.${signWith(rsa, signingInput)}`)).toBe('alg');
  });

  test('JWT-03 a correct signature by another key under our kid is refused (signature)', () => {
    const impostor = makeKey('RS256', rsa.kid);
    expect(reason(mint(impostor))).toBe('signature');
  });
});

describe('JWT-04 kid', () => {
  test.each([
    ['unknown', 'no-such-key'],
    ['path traversal', '../../x'],
    ['SQL', "' OR 1=1 --"],
    ['empty', ''],
  ])('JWT-04 a %s kid is refused (kid)', (_name, kid) => {
    expect(reason(mint(rsa, { header: { kid } }))).toBe('kid');
  });

  test.each([[123], [null], [{ id: 'rsa256-1' }], [['rs256-1']], [undefined]])('JWT-04 a non-string or missing kid %p is refused (kid)', (kid) => {
    expect(reason(mint(rsa, { header: { kid } }))).toBe('kid');
  });

  test('JWT-04 a 10 kB kid is refused before the header is decoded (oversized)', () => {
    expect(reason(mint(rsa, { header: { kid: 'k'.repeat(10_000) } }))).toBe('oversized');
  });

  test('JWT-04 an unknown kid makes no network call and reads no file', () => {
    const fetchSpy = jest.spyOn(globalThis, 'fetch');
    const fs = jest.requireActual<typeof import('node:fs')>('node:fs');
    const readSpy = jest.spyOn(fs, 'readFileSync');
    expect(reason(mint(rsa, { header: { kid: 'https://evil.example/jwks.json' } }))).toBe('kid');
    expect(fetchSpy).not.toHaveBeenCalled();
    expect(readSpy).not.toHaveBeenCalled();
    fetchSpy.mockRestore();
    readSpy.mockRestore();
  });
});

describe('JWT-05 embedded keys', () => {
  const attacker = makeKey('RS256', 'attacker');
  test.each([
    ['jwk', { jwk: attacker.jwk }],
    ['jku', { jku: 'https://evil.example/jwks.json' }],
    ['x5u', { x5u: 'https://evil.example/cert.pem' }],
    ['x5c', { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] }],
  ])('JWT-05 a %s header signed with the attacker key is refused (header)', (_name, members) => {
    // The attacker signs with their own key but names ours: the pinned key is the only one ever used.
    const signingInput = signingInputFor(rsa, { header: members });
    expect(reason(`${signingInput}.${signWith(attacker, signingInput)}`)).toBe('header');
  });

  test('JWT-05 a jku header is refused even on a token our key signed (header)', () => {
    expect(reason(mint(rsa, { header: { jku: 'https://evil.example/jwks.json' } }))).toBe('header');
  });
});

describe('JWT-06 crit', () => {
  test.each([
    ['b64 false', { crit: ['b64'], b64: false }],
    ['unknown extension', { crit: ['exp2'], exp2: 1 }],
    ['empty', { crit: [] }],
  ])('JWT-06 crit (%s) is refused (header)', (_name, members) => {
    expect(reason(mint(rsa, { header: members }))).toBe('header');
  });
});

describe('JWT-07 exp (tolerance 60 s)', () => {
  test('JWT-07 exp = now - 61 s is refused (expired)', () => {
    expect(reason(mint(rsa, { claims: { iat: NOW - 700, exp: NOW - 61 } }))).toBe('expired');
  });
  test('JWT-07 exp = now - 59 s is accepted', () => {
    expect(reason(mint(rsa, { claims: { iat: NOW - 700, exp: NOW - 59 } }))).toBe('ok');
  });
  test('JWT-07 exp missing or not a number is refused (claims)', () => {
    expect(reason(mint(rsa, { claims: { exp: undefined } }))).toBe('claims');
    expect(reason(mint(rsa, { claims: { exp: String(NOW + 100) } }))).toBe('claims');
  });
});

describe('JWT-08 nbf and iat', () => {
  test.each(['nbf', 'iat'])('JWT-08 %s = now + 8 s is accepted', (claim) => {
    expect(reason(mint(rsa, { claims: { [claim]: NOW + 8 } }))).toBe('ok');
  });
  test.each(['nbf', 'iat'])('JWT-08 %s = now + 61 s is refused (not_yet_valid)', (claim) => {
    expect(reason(mint(rsa, { claims: { [claim]: NOW + 61 } }))).toBe('not_yet_valid');
  });
  test('JWT-08 nbf that is not a number is refused (claims)', () => {
    expect(reason(mint(rsa, { claims: { nbf: 'soon' } }))).toBe('claims');
  });
});

describe('JWT-09 RS-5 audience', () => {
  test.each([
    ['another MCP server', 'https://other.example/mcp'],
    ['a trailing slash', `${RESOURCE}/`],
    ['an uppercase variant', RESOURCE.replace('https://abc123', 'https://ABC123')],
    ['the issuer', RESOURCE.slice(0, -'/mcp'.length)],
    ['missing', undefined],
  ])('JWT-09 aud = %s is refused (aud)', (_name, aud) => {
    expect(reason(mint(rsa, { claims: { aud } }))).toBe('aud');
  });
});

describe('JWT-10 audience array', () => {
  test('JWT-10 an aud array is refused even when it contains this resource (aud)', () => {
    expect(reason(mint(rsa, { claims: { aud: ['https://us.example/mcp', 'https://other.example'] } }))).toBe('aud');
    expect(reason(mint(rsa, { claims: { aud: [RESOURCE] } }))).toBe('aud');
  });
});

describe('JWT-11 claims', () => {
  test.each([['wrong', 'https://evil.example'], ['missing', undefined], ['with a trailing slash', 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod/']])(
    'JWT-11 iss %s is refused (iss)',
    (_name, iss) => {
      expect(reason(mint(rsa, { claims: { iss } }))).toBe('iss');
    },
  );
  test.each(['sub', 'client_id', 'jti', 'iat'])('JWT-11 a token without %s is refused (claims)', (claim) => {
    expect(reason(mint(rsa, { claims: { [claim]: undefined } }))).toBe('claims');
  });
  test.each([['sub', 42], ['client_id', ''], ['jti', ['a']], ['scope', 7], ['preferred_username', { name: 'x' }]])(
    'JWT-11 %s of the wrong type (%p) is refused (claims)',
    (claim, value) => {
      expect(reason(mint(rsa, { claims: { [claim]: value } }))).toBe('claims');
    },
  );
});

describe('JWT-12 typing', () => {
  test.each([['JWT'], ['id_token+jwt'], ['jwt'], [undefined], [42]])('JWT-12 typ %p is refused (typ)', (typ) => {
    expect(reason(mint(rsa, { header: { typ } }))).toBe('typ');
  });
  test.each(['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+JWT'])('typ %s is accepted (RFC 9068, case-insensitive)', (typ) => {
    expect(reason(mint(rsa, { header: { typ } }))).toBe('ok');
  });
  test('JWT-12 an upstream ID token is refused (typ), even when signed by a pinned key', () => {
    const idToken = mint(rsa, { header: { typ: 'JWT' }, claims: { aud: 'client-abc', nonce: 'n', email: 'ada@example.com' } });
    expect(reason(idToken)).toBe('typ');
  });
});

describe('JWT-14 structure', () => {
  const token = mint(rsa);
  const [header, payload, signature] = token.split('.');

  test('JWT-14 one bit flipped in the decoded signature, payload or header is refused', () => {
    for (const index of [0, 1, 2]) {
      const bytes = Buffer.from(token.split('.')[index], 'base64url');
      for (const position of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
        const flipped = Buffer.from(bytes);
        flipped[position] ^= 0x01;
        expect(reason(withSegment(token, index, flipped.toString('base64url')))).not.toBe('ok');
      }
    }
  });

  test('JWT-14 a low bit flipped in the last base64url character (same decoded bytes) is refused (malformed)', () => {
    // 256 signature bytes leave 4 unused bits in the last character; a lenient decoder would ignore the flip.
    const last = signature[signature.length - 1];
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const flippedChar = alphabet[alphabet.indexOf(last) ^ 0x01];
    const flipped = signature.slice(0, -1) + flippedChar;
    expect(Buffer.from(flipped, 'base64url').equals(Buffer.from(signature, 'base64url'))).toBe(true);
    expect(reason(`${header}.${payload}.${flipped}`)).toBe('malformed');
  });

  test.each([
    ['2 segments', `${header}.${payload}`],
    ['4 segments', `${token}.${signature}`],
    ['a 5-segment JWE', `${header}.${payload}.AAAA.${signature}.BBBB`],
    ['an empty payload segment', `${header}..${signature}`],
    ['padding', `${token}==`],
    ['"+" in a segment', withSegment(token, 2, '+' + signature.slice(1))],
    ['"/" in a segment', withSegment(token, 2, '/' + signature.slice(1))],
    ['a space in the header', `${header.slice(0, 4)} ${header.slice(4)}.${payload}.${signature}`],
    ['a newline before the signature', `${header}.${payload}.\n${signature}`],
    ['a trailing newline', `${token}\n`],
    ['an empty token', ''],
  ])('JWT-14 %s is refused (malformed)', (_name, malformed) => {
    expect(reason(malformed)).toBe('malformed');
  });

  test.each([
    ['a non-JSON payload', 'this is not json'],
    ['a JSON array payload', JSON.stringify([accessTokenClaims()])],
    ['a JSON string payload', '"claims"'],
    ['a JSON null payload', 'null'],
  ])('JWT-14 %s, correctly signed, is refused (malformed)', (_name, rawPayload) => {
    expect(reason(mint(rsa, { rawPayload }))).toBe('malformed');
  });

  test('JWT-01 an alg none token with an empty signature is refused for its alg, also when typed and keyed', () => {
    const signingInput = signingInputFor(rsa, { header: { alg: 'none' } });
    expect(reason(`${signingInput}.`)).toBe('alg');
  });

  test('an empty signature under the configured alg is refused (signature)', () => {
    expect(reason(`${signingInputFor(rsa)}.`)).toBe('signature');
  });

  test('JWT-14 a duplicate alg member in the header is refused (malformed)', () => {
    const rawHeader = `{"alg":"none","typ":"at+jwt","kid":"${rsa.kid}","alg":"RS256"}`;
    expect(JSON.parse(rawHeader).alg).toBe('RS256');
    expect(reason(mint(rsa, { rawHeader }))).toBe('malformed');
  });

  test.each([
    ['a space', `${header}. ${payload}.${signature}`],
    ['a newline', `${header}.${payload}\n.${signature}`],
    ['padding', `${header}.${payload}==.${signature}`],
    ['"+" and "/"', `${header}.+/${payload.slice(2)}.${signature}`],
  ])('JWT-14 %s in the payload segment is refused: the signature covers the exact characters received (signature)', (_name, malformed) => {
    expect(reason(malformed)).toBe('signature');
  });

  test('JWT-14 a payload character swapped for one that latin1 would truncate to it is refused (signature)', () => {
    // U+0100 + c encodes to byte c in latin1: a latin1 signing input would still verify, while the base64
    // decoder skips the character and reads different claims. The verifier signs over UTF-8 instead.
    const at = header.length + 1 + 10;
    const swapped = token.slice(0, at) + String.fromCharCode(0x100 + token.charCodeAt(at)) + token.slice(at + 1);
    expect(Buffer.from(swapped.split('.').slice(0, 2).join('.'), 'latin1').equals(Buffer.from(token.split('.').slice(0, 2).join('.'), 'latin1'))).toBe(true);
    expect(reason(swapped)).toBe('signature');
  });

  test('JWT-14 a header that is a JSON array or not JSON is refused (malformed)', () => {
    expect(reason(mint(rsa, { rawHeader: `["RS256"]` }))).toBe('malformed');
    expect(reason(mint(rsa, { rawHeader: `{alg: RS256}` }))).toBe('malformed');
  });
});

describe('JWT-15 size', () => {
  test.each([
    ['16 kB', 16 * 1024],
    ['1 MB', 1024 * 1024],
  ])('JWT-15 a %s token is refused before any decoding or signature work (oversized)', (_name, size) => {
    const verifySpy = spyOnVerify();
    const token = mint(rsa, { claims: { padding: 'x'.repeat(size) } });
    expect(token.length).toBeGreaterThan(MAX_TOKEN_LENGTH);
    expect(reason(token)).toBe('oversized');
    expect(verifySpy).not.toHaveBeenCalled();
    verifySpy.mockRestore();
  });

  test('JWT-15 a header nested 10,000 levels deep is refused without parsing it (oversized)', () => {
    const token = mint(rsa, { rawHeader: '{"a":'.repeat(10_000) + '1' + '}'.repeat(10_000) });
    const parseSpy = jest.spyOn(JSON, 'parse');
    const result = reason(token);
    parseSpy.mockRestore();
    expect(result).toBe('oversized');
    expect(parseSpy).not.toHaveBeenCalled();
  });

  test('JWT-15 a header nested 100 levels deep that fits the size cap is refused (malformed)', () => {
    const nested = '['.repeat(100) + ']'.repeat(100);
    expect(reason(mint(rsa, { rawHeader: nested }))).toBe('malformed');
  });

  test('a token with 10,000 scopes is refused as oversized, without signature work', () => {
    const verifySpy = spyOnVerify();
    const scope = Array.from({ length: 10_000 }, (_, i) => `scope:${i}`).join(' ');
    expect(reason(mint(rsa, { claims: { scope } }))).toBe('oversized');
    expect(verifySpy).not.toHaveBeenCalled();
    verifySpy.mockRestore();
  });

  test('a token with 400 scopes under the size cap verifies and keeps every scope', () => {
    const scopes = ['mcp:tools', ...Array.from({ length: 399 }, (_, i) => `s:${i}`)];
    const result = verifyAccessToken(mint(rsa, { claims: { scope: scopes.join(' ') } }), rsaKeys, rsaConfig, NOW);
    expect(result.ok && result.claims.scopes).toEqual(scopes);
  });
});

describe('JWT-19 ES256 raw r||s signatures (verifier side)', () => {
  test('JWT-19 ES256 signatures whose r or s starts with a zero byte verify, and a DER signature is refused', () => {
    let leadingZero = 0;
    for (let i = 0; i < 4000 && leadingZero < 3; i++) {
      const token = mint(ec, { claims: { jti: `jti-${i}` } });
      const signature = Buffer.from(token.split('.')[2], 'base64url');
      expect(signature).toHaveLength(64);
      if (signature[0] === 0 || signature[32] === 0) {
        leadingZero++;
        expect(reason(token, 'ES256')).toBe('ok');
      }
    }
    expect(leadingZero).toBe(3);
    const input = signingInputFor(ec);
    const der = crypto.sign('sha256', Buffer.from(input), ec.privateKey).toString('base64url');
    expect(reason(`${input}.${der}`, 'ES256')).toBe('signature');
  });
});

describe('JWT-20 key rotation', () => {
  const oldKey = testKey('RS256', 'old');
  const newKey = testKey('RS256', 'new');
  const both = verificationKeys('RS256', newKey, oldKey);
  const newOnly = verificationKeys('RS256', newKey);
  const check = (token: string, keys = both) => {
    const result = verifyAccessToken(token, keys, rsaConfig, NOW);
    return result.ok ? 'ok' : result.reason;
  };

  test('JWT-20 a token signed by the old key is accepted while its kid is still published', () => {
    expect(check(mint(oldKey))).toBe('ok');
    expect(check(mint(newKey))).toBe('ok');
  });
  test('JWT-20 after the old kid is removed, its tokens are refused (kid)', () => {
    expect(check(mint(oldKey), newOnly)).toBe('kid');
  });
  test('JWT-20 the right kid signed by a different key is refused (signature)', () => {
    const signingInput = signingInputFor(newKey);
    expect(check(`${signingInput}.${signWith(oldKey, signingInput)}`)).toBe('signature');
  });
});

describe('well-known header lookup (hot path)', () => {
  const unpinned = { algorithm: 'RS256' as const, byKid: rsaKeys.byKid };
  const orders = [
    ['alg', 'typ', 'kid'],
    ['alg', 'kid', 'typ'],
    ['typ', 'alg', 'kid'],
    ['typ', 'kid', 'alg'],
    ['kid', 'alg', 'typ'],
    ['kid', 'typ', 'alg'],
  ];
  const members: Record<string, string> = { alg: 'RS256', typ: 'at+jwt', kid: rsa.kid };

  test.each(orders)('a header serialized as %s, %s, %s is found without decoding it', (...order) => {
    const rawHeader = `{${order.map((name) => `"${name}":"${members[name]}"`).join(',')}}`;
    const parseSpy = jest.spyOn(JSON, 'parse');
    const token = mint(rsa, { rawHeader });
    parseSpy.mockClear();
    const result = verifyAccessToken(token, rsaKeys, rsaConfig, NOW);
    const parses = parseSpy.mock.calls.length;
    parseSpy.mockRestore();
    expect(result.ok).toBe(true);
    expect(parses).toBe(1);
  });

  test('any other header takes the strict parse and may still be valid', () => {
    const parseSpy = jest.spyOn(JSON, 'parse');
    const token = mint(rsa, { rawHeader: `{ "alg": "RS256", "typ": "AT+JWT", "kid": "${rsa.kid}" }` });
    parseSpy.mockClear();
    const result = verifyAccessToken(token, rsaKeys, rsaConfig, NOW);
    const parses = parseSpy.mock.calls.length;
    parseSpy.mockRestore();
    expect(result.ok).toBe(true);
    expect(parses).toBe(2);
  });

  test('the lookup never changes a result: pinned and unpinned keys agree on edited tokens', () => {
    const valid = mint(rsa);
    fc.assert(
      fc.property(fc.nat(), fc.constantFrom('', 'A', '.', '=', '+', ' ', 'x'), fc.nat({ max: 2 }), (at, text, cut) => {
        const position = at % (valid.length + 1);
        const token = valid.slice(0, position) + text + valid.slice(position + cut);
        expect(verifyAccessToken(token, rsaKeys, rsaConfig, NOW)).toEqual(verifyAccessToken(token, unpinned, rsaConfig, NOW));
      }),
      { numRuns: 1000 },
    );
  });
});

describe('signature length', () => {
  test('a signature of the wrong length for the key is refused without verifying (signature)', () => {
    const verifySpy = spyOnVerify();
    const shortSignature = crypto.randomBytes(128).toString('base64url');
    expect(reason(withSegment(mint(rsa), 2, shortSignature))).toBe('signature');
    expect(verifySpy).not.toHaveBeenCalled();
    verifySpy.mockRestore();
  });

  test.each([['RS256', rsa], ['ES256', ec]] as Array<['RS256' | 'ES256', TestKey]>)('%s: a signature over different bytes is refused (signature)', (alg, key) => {
    const other = mint(key, { claims: { sub: 'someone-else' } });
    const token = mint(key);
    expect(reason(withSegment(token, 2, other.split('.')[2]), alg)).toBe('signature');
  });
});
