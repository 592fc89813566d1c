import fc from 'fast-check';
import { formatScopes, isScopeToken, parseScopeParameter } from '../../lib/scopes';
import { presentedClient } from '../../lambda/token/client-authentication';
import { cacheLifetimeSeconds, isClientIdMetadataUrl, parseClientIdMetadataUrl } from '../../lambda/shared/cimd';
import { FormParameters, parseForm, parseJsonObject, parseUrlEncoded } from '../../lambda/shared/http';
import { OAuthError } from '../../lambda/shared/oauth-error';
import { isPkceValue, s256Challenge } from '../../lambda/shared/pkce';
import { parseRefreshToken } from '../../lambda/token/issuance';
import { readCookie } from '../../lambda/authorize/cookies';
import { proxyEvent } from '../support/harness';

/**
 * Properties of every parser and validator on the request path that had none (catalogue J, C;
 * redirect URIs, client metadata, JWTs and MCP headers have theirs next to their unit tests).
 * Each property runs at least 1,000 times; a failure prints the shrunk counterexample.
 */

const RUNS = { numRuns: 1000 };

/** Unicode text without lone surrogates (what a UTF-8 request can carry), plus the characters parsers care about. */
const text = (maxLength = 40) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom('a', '=', '&', '%', '+', ' ', '[', ']', '\0', '\ufeff', '2', 'F', 'z', '.', ':', ';', '"'), maxLength }),
  );

/** A refusal is always our OAuthError, 4xx, with an RFC 6749 error code: never a TypeError or a 5xx. */
function isClientError(error: unknown, codes: readonly string[]): boolean {
  return error instanceof OAuthError && error.status >= 400 && error.status < 500 && codes.includes(error.error);
}

describe('form bodies (application/x-www-form-urlencoded)', () => {
  const safeKey = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((k) => !/[[\]\0]/.test(k));
  const safeValue = fc.string({ unit: 'binary', maxLength: 30 }).filter((v) => !v.includes('\0'));

  test('ROB-02 property: any encoded parameter set parses back to exactly its strings (no coercion, empty = omitted)', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(safeKey, safeValue), { maxLength: 32, selector: ([key]) => key }), (pairs) => {
        const form = parseUrlEncoded(new URLSearchParams(pairs).toString());
        for (const [key, value] of pairs) {
          expect(form.sent(key)).toBe(true);
          expect(form.get(key)).toBe(value === '' ? undefined : value);
        }
      }),
      RUNS,
    );
  });

  test('ROB-02 property: any text either parses or is a 400 invalid_request; repeats, arrays, NUL and bad escapes never parse', () => {
    fc.assert(
      fc.property(text(60), (body) => {
        let form: FormParameters | undefined;
        try {
          form = parseUrlEncoded(body);
        } catch (error) {
          expect(isClientError(error, ['invalid_request'])).toBe(true);
        }
        const keys = [...new URLSearchParams(body).keys()];
        const mustRefuse =
          /%(?![0-9A-Fa-f]{2})/.test(body) ||
          new Set(keys).size !== keys.length ||
          keys.length > 32 ||
          keys.some((key) => /[[\]\0]/.test(key)) ||
          [...new URLSearchParams(body).values()].some((value) => value.includes('\0'));
        expect(form === undefined).toBe(mustRefuse);
      }),
      { numRuns: 2000 },
    );
  });

  test('ROB-01 property: any body under any Content-Type parses only as UTF-8 form, else 400/413 invalid_request', () => {
    const contentType = fc.oneof(
      fc.constantFrom('application/x-www-form-urlencoded', 'application/x-www-form-urlencoded; charset=utf-8', 'APPLICATION/X-WWW-FORM-URLENCODED', 'application/x-www-form-urlencoded; charset=ISO-8859-1', 'application/json', 'multipart/form-data', 'text/plain'),
      text(40),
    );
    fc.assert(
      fc.property(fc.option(contentType), fc.oneof(text(80), fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b).toString('base64'))), fc.boolean(), (type, body, base64) => {
        const event = proxyEvent({ method: 'POST', path: '/token', headers: type === null ? {} : { 'content-type': type }, body });
        event.isBase64Encoded = base64;
        try {
          const form = parseForm(event);
          expect(type?.toLowerCase().split(';')[0].trim()).toBe('application/x-www-form-urlencoded');
          expect(form).toBeInstanceOf(FormParameters);
        } catch (error) {
          expect(isClientError(error, ['invalid_request'])).toBe(true);
        }
      }),
      RUNS,
    );
  });
});

describe('JSON bodies (application/json)', () => {
  const polluting = ['__proto__', 'constructor', 'prototype'];
  const hasPollutingKey = (value: unknown): boolean =>
    typeof value === 'object' && value !== null && Object.keys(value).some((key) => polluting.includes(key) || hasPollutingKey((value as Record<string, unknown>)[key]));

  test('REG-14 property: any body is a plain object without prototype-polluting keys, or a 4xx with the endpoint\'s error code', () => {
    const body = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
      fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'prototype', 'redirect_uris', 'a'), fc.jsonValue({ maxDepth: 2 })).map((value) =>
        // JSON.stringify drops an own "__proto__" created by fc.dictionary: write the text by hand.
        `{${Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`,
      ),
      text(60),
    );
    const contentType = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'text/plain', 'application/x-www-form-urlencoded');
    fc.assert(
      fc.property(body, contentType, (raw, type) => {
        const event = proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': type }, body: raw });
        try {
          const parsed = parseJsonObject(event, 'invalid_client_metadata');
          expect(Object.getPrototypeOf(parsed)).toBe(Object.prototype);
          expect(Array.isArray(parsed)).toBe(false);
          expect(hasPollutingKey(parsed)).toBe(false);
        } catch (error) {
          expect(isClientError(error, ['invalid_client_metadata', 'invalid_request'])).toBe(true);
        }
        expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
      }),
      { numRuns: 2000 },
    );
  });

  test('REG-16 property: a JSON object round-trips unchanged apart from the dropped polluting keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 8 }).filter((key) => !polluting.includes(key)), fc.jsonValue({ maxDepth: 2 })), (value) => {
        fc.pre(!hasPollutingKey(value));
        const event = proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify(value) });
        expect(parseJsonObject(event, 'invalid_client_metadata')).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      RUNS,
    );
  });
});

describe('scopes (RFC 6749 §3.3)', () => {
  const scopeChar = fc.constantFrom('m', 'c', 'p', ':', 't', 'o', 'l', 's', '_', ' ', '"', '\\', '\t', '\u00e9', '\x7f', '!', '~');

  // Known and hostile tokens, repeated and unevenly spaced.
  const tokenList = fc
    .array(fc.tuple(fc.constantFrom('mcp:tools', 'mcp:admin', 'offline_access', 'a"b', 'x\\y', 'é'), fc.constantFrom(' ', '  ', '\t ')), { maxLength: 6 })
    .map((parts) => parts.map(([token, space]) => token + space).join(''));

  test('AZR-15 property: a scope parameter parses iff every space-separated token fits the grammar; order and spacing do not matter', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: scopeChar, maxLength: 40 }), text(40), tokenList), (raw) => {
        const tokens = raw.split(' ').filter((token) => token.length > 0);
        const valid = tokens.every((token) => token.length <= 128 && [...token].every((ch) => ch >= '\x21' && ch <= '\x7e' && ch !== '"' && ch !== '\\'));
        const parsed = parseScopeParameter(raw);
        if (!valid) return expect(parsed).toBeUndefined();
        expect(parsed).toEqual([...new Set(tokens)]);
        expect(parsed!.every(isScopeToken)).toBe(true);
        // Reversed, with extra spaces: the same set.
        expect(formatScopes(parseScopeParameter(`  ${[...tokens].reverse().join('   ')} `)!)).toBe(formatScopes(parsed!));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('PKCE (RFC 7636)', () => {
  const UNRESERVED = /^[A-Za-z0-9._~-]{43,128}$/;
  const verifier = fc.stringMatching(UNRESERVED);

  test('PKCE-11 property (10,000 runs): S256(v) is a valid challenge that v satisfies and no other verifier does', () => {
    fc.assert(
      fc.property(verifier, verifier, fc.nat(), fc.constantFrom(...'ABCxyz019-._~'), (v, other, index, replacement) => {
        expect(isPkceValue(v)).toBe(true);
        const challenge = s256Challenge(v);
        expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(isPkceValue(challenge)).toBe(true);
        expect(s256Challenge(v)).toBe(challenge);
        // Any other verifier fails: an unrelated one, and a one-character mutation of v.
        if (other !== v) expect(s256Challenge(other)).not.toBe(challenge);
        const at = index % v.length;
        const mutated = v.slice(0, at) + replacement + v.slice(at + 1);
        if (mutated !== v) expect(s256Challenge(mutated)).not.toBe(challenge);
      }),
      { numRuns: 10_000 },
    );
  });

  /** A valid verifier with one character replaced by one outside the ABNF. */
  const oneCharacterOff = fc
    .tuple(verifier, fc.nat(), fc.constantFrom('+', '/', '=', ' ', '%', '\u00e9', '\n', '\0', '!'))
    .map(([v, i, c]) => v.slice(0, i % v.length) + c + v.slice((i % v.length) + 1));
  const offByOneLength = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._~-]{42}$/), fc.stringMatching(/^[A-Za-z0-9._~-]{129}$/));

  test('PKCE-08 property: isPkceValue accepts exactly 43–128 unreserved characters', () => {
    fc.assert(
      fc.property(fc.oneof(verifier, oneCharacterOff, offByOneLength, text(140)), (value) => {
        expect(isPkceValue(value)).toBe(UNRESERVED.test(value));
      }),
      RUNS,
    );
  });
});

describe('client authentication (client_secret_basic / _post / none)', () => {
  const id = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
  const secret = fc.string({ unit: 'binary', maxLength: 60 });
  const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');

  test('CAUTH-05 property: any RFC 6749 §2.3.1 Basic header decodes to exactly its id and secret', () => {
    fc.assert(
      fc.property(id, secret, fc.boolean(), (clientId, clientSecret, plusForSpace) => {
        const encode = plusForSpace ? formEncode : encodeURIComponent;
        const header = `Basic ${Buffer.from(`${encode(clientId)}:${encode(clientSecret)}`).toString('base64')}`;
        expect(presentedClient(FormParameters.of({}), header)).toEqual({ clientId, method: 'client_secret_basic', secret: clientSecret });
      }),
      RUNS,
    );
  });

  test('CAUTH-02 CAUTH-05 CAUTH-06 property: any header and form give one mechanism or a 400/401, never another error', () => {
    const header = fc.oneof(
      text(60),
      fc.tuple(fc.constantFrom('Basic ', 'basic ', 'Basic  ', 'Bearer ', ''), fc.oneof(fc.base64String({ maxLength: 60 }), text(40))).map(([scheme, rest]) => scheme + rest),
      fc.tuple(text(20), text(20)).map(([a, b]) => `Basic ${Buffer.from(`${a}:${b}`).toString('base64')}`),
    );
    const form = fc.dictionary(fc.constantFrom('client_id', 'client_secret'), fc.oneof(text(20), fc.constant('')));
    fc.assert(
      fc.property(fc.option(header, { nil: undefined }), form, (authorization, fields) => {
        const params = FormParameters.of(fields);
        try {
          const presented = presentedClient(params, authorization);
          // One mechanism only, and a form client_id never contradicts the authenticated one.
          if (authorization !== undefined) {
            expect(presented.method).toBe('client_secret_basic');
            expect(params.sent('client_secret')).toBe(false);
            if (params.get('client_id') !== undefined) expect(params.get('client_id')).toBe(presented.clientId);
          } else {
            expect(presented.clientId).toBe(params.get('client_id'));
            expect(presented.method).toBe(params.sent('client_secret') ? 'client_secret_post' : 'none');
          }
        } catch (error) {
          expect(isClientError(error, ['invalid_client', 'invalid_request'])).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('opaque values we issue', () => {
  const b64url43 = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);

  test('RT-04 property: a refresh token parses only as <43 base64url>.<43 base64url>, naming its grant', () => {
    fc.assert(
      fc.property(fc.oneof(fc.tuple(b64url43, b64url43).map(([a, b]) => `${a}.${b}`), text(100), fc.tuple(b64url43, text(50)).map(([a, b]) => `${a}.${b}`)), (token) => {
        const parsed = parseRefreshToken(token);
        const shape = /^([A-Za-z0-9_-]{43})\.[A-Za-z0-9_-]{43}$/.exec(token);
        expect(parsed).toEqual(shape ? { grantId: shape[1] } : undefined);
      }),
      RUNS,
    );
  });

  test('CONS-06 property: a cookie of ours is read only when present exactly once with a 43-character base64url value', () => {
    const name = '__Host-mcp-authz-0123456789abcdef';
    const pair = fc.oneof(
      b64url43.map((value) => `${name}=${value}`),
      text(50).map((value) => `${name}=${value}`),
      fc.tuple(fc.string({ maxLength: 10 }), text(20)).map(([n, v]) => `${n}=${v}`),
      text(30),
    );
    fc.assert(
      fc.property(fc.array(pair, { maxLength: 6 }), fc.constantFrom('; ', ';', ' ; '), (pairs, separator) => {
        const event = proxyEvent({ method: 'GET', path: '/consent', headers: { cookie: pairs.join(separator) } });
        const values = pairs
          .flatMap((p) => p.split(';'))
          .filter((p) => p.includes('=') && p.slice(0, p.indexOf('=')).trim() === name)
          .map((p) => p.slice(p.indexOf('=') + 1).trim());
        const expected = values.length === 1 && /^[A-Za-z0-9_-]{43}$/.test(values[0]) ? values[0] : undefined;
        expect(readCookie(event, name)).toBe(expected);
      }),
      RUNS,
    );
  });
});

describe('Client ID Metadata Document inputs (SSRF surface)', () => {
  test('SSRF-04 property: an accepted metadata URL is https, absolute, in WHATWG form, with a path and no fragment, userinfo or dot segment', () => {
    const url = fc.oneof(
      fc.webUrl({ withFragments: true, withQueryParameters: true }),
      fc.tuple(fc.constantFrom('https://', 'http://', 'HTTPS://', 'https://u:p@', 'https:///'), fc.webUrl().map((u) => u.replace(/^https?:\/\//, '')), fc.constantFrom('', '/.', '/..', '/%2e', '#x', '/c.json')).map((parts) => parts.join('')),
      text(60),
    );
    fc.assert(
      fc.property(url, (candidate) => {
        const parsed = parseClientIdMetadataUrl(candidate);
        expect(isClientIdMetadataUrl(candidate)).toBe(parsed !== undefined);
        if (!parsed) return;
        expect(parsed.protocol).toBe('https:');
        expect(parsed.href).toBe(candidate);
        expect(parsed.pathname.length).toBeGreaterThan(1);
        expect(candidate).not.toContain('#');
        expect(parsed.username + parsed.password).toBe('');
        expect(parsed.pathname.split('/').some((segment) => ['.', '..'].includes(segment.replace(/%2e/gi, '.')))).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  test('SSRF-05 property: any Cache-Control header gives a lifetime within [30 s, 1 day]', () => {
    const header = fc.oneof(
      text(40),
      fc.tuple(fc.constantFrom('max-age=', 'max-age="', 's-maxage=', 'no-store, max-age=', 'MAX-AGE='), fc.oneof(fc.integer().map(String), fc.bigInt().map(String), text(10))).map(([a, b]) => a + b),
    );
    fc.assert(
      fc.property(fc.option(header, { nil: undefined }), (value) => {
        const lifetime = cacheLifetimeSeconds(value);
        expect(Number.isFinite(lifetime)).toBe(true);
        expect(lifetime).toBeGreaterThanOrEqual(30);
        expect(lifetime).toBeLessThanOrEqual(86_400);
      }),
      RUNS,
    );
  });
});
