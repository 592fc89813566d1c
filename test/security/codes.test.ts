import { issueCode } from '../../lambda/authorize/issue-code';
import type { AuthorizeDeps } from '../../lambda/authorize/deps';
import { sha256 } from '../../lambda/shared/crypto';
import type { CodeRecord } from '../../lambda/shared/code-store';
import { AuthorizeFixture, authorizationParams, errorResponse, locationQuery, UserAgent } from '../support/authorize-fixture';
import { REDIRECT, seedClient } from '../support/token-fixtures';
import { databaseImage } from '../support/security-probes';

/** Authorization code issuance and PKCE binding (catalogue C, D). */

const fixture = new AuthorizeFixture();
beforeAll(() => fixture.start(), 60_000);
afterAll(() => fixture.stop());
beforeEach(() => fixture.audit.clear());

test('CODE-08 1,000 issued codes: unique, URL-safe, 256 random bits each, stored only as their hash', async () => {
  const stored: CodeRecord[] = [];
  // The callback's issuance step itself, with a store that keeps what it is given.
  const deps = {
    config: fixture.config,
    stores: { codes: { create: async (record: CodeRecord) => (stored.push(record), true) }, clients: { markUsed: async () => undefined } },
    clock: fixture.clock.fn,
    audit: () => undefined,
  } as unknown as AuthorizeDeps;
  const request = { clientId: 'c'.repeat(22), redirectUri: REDIRECT, registeredRedirectUri: REDIRECT, codeChallenge: 'x'.repeat(43), resource: fixture.config.servers.defaultServer!.resource, scope: 'mcp:tools' };
  const client = { clientId: request.clientId, redirectUris: [REDIRECT], grantTypes: ['authorization_code'], responseTypes: ['code'], source: 'registered', unused: false } as const;
  const codes: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const result = await issueCode(request, { sub: 'alice', grantedScope: 'mcp:tools' }, client, deps);
    codes.push(locationQuery(result).get('code')!);
  }

  expect(new Set(codes).size).toBe(1000);
  for (const code of codes) expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
  expect(stored.map((record) => record.codeHash)).toEqual(codes.map((code) => sha256(code)));
  expect(JSON.stringify(stored)).not.toContain(codes[0]);

  // Every code decodes to 32 bytes whose bits are balanced: 256 bits, not a padded shorter secret.
  const bytes = codes.map((code) => Buffer.from(code, 'base64url'));
  for (const decoded of bytes) expect(decoded).toHaveLength(32);
  let ones = 0;
  for (const decoded of bytes) for (const byte of decoded) ones += byte.toString(2).replace(/0/g, '').length;
  expect(Math.abs(ones / (1000 * 256) - 0.5)).toBeLessThan(0.01);
  // Shannon estimate over the characters actually used: about 6 bits per character, > 96 bits per code.
  const counts = new Map<string, number>();
  for (const code of codes) for (const character of code.slice(0, 42)) counts.set(character, (counts.get(character) ?? 0) + 1);
  const total = 1000 * 42;
  const bitsPerCharacter = -[...counts.values()].reduce((sum, count) => sum + (count / total) * Math.log2(count / total), 0);
  expect(bitsPerCharacter * 43).toBeGreaterThan(96);
  expect(bitsPerCharacter).toBeGreaterThan(5.9);
});

test('PKCE-09 there is no path without PKCE: a confidential client without code_challenge is refused at /authorize', async () => {
  const registered = await fixture.register({ token_endpoint_auth_method: 'client_secret_basic', redirect_uris: ['https://app.example.com/cb'] });
  const before = await databaseImage(fixture.backend);
  const result = await new UserAgent(fixture).authorize(authorizationParams(registered.clientId, registered.redirectUri, { code_challenge: undefined, code_challenge_method: undefined }).query);
  expect(errorResponse(result, 'https://app.example.com/cb').get('error')).toBe('invalid_request');
  expect(fixture.audit.named('authorize.rejected')[0].reason).toBe('pkce_missing');
  expect(await databaseImage(fixture.backend)).toBe(before);
});

test('PKCE-09 a code stored without a challenge (a legacy or corrupted item) never redeems, with or without a verifier', async () => {
  const stores = fixture.backend.stores();
  const { client } = await seedClient(stores, fixture.clock.now);
  const code = 'legacy-code-without-a-challenge-0000000000';
  const record = { codeHash: sha256(code), clientId: client.clientId, redirectUri: REDIRECT, resource: fixture.config.servers.defaultServer!.resource, scope: 'mcp:tools', sub: 'alice', createdAt: fixture.clock.now, expiresAt: fixture.clock.now + 60, failures: 0 };
  await stores.codes.create(record as unknown as CodeRecord);
  const verifier = 'v'.repeat(43);
  for (const params of [{ code_verifier: verifier }, {}] as Array<Record<string, string>>) {
    const response = await fixture.redeem({ code, redirect_uri: REDIRECT, client_id: client.clientId, ...params });
    expect([response.status, response.json.error]).toEqual([400, 'invalid_grant']);
  }
  expect(fixture.audit.named('token.rejected').map((e) => e.reason)).toEqual(['pkce_mismatch', 'pkce_missing']);
  expect(fixture.audit.named('token.issued')).toHaveLength(0);
});
