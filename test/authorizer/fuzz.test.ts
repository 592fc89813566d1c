import fc from 'fast-check';
import { createAuthorizerHandler, UNAUTHORIZED } from '../../lambda/authorizer/handler';
import { accessTokenClaims, authorizerRoutes, authorizerEvent, b64url, mint, NOW, signWith, testKey, verificationKeys, type EventOptions } from '../support/tokens';

// JWT-14: structure fuzzing. The only acceptable outcomes are an Allow for the untouched token, a Deny
// for a scope, or the 401 path (a thrown "Unauthorized"); any other throw would be a 500 from API Gateway.

const rsa = testKey('RS256');
const ec = testKey('ES256');

function handlerFor(alg: 'RS256' | 'ES256') {
  const keys = alg === 'RS256' ? verificationKeys('RS256', rsa) : verificationKeys('ES256', ec);
  return createAuthorizerHandler({
    config: authorizerRoutes(alg === 'ES256' ? { SIGNING_ALGORITHM: 'ES256' } : {}),
    keys: async () => keys,
    clock: () => NOW,
    auditSink: () => undefined,
  });
}

type Outcome = 'allow' | 'deny' | 'unauthorized';

async function outcomeOf(handler: ReturnType<typeof handlerFor>, options: EventOptions): Promise<Outcome> {
  try {
    const result = await handler(authorizerEvent(options));
    return (result.policyDocument.Statement[0] as { Effect: string }).Effect === 'Allow' ? 'allow' : 'deny';
  } catch (error) {
    // Anything but exactly this error would reach the client as a 500.
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toBe(UNAUTHORIZED);
    return 'unauthorized';
  }
}

const NOISE = ['.', '=', '+', '/', ' ', '\n', '\t', '\0', 'A', 'a', '-', '_', '{', '"', 'é', '\u{1F600}', '%2E'];

/** One edit of a token: replace, insert or delete a character, or flip one bit of one character. */
const edit = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NOISE), fc.string({ minLength: 1, maxLength: 3 })) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.constantFrom(...NOISE), fc.string({ minLength: 1, maxLength: 3 })) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), text: fc.constant('') }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), text: fc.constant('') }),
);

function applyEdit(token: string, change: { kind: string; at: number; text: string }): string {
  const at = change.at % (token.length + 1);
  switch (change.kind) {
    case 'replace':
      return token.slice(0, at) + change.text + token.slice(at + 1);
    case 'insert':
      return token.slice(0, at) + change.text + token.slice(at);
    case 'delete':
      return token.slice(0, at) + token.slice(at + 1);
    default: {
      const index = Math.min(at, token.length - 1);
      return token.slice(0, index) + String.fromCharCode(token.charCodeAt(index) ^ 1) + token.slice(index + 1);
    }
  }
}

describe.each(['RS256', 'ES256'] as const)('JWT-14 structure fuzz (%s)', (alg) => {
  const handler = handlerFor(alg);
  const valid = mint(alg === 'RS256' ? rsa : ec);

  test('JWT-14 any edit of a valid token gives 401, never a 500, and never an Allow', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(edit, { minLength: 1, maxLength: 4 }), async (edits) => {
        const token = edits.reduce(applyEdit, valid);
        const result = await outcomeOf(handler, { authorization: `Bearer ${token}` });
        expect(result).toBe(token === valid ? 'allow' : 'unauthorized');
      }),
      { numRuns: 1500 },
    );
  });

  test('JWT-14 arbitrary Authorization values give 401, never a 500', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc.string({ maxLength: 200 }).map((text) => `Bearer ${text}`),
          fc.array(fc.base64String({ maxLength: 60 }), { minLength: 1, maxLength: 6 }).map((parts) => `Bearer ${parts.join('.')}`),
        ),
        async (authorization) => {
          expect(await outcomeOf(handler, { authorization })).toBe('unauthorized');
        },
      ),
      { numRuns: 1500 },
    );
  });
});

describe('JWT-14 signed garbage', () => {
  const handler = handlerFor('ES256');

  test('JWT-14 correctly signed tokens with arbitrary JSON headers and payloads never pass and never crash', async () => {
    const headerArb = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(fc.constantFrom('alg', 'typ', 'kid', 'crit', 'jku', 'b64', 'cty', 'zip'), fc.jsonValue({ maxDepth: 2 })),
      fc.record({ alg: fc.constant('ES256'), typ: fc.constant('at+jwt'), kid: fc.constant(ec.kid), extra: fc.jsonValue({ maxDepth: 1 }) }),
    );
    const payloadArb = fc.oneof(
      fc.jsonValue({ maxDepth: 3 }),
      fc.dictionary(fc.constantFrom('iss', 'aud', 'sub', 'client_id', 'scope', 'iat', 'exp', 'nbf', 'jti'), fc.jsonValue({ maxDepth: 1 })),
    );
    await fc.assert(
      fc.asyncProperty(headerArb, payloadArb, async (header, payload) => {
        const input = `${b64url(JSON.stringify(header) ?? 'null')}.${b64url(JSON.stringify(payload) ?? 'null')}`;
        expect(await outcomeOf(handler, { authorization: `Bearer ${input}.${signWith(ec, input)}` })).toBe('unauthorized');
      }),
      { numRuns: 1000 },
    );
  });

  test('JWT-14 a valid token with arbitrary MCP headers is allowed or denied for scope, never crashes', async () => {
    const token = `Bearer ${mint(ec, { claims: accessTokenClaims({ scope: 'mcp:tools' }) })}`;
    const headerValue = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('2026-07-28', '2025-11-25', 'tools/call', 'admin_stats', '=?base64?YWRtaW5fc3RhdHM=?=', '=?base64?@@?='));
    await fc.assert(
      fc.asyncProperty(
        fc.dictionary(fc.constantFrom('MCP-Protocol-Version', 'Mcp-Method', 'Mcp-Name', 'mcp-name', 'Origin'), fc.oneof(headerValue, fc.array(headerValue, { maxLength: 3 }))),
        async (headers) => {
          expect(['allow', 'deny']).toContain(await outcomeOf(handler, { authorization: token, headers }));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
