import { buildTokenHandler } from '../../lambda/token/handler';
import { AuthorizeFixture, authorizationParams, errorResponse, UserAgent } from '../support/authorize-fixture';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';
import { formEvent, instrument, ISSUER, lambdaContext, RESOURCE } from '../support/harness';
import { databaseImage } from '../support/security-probes';

/** RFC 8707 resource indicators at /authorize and /token (catalogue I). One resource is served: `ISSUER/mcp`. */

const fixture = new AuthorizeFixture();
let kms: ReturnType<typeof instrument>;
let token: ReturnType<typeof buildTokenHandler>;

beforeAll(async () => {
  await fixture.start();
  kms = instrument(fixture.backend.kmsClient);
  token = fixture.tokenHandler;
}, 60_000);
afterAll(() => fixture.stop());
beforeEach(() => {
  fixture.audit.clear();
  kms.reset();
});

/** An authorization request with `resource` set to each value (several values = the parameter repeated). */
async function authorizeWith(resources: string[]) {
  const client = await fixture.register();
  const { query } = authorizationParams(client.clientId, client.redirectUri, { resource: undefined });
  const raw = `${new URLSearchParams(query)}${resources.map((r) => `&resource=${encodeURIComponent(r)}`).join('')}`;
  const before = await databaseImage(fixture.backend);
  const result = await new UserAgent(fixture).get(`${ISSUER}/authorize?${raw}`);
  // ∅: a refused request writes nothing, and the error goes to the validated redirect URI with iss (through the interstitial, REV-03).
  expect(await databaseImage(fixture.backend)).toBe(before);
  const answered = errorResponse(result, client.redirectUri);
  expect(answered.get('iss')).toBe(ISSUER);
  return answered.get('error');
}

async function redeemWith(extra: string) {
  const stores = fixture.backend.stores();
  const { client } = await seedClient(stores, fixture.clock.now);
  const { code, verifier } = await seedCode(stores, fixture.clock.now, client.clientId);
  const params = { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId };
  const event = formEvent('/token', params);
  event.body = `${event.body}${extra}`;
  const before = await databaseImage(fixture.backend);
  kms.reset();
  const result = await token(event, lambdaContext);
  const json = JSON.parse(result.body);
  // ∅ and nothing minted: the code is not consumed and KMS was never asked to sign.
  expect(await databaseImage(fixture.backend)).toBe(before);
  expect(kms.calls).not.toContain('SignCommand');
  // A corrected retry still succeeds.
  expect((await token(formEvent('/token', params), lambdaContext)).statusCode).toBe(200);
  return [result.statusCode, json.error];
}

describe('RES-01 malformed resource indicators', () => {
  test('RES-01 MRS-05 at /authorize: a fragment or a relative value is invalid_target; a repeated resource is invalid_target too (documented)', async () => {
    expect(await authorizeWith([`${RESOURCE}#x`])).toBe('invalid_target');
    expect(await authorizeWith(['/mcp'])).toBe('invalid_target');
    expect(await authorizeWith([RESOURCE, RESOURCE])).toBe('invalid_target');
    expect(fixture.audit.named('authorize.rejected').map((e) => e.reason)).toEqual(['unknown_resource', 'unknown_resource', 'multiple_resources']);
  });

  test('RES-01 MRS-05 at /token: a fragment or a relative value is 400 invalid_target; a repeated resource is 400 invalid_target too', async () => {
    expect(await redeemWith(`&resource=${encodeURIComponent(`${RESOURCE}#x`)}`)).toEqual([400, 'invalid_target']);
    expect(await redeemWith('&resource=%2Fmcp')).toEqual([400, 'invalid_target']);
    expect(await redeemWith(`&resource=${encodeURIComponent(RESOURCE)}&resource=${encodeURIComponent(RESOURCE)}`)).toEqual([400, 'invalid_target']);
  });
});

describe('RES-02 another server\'s resource', () => {
  test('RES-02 a valid URI of another server: invalid_target at /authorize and /token, and no token is minted for it', async () => {
    for (const other of ['https://other.example/mcp', `${RESOURCE}/`, RESOURCE.toUpperCase(), `${ISSUER}/MCP`]) {
      expect(await authorizeWith([other])).toBe('invalid_target');
      expect(await redeemWith(`&resource=${encodeURIComponent(other)}`)).toEqual([400, 'invalid_target']);
    }
  });
});
