import fc from 'fast-check';
import { OAuthError } from '../../lambda/shared/oauth-error';
import {
  applicationTypeAllows,
  hostForDisplay,
  inferApplicationType,
  isLoopbackRedirectUri,
  MAX_REDIRECT_URI_LENGTH,
  MAX_REDIRECT_URIS,
  redirectUriError,
  type RedirectUriPolicy,
  type RedirectUriRejectionReason,
  redirectUriMatches,
  validateRedirectUriForRegistration,
  validateRedirectUriList,
} from '../../lambda/shared/redirect-uri';
import { EXACT_MATCH_MUTANTS, LOOPBACK_MUTANTS } from '../support/redirect-uris';

const RUNS = { numRuns: 1000 };

function reasonFor(value: unknown, policy?: RedirectUriPolicy): RedirectUriRejectionReason | 'accepted' {
  const result = validateRedirectUriForRegistration(value, policy);
  return result.ok ? 'accepted' : result.reason;
}

describe('redirect URI registration policy', () => {
  test.each([
    ['https://claude.ai/api/mcp/auth_callback', 'https'],
    ['https://client.example/cb?foo=bar', 'https'],
    ['https://client.example:8443/cb', 'https'],
    ['https://xn--exmple-cua.com/cb', 'https'],
    ['http://127.0.0.1:33418', 'loopback'],
    ['http://127.0.0.1/cb', 'loopback'],
    ['http://[::1]:8080/cb', 'loopback'],
    ['http://localhost:3000/oauth/callback', 'loopback'],
    ['https://localhost/cb', 'loopback'],
    ['com.example.app:/oauth2redirect', 'private_use'],
    ['com.example.app://callback', 'private_use'],
  ])('accepts %s as %s', (uri, kind) => {
    expect(validateRedirectUriForRegistration(uri)).toEqual({ ok: true, uri, kind });
  });

  test('REG-01 redirect_uris missing, [] or null is refused as missing_redirect_uris', () => {
    for (const value of [undefined, null, []]) {
      expect(validateRedirectUriList(value)).toMatchObject({ ok: false, reason: 'missing_redirect_uris' });
    }
    expect(validateRedirectUriList('https://client.example/cb')).toMatchObject({ ok: false, reason: 'not_string' });
  });

  test('REG-02 a fragment is refused, even an empty one', () => {
    expect(reasonFor('https://c.example/cb#frag')).toBe('fragment');
    expect(reasonFor('https://c.example/cb#')).toBe('fragment');
    expect(reasonFor('http://127.0.0.1/cb#x')).toBe('fragment');
    expect(reasonFor('com.example.app:/cb#x')).toBe('fragment');
  });

  test('REG-03 dangerous schemes are refused whatever the case, leading spaces or embedded tabs', () => {
    for (const uri of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'java\nscript:alert(1)',
      '\u0000javascript:alert(1)',
      'data:text/html,<script>alert(1)</script>',
      'DATA:text/html;base64,PHNjcmlwdD4=',
      'vbscript:msgbox(1)',
      'file:///etc/passwd',
      'blob:https://client.example/uuid',
      'about:blank',
      'view-source:https://client.example/',
    ]) {
      expect([uri, reasonFor(uri)]).toEqual([uri, 'scheme']);
    }
    // Not dangerous by name, but still none of the accepted shapes.
    for (const uri of ['ftp://client.example/cb', 'ws://127.0.0.1/cb', 'mailto:a@client.example']) {
      expect(reasonFor(uri)).toBe('scheme');
    }
  });

  test('REG-04 plain http to a non-loopback host is refused', () => {
    expect(reasonFor('http://client.example/cb')).toBe('http_non_loopback');
    expect(reasonFor('http://10.0.0.1/cb')).toBe('http_non_loopback');
    expect(reasonFor('http://localhost./cb')).toBe('http_non_loopback');
  });

  test('REG-05 loopback look-alikes are refused', () => {
    expect(reasonFor('http://localhost:80@evil.example/cb')).toBe('userinfo');
    expect(reasonFor('http://127.0.0.1.evil.example/cb')).toBe('http_non_loopback');
    expect(reasonFor('http://localhost.evil.example/cb')).toBe('http_non_loopback');
    expect(reasonFor('http://127.0.0.1%2f@evil.example/')).toBe('userinfo');
    expect(reasonFor('http://[::1]@evil.example/')).toBe('userinfo');
    expect(reasonFor('https://localhost:80@evil.example/cb')).toBe('userinfo');
    // Other spellings of loopback are not the spellings the matcher trusts.
    for (const uri of ['http://127.1/cb', 'http://0x7f.1/cb', 'http://2130706433/cb', 'http://127.000.000.001/cb', 'http://[0:0:0:0:0:0:0:1]/cb', 'http://LOCALHOST/cb']) {
      expect([uri, reasonFor(uri)]).toEqual([uri, 'host']);
    }
  });

  test('REG-06 non-absolute forms and non-strings are refused', () => {
    expect(reasonFor('/cb')).toBe('relative');
    expect(reasonFor('//evil.example/cb')).toBe('relative');
    expect(reasonFor('cb')).toBe('relative');
    expect(reasonFor('')).toBe('empty');
    expect(reasonFor(123)).toBe('not_string');
    expect(reasonFor({})).toBe('not_string');
    expect(reasonFor(['https://client.example/cb'])).toBe('not_string');
    expect(reasonFor('https:client.example/cb')).toBe('host');
    expect(reasonFor('https:///cb')).toBe('host');
  });

  test('REG-07 wildcards are refused, and hosts outside a configured allowlist', () => {
    expect(reasonFor('https://*.example.com/cb')).toBe('wildcard');
    expect(reasonFor('https://client.example/*')).toBe('wildcard');
    expect(reasonFor('https://client.example/cb/.*')).toBe('wildcard');
    expect(reasonFor('https://client.example/(a|b)')).toBe('character');
    expect(reasonFor('https://client.example/cb?q=*')).toBe('accepted');

    const policy: RedirectUriPolicy = { allowedHosts: ['claude.ai', 'Client.Example', '127.0.0.1'] };
    expect(reasonFor('https://claude.ai/api/mcp/auth_callback', policy)).toBe('accepted');
    expect(reasonFor('https://client.example/cb', policy)).toBe('accepted');
    expect(reasonFor('http://127.0.0.1:5000/cb', policy)).toBe('accepted');
    expect(reasonFor('https://evil.example/cb', policy)).toBe('host_not_allowed');
    expect(reasonFor('https://claude.ai.evil.example/cb', policy)).toBe('host_not_allowed');
    expect(reasonFor('http://localhost:5000/cb', policy)).toBe('host_not_allowed');
  });

  test('REG-08 private-use schemes need a dot (reverse DNS) unless the operator lists them', () => {
    expect(reasonFor('myapp:/cb')).toBe('scheme');
    expect(reasonFor('cursor://anysphere.cursor-mcp/oauth/callback')).toBe('scheme');
    expect(reasonFor('com.example.app:/cb')).toBe('accepted');
    expect(reasonFor('.app:/cb')).toBe('relative');
    expect(reasonFor('app.:/cb')).toBe('scheme');
    expect(reasonFor('com..app:/cb')).toBe('scheme');
    expect(reasonFor('com.example.app:')).toBe('malformed');
    expect(reasonFor('Com.Example.App:/cb')).toBe('scheme');
    expect(reasonFor('com.example.app://user@host/cb')).toBe('userinfo');
    expect(reasonFor('cursor://anysphere.cursor-mcp/oauth/callback', { extraPrivateUseSchemes: ['cursor'] })).toBe('accepted');
    expect(reasonFor('com.example.app:/cb', { allowPrivateUseSchemes: false })).toBe('scheme');
  });

  test('refuses whitespace, controls, non-ASCII, backslashes and broken percent-encoding', () => {
    for (const uri of [
      'https://client.example/c b',
      'https://client.example/cb ',
      'https://client.example/cb\r\nSet-Cookie:x=1',
      'https://client.example/\u00a0cb',
      'https://client.example/c\u200db',
      'https://client.example\uff0fcb',
      'https://exämple.com/cb',
      'https://client.example\\@evil.example/cb',
      'https://client.example/<script>',
    ]) {
      expect([uri, reasonFor(uri)]).toEqual([uri, 'character']);
    }
    expect(reasonFor('https://client.example/%zz')).toBe('encoding');
    expect(reasonFor('https://client.example/cb%')).toBe('encoding');
  });

  test('refuses non-canonical hosts, bad ports and dot segments', () => {
    expect(reasonFor('https://Client.example/cb')).toBe('host');
    expect(reasonFor('https://ex%61mple.com/cb')).toBe('host');
    expect(reasonFor('https://client.example:/cb')).toBe('host');
    expect(reasonFor('https://client.example:65536/cb')).toBe('host');
    expect(reasonFor('https://client.example:8x/cb')).toBe('host');
    expect(reasonFor('https://[fe80::1%25eth0]/cb')).toBe('host');
    expect(reasonFor('HTTPS://client.example/cb')).toBe('scheme');
    expect(reasonFor('https://client.example/a/../cb')).toBe('path');
    expect(reasonFor('https://client.example/a/%2E%2e/cb')).toBe('path');
    expect(reasonFor('https://client.example/./cb')).toBe('path');
    expect(reasonFor('https://client.example/cb?next=../x')).toBe('accepted');
  });

  test(`caps a URI at ${MAX_REDIRECT_URI_LENGTH} characters and a client at ${MAX_REDIRECT_URIS} URIs`, () => {
    const base = 'https://client.example/';
    expect(reasonFor(base + 'a'.repeat(MAX_REDIRECT_URI_LENGTH - base.length))).toBe('accepted');
    expect(reasonFor(base + 'a'.repeat(MAX_REDIRECT_URI_LENGTH - base.length + 1))).toBe('too_long');
    const uris = (n: number) => Array.from({ length: n }, (_, i) => `https://client.example/cb${i}`);
    expect(validateRedirectUriList(uris(MAX_REDIRECT_URIS)).ok).toBe(true);
    expect(validateRedirectUriList(uris(MAX_REDIRECT_URIS + 1))).toMatchObject({ ok: false, reason: 'too_many' });
  });

  test('a list is refused by its first bad entry and keeps order without duplicates', () => {
    expect(validateRedirectUriList(['https://client.example/cb', 'http://client.example/cb'])).toMatchObject({ ok: false, reason: 'http_non_loopback' });
    const result = validateRedirectUriList(['https://b.example/cb', 'http://127.0.0.1/cb', 'https://b.example/cb']);
    expect(result.ok && result.uris.map((u) => u.uri)).toEqual(['https://b.example/cb', 'http://127.0.0.1/cb']);
  });

  test('the 400 invalid_redirect_uri never echoes the input (META-03)', () => {
    const canary = 'https://CANARY-7f3a.example/cb#frag';
    const rejection = validateRedirectUriForRegistration(canary);
    if (rejection.ok) throw new Error('expected a rejection');
    const error = redirectUriError(rejection);
    expect(error).toBeInstanceOf(OAuthError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_redirect_uri', reason: 'fragment' });
    expect(error.description).not.toContain('CANARY');
  });

  test('AS-22 web clients take https on non-loopback hosts only; native clients any accepted shape', () => {
    expect(applicationTypeAllows('web', 'https')).toBe(true);
    expect(applicationTypeAllows('web', 'loopback')).toBe(false);
    expect(applicationTypeAllows('web', 'private_use')).toBe(false);
    for (const kind of ['https', 'loopback', 'private_use'] as const) expect(applicationTypeAllows('native', kind)).toBe(true);
    expect(inferApplicationType(['https', 'https'])).toBe('web');
    expect(inferApplicationType(['https', 'loopback'])).toBe('native');
    expect(inferApplicationType(['private_use'])).toBe('native');
  });

  test('property: the validator never throws and answers only accepted shapes or a documented rejection', () => {
    const uriAlphabet = fc.constantFrom(...'aA0:/?#[]@!$&\'()*+,;=%-._~ \t\\\u00e4\u200d'.split(''), 'http://', 'https://', '127.0.0.1', 'localhost', '[::1]', '%2e', '..');
    const candidates = fc.oneof(
      fc.anything(),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ unit: uriAlphabet, maxLength: 30 }),
      fc.webUrl({ withFragments: true, withQueryParameters: true }),
    );
    fc.assert(
      fc.property(candidates, (value) => {
        const result = validateRedirectUriForRegistration(value);
        if (!result.ok) return typeof result.reason === 'string' && typeof result.description === 'string';
        const uri = result.uri;
        const scheme = uri.slice(0, uri.indexOf(':'));
        return (
          uri === value &&
          uri.length <= MAX_REDIRECT_URI_LENGTH &&
          /^[\x21-\x7e]+$/.test(uri) &&
          !uri.includes('#') &&
          !uri.includes('\\') &&
          (scheme === 'https' || (scheme === 'http' && result.kind === 'loopback') || (result.kind === 'private_use' && scheme.includes('.')))
        );
      }),
      RUNS,
    );
  });
});

describe('redirect URI matching', () => {
  const registered = 'https://client.example/cb';

  test('AS-10 the registered URI is returned for a byte-identical request', () => {
    expect(redirectUriMatches(['https://other.example/cb', registered], registered)).toBe(registered);
    expect(redirectUriMatches([], registered)).toBeUndefined();
  });

  test('AZR-03 exact-match mutants do not match', () => {
    // Surrounding spaces too: the matcher compares the parameter as received.
    for (const mutant of [...EXACT_MATCH_MUTANTS, 'https://client.example/cb ', ' https://client.example/cb']) {
      expect([mutant, redirectUriMatches([registered], mutant)]).toEqual([mutant, undefined]);
    }
  });

  test('AZR-04 a registered query must be repeated exactly', () => {
    const withQuery = 'https://c.example/cb?foo=bar';
    expect(redirectUriMatches([withQuery], withQuery)).toBe(withQuery);
    for (const mutant of ['https://c.example/cb?foo=bara', 'https://c.example/cb?foo=bar&bar=foo', 'https://c.example/cb?foo', 'https://c.example/cb', 'https://c.example/cb?bar=foo&foo=bar']) {
      expect(redirectUriMatches([withQuery], mutant)).toBeUndefined();
    }
  });

  test('AZR-06 loopback URIs match with any port and nothing else varied', () => {
    const loopback = 'http://127.0.0.1/cb';
    expect(redirectUriMatches([loopback], 'http://127.0.0.1:51004/cb')).toBe(loopback);
    expect(redirectUriMatches([loopback], 'http://127.0.0.1/cb')).toBe(loopback);
    expect(redirectUriMatches(['http://127.0.0.1:33418'], 'http://127.0.0.1:49152')).toBe('http://127.0.0.1:33418');
    expect(redirectUriMatches(['http://[::1]:8080/cb?x=1'], 'http://[::1]:9090/cb?x=1')).toBe('http://[::1]:8080/cb?x=1');
    expect(redirectUriMatches(['http://localhost/cb'], 'http://localhost:3000/cb')).toBe('http://localhost/cb');
    for (const mutant of [
      ...LOOPBACK_MUTANTS,
      'https://127.0.0.1:51004/cb',
      'http://127.0.0.1:/cb',
      'http://127.0.0.1:99999/cb',
      'http://127.0.0.1:+80/cb',
      'http://127.0.0.1:51004/cb#x',
    ]) {
      expect([mutant, redirectUriMatches([loopback], mutant)]).toEqual([mutant, undefined]);
    }
    // The port rule belongs to http loopback only.
    expect(redirectUriMatches(['https://127.0.0.1/cb'], 'https://127.0.0.1:51004/cb')).toBeUndefined();
    expect(redirectUriMatches(['https://client.example/cb'], 'https://client.example:8443/cb')).toBeUndefined();
  });

  test('AZR-07 userinfo tricks against a registered loopback URI do not match', () => {
    for (const registeredLoopback of ['http://localhost/cb', 'http://127.0.0.1/cb']) {
      for (const attack of ['http://localhost:80@evil.example/cb', 'http://127.0.0.1:8080@evil.example/cb', 'http://127.0.0.1@evil.example/cb']) {
        expect(redirectUriMatches([registeredLoopback], attack)).toBeUndefined();
      }
    }
  });

  test('AZR-08 traversal and double encoding do not match', () => {
    for (const attack of [
      'https://client.example/cb/%2e%2e/evil',
      'https://client.example/cb/%252E%252E/',
      'https://client.example/cb%2F%2E%2E%2F',
      'https://client.example/cb/..%2Fevil',
    ]) {
      expect(redirectUriMatches([registered], attack)).toBeUndefined();
    }
  });

  test('ROB-05 Unicode variants of a registered URI do not match', () => {
    const composed = 'https://client.example/caf\u00e9';
    const pairs: Array<[string, string]> = [
      [composed, composed.normalize('NFD')],
      ['https://client.example/cb', 'https://client.example/c\u200db'],
      ['https://client.example/a/b', 'https://client.example/a\uff0fb'],
      ['https://client.example/%C3%A4', 'https://client.example/\u00e4'],
      ['https://client.example/\u00e4', 'https://client.example/%C3%A4'],
    ];
    for (const [stored, requested] of pairs) {
      expect(redirectUriMatches([stored], requested)).toBeUndefined();
      expect(redirectUriMatches([requested], stored)).toBeUndefined();
    }
  });

  test('ROB-06 IDN and punycode spellings do not match, and the consent page shows punycode', () => {
    const ascii = 'https://xn--exmple-cua.com/cb';
    const unicode = 'https://ex\u00e4mple.com/cb';
    expect(redirectUriMatches([ascii], unicode)).toBeUndefined();
    expect(redirectUriMatches([unicode], ascii)).toBeUndefined();
    expect(hostForDisplay(unicode)).toBe('xn--exmple-cua.com');
    expect(hostForDisplay(ascii)).toBe('xn--exmple-cua.com');
    expect(hostForDisplay('https://\u0430pple.com/cb')).toBe('xn--pple-43d.com');
    expect(hostForDisplay('http://[::1]:3000/cb')).toBe('[::1]');
    expect(hostForDisplay('com.example.app:/cb')).toBeUndefined();
    expect(hostForDisplay('not a uri')).toBeUndefined();
  });

  test('CIMD-8 loopback redirect URIs are recognised for the consent warning', () => {
    expect(isLoopbackRedirectUri('http://127.0.0.1:33418')).toBe(true);
    expect(isLoopbackRedirectUri('http://localhost/cb')).toBe(true);
    expect(isLoopbackRedirectUri('http://[::1]/cb')).toBe(true);
    expect(isLoopbackRedirectUri('https://claude.ai/api/mcp/auth_callback')).toBe(false);
    expect(isLoopbackRedirectUri('com.example.app:/cb')).toBe(false);
  });

  /** An independent oracle for the loopback rule: a regex, where the implementation splits by hand. */
  const LOOPBACK_ORACLE = /^http:\/\/(127\.0\.0\.1|\[::1\]|localhost)(?::(\d{1,5}))?([/?#][^]*)?$/;
  function sameExceptLoopbackPort(a: string, b: string): boolean {
    const [ma, mb] = [LOOPBACK_ORACLE.exec(a), LOOPBACK_ORACLE.exec(b)];
    if (!ma || !mb) return false;
    const portOk = (m: RegExpExecArray) => m[2] === undefined || Number(m[2]) <= 65535;
    return portOk(ma) && portOk(mb) && ma[1] === mb[1] && (ma[3] ?? '') === (mb[3] ?? '');
  }

  // Weighted towards http loopback URIs, where the one exception to byte equality lives.
  const urlish = fc.oneof(
    { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 1 },
    { arbitrary: fc.webUrl({ withFragments: true, withQueryParameters: true }), weight: 1 },
    {
      weight: 4,
      arbitrary: fc
        .tuple(
          fc.constantFrom('http://', 'http://', 'http://', 'HTTP://', 'https://', 'http:/'),
          fc.constantFrom('127.0.0.1', '[::1]', 'localhost', '127.0.0.1', '[::1]', 'localhost', '127.0.0.2', 'localhost.', 'evil.example', 'localhost@evil.example'),
          fc.option(fc.oneof(fc.integer({ min: 0, max: 70000 }).map(String), fc.constantFrom('', '+1', '08a'))),
          fc.constantFrom('', '/', '/cb', '/cb/', '/CB', '/cb?x=1', '/cb#f', '?q', '/x/../cb'),
        )
        .map(([scheme, host, port, rest]) => `${scheme}${host}${port === null ? '' : ':' + port}${rest}`),
    },
  );

  /** Near misses of `uri`: the spellings a lenient matcher would confuse with it. */
  const nearMiss = (uri: string) =>
    fc.oneof(
      fc.constant(uri),
      fc.constant(uri.toUpperCase()),
      fc.constant(uri.normalize('NFD')),
      fc.constant(uri + '/'),
      fc.constant(uri.replace(/:\d+/, '')),
      fc.constantFrom('127.0.0.1', '[::1]', 'localhost', '127.0.0.01').map((host) => uri.replace(/127\.0\.0\.1|\[::1\]|localhost/, host)),
      fc.integer({ min: 0, max: 70000 }).map((port) => uri.replace(/^([a-zA-Z]+:\/\/(?:\[[^\]]*\]|[^/:?#]*))(:\d*)?/, `$1:${port}`)),
      fc.nat().map((i) => {
        const at = i % (uri.length || 1);
        const c = uri.charAt(at);
        const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
        return uri.slice(0, at) + flipped + uri.slice(at + 1);
      }),
      fc.nat().map((i) => {
        const at = i % (uri.length || 1);
        return uri.slice(0, at) + '%' + uri.charCodeAt(at).toString(16).padStart(2, '0') + uri.slice(at + 1);
      }),
      fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 2 })).map(([i, insert]) => {
        const at = i % (uri.length + 1);
        return uri.slice(0, at) + insert + uri.slice(at);
      }),
    );
  const registeredAndRequested = fc
    .array(urlish, { minLength: 1, maxLength: 4 })
    .chain((uris) => fc.tuple(fc.constant(uris), fc.oneof(urlish, fc.constantFrom(...uris).chain(nearMiss))));

  test('property ROB-05: byte-equal strings are the only match, apart from the loopback port rule', () => {
    fc.assert(
      fc.property(registeredAndRequested, ([registeredUris, requested]) => {
        const match = redirectUriMatches(registeredUris, requested);
        const expected = registeredUris.find((uri) => uri === requested) ?? registeredUris.find((uri) => sameExceptLoopbackPort(uri, requested));
        return match === expected;
      }),
      RUNS,
    );
  });

  test('property AZR-06: a registered loopback URI matches itself on every port', () => {
    const loopbackUri = fc.tuple(
      fc.constantFrom('127.0.0.1', '[::1]', 'localhost'),
      fc.option(fc.integer({ min: 1, max: 65535 })),
      fc.option(fc.integer({ min: 1, max: 65535 })),
      fc.stringMatching(/^(\/[a-z0-9_.~-]{0,8}){0,3}(\?[a-z0-9=&]{0,10})?$/),
    );
    fc.assert(
      fc.property(loopbackUri, ([host, registeredPort, requestedPort, rest]) => {
        const uri = (port: number | null) => `http://${host}${port === null ? '' : ':' + port}${rest}`;
        return redirectUriMatches([uri(registeredPort)], uri(requestedPort)) === uri(registeredPort);
      }),
      RUNS,
    );
  });

  test('property AZR-03: any one-character change to a registered https URI stops it matching', () => {
    fc.assert(
      fc.property(
        fc.webUrl({ validSchemes: ['https'], withQueryParameters: true }),
        fc.nat(),
        fc.string({ unit: 'binary', minLength: 1, maxLength: 2 }),
        (uri, index, replacement) => {
          const at = index % uri.length;
          const mutated = uri.slice(0, at) + replacement + uri.slice(at + 1);
          fc.pre(mutated !== uri);
          return redirectUriMatches([uri], mutated) === undefined;
        },
      ),
      RUNS,
    );
  });

  test('ROB-08 100 KB adversarial URIs are handled in linear time (< 50 ms each)', () => {
    const size = 100 * 1024;
    const inputs = [
      'http://' + 'a'.repeat(size),
      'https://client.example/' + '%'.repeat(size),
      'http://127.0.0.1:' + '1'.repeat(size),
      'http://[' + ':'.repeat(size),
      'http://' + '['.repeat(size),
      'a:'.repeat(size / 2),
      ' '.repeat(size) + 'javascript:',
      'https://client.example/' + '/..'.repeat(size / 3),
      'https://client.example/' + '%2e'.repeat(size / 3) + '/',
      'com.example.app:' + '/'.repeat(size),
      'https://' + 'a.'.repeat(size / 2) + 'example/cb',
      'http://localhost' + ':1'.repeat(size / 2),
    ];
    const registered = [inputs[0], 'http://127.0.0.1/' + 'x'.repeat(size), 'http://localhost/' + 'a'.repeat(size)];
    const operations: Array<[string, (input: string) => unknown]> = [
      ['validate', (input) => validateRedirectUriForRegistration(input)],
      ['match', (input) => redirectUriMatches(registered, input)],
      ['hostForDisplay', (input) => hostForDisplay(input)],
      ['isLoopback', (input) => isLoopbackRedirectUri(input)],
    ];
    for (const [name, operation] of operations) {
      operation('https://warm.example/up');
      for (const input of inputs) {
        // Best of three, so a GC pause on this shared machine cannot fail the test; super-linear
        // behaviour on 100 KB takes seconds and still fails it.
        const timings = [0, 1, 2].map(() => {
          const start = performance.now();
          operation(input);
          return performance.now() - start;
        });
        expect([name, input.slice(0, 24), Math.min(...timings) < 50]).toEqual([name, input.slice(0, 24), true]);
      }
    }
  });
});
