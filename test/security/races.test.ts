import { buildRegisterHandler } from '../../lambda/register/handler';
import { dailyRegistrationCounter } from '../../lambda/register/registration';
import { sha256 } from '../../lambda/shared/crypto';
import { buildTokenHandler } from '../../lambda/token/handler';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';
import { AuditCapture, Backend, formEvent, lambdaContext, proxyEvent, TestClock } from '../support/harness';
import { scanAll } from '../support/security-probes';

/**
 * Races with real concurrency: every request below runs through the real handler and the real SDK
 * client against dynalite at the same time; single use rests on DynamoDB conditional writes only.
 */

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
let token: ReturnType<typeof buildTokenHandler>;
let register: ReturnType<typeof buildRegisterHandler>;

beforeAll(async () => {
  await backend.start();
  token = buildTokenHandler({ config: backend.config('token'), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
  register = buildRegisterHandler({ config: backend.config('register'), stores: backend.stores(), clock: clock.fn, sink: audit.sink });
});
afterAll(() => backend.stop());
beforeEach(() => audit.clear());

async function post(params: Record<string, string>) {
  const result = await token(formEvent('/token', params), lambdaContext);
  return { status: result.statusCode, json: JSON.parse(result.body) };
}

async function redeemable() {
  const { client } = await seedClient(backend.stores(), clock.now);
  const { code, verifier } = await seedCode(backend.stores(), clock.now, client.clientId);
  return { clientId: client.clientId, params: { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId } };
}

const grantsOf = async (clientId: string) => (await scanAll(backend)).grants.filter((grant) => grant.clientId === clientId);

describe('authorization codes', () => {
  test('CODE-02 50 parallel redemptions of one code: exactly one 200, 49 invalid_grant, exactly one grant item', async () => {
    const { clientId, params } = await redeemable();
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(params)));

    const winners = responses.filter((r) => r.status === 200);
    expect(winners).toHaveLength(1);
    expect(responses.filter((r) => r.status === 400 && r.json.error === 'invalid_grant')).toHaveLength(49);
    const grants = await grantsOf(clientId);
    expect(grants).toHaveLength(1);
    expect(grants[0].currentHash).toBe(sha256(winners[0].json.refresh_token));
    expect(audit.named('token.issued')).toHaveLength(1);
    // Every loser presented the correct verifier at the same moment: retries of one client, refused
    // without revoking the winner's grant (a replay revokes only after the retry window, CODE-01).
    expect(audit.named('token.rejected').map((e) => e.reason)).toEqual(Array(49).fill('code_retried'));
    expect(grants[0].revokedAt).toBeUndefined();
    expect(audit.named('security.code_replay')).toHaveLength(0);
  });

  test('FAULT-06 a burst of 120 token requests (60 codes, each sent twice at once): no 5xx, one issuance per code', async () => {
    const redemptions = await Promise.all(Array.from({ length: 60 }, () => redeemable()));
    const before = (await scanAll(backend)).grants.length;
    const responses = await Promise.all(redemptions.flatMap(({ params }) => [post(params), post(params)]));
    expect(responses.filter((r) => r.status >= 500)).toEqual([]);
    for (let i = 0; i < redemptions.length; i++) {
      expect([responses[2 * i].status, responses[2 * i + 1].status].sort()).toEqual([200, 400]);
    }
    expect((await scanAll(backend)).grants.length).toBe(before + 60);
    expect(audit.named('token.issued')).toHaveLength(60);
  });
});

describe('refresh tokens', () => {
  test('RT-03 REV-06 20 parallel refreshes of one token: one rotation and at most one grace retry succeed, one family, exactly one current token', async () => {
    const { clientId, params } = await redeemable();
    const first = await post(params);
    const refreshToken = first.json.refresh_token as string;
    audit.clear();

    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })),
    );
    expect(responses.filter((r) => r.status !== 200 && !(r.status === 400 && r.json.error === 'invalid_grant'))).toEqual([]);
    const successes = responses.filter((r) => r.status === 200);
    expect(successes.length).toBeGreaterThanOrEqual(1);
    expect(successes.length).toBeLessThanOrEqual(2);

    // One family: the grant the code created, never a second one.
    const grants = await grantsOf(clientId);
    expect(grants).toHaveLength(1);
    expect(grants[0].revokedAt).toBeUndefined();
    // Exactly one issued refresh token is current; the others were superseded by a grace rotation.
    const current = successes.filter((r) => sha256(r.json.refresh_token) === grants[0].currentHash);
    expect(current).toHaveLength(1);
    // Exactly one rotation consumed the token as current; every other success was a grace presentation (RT-09).
    const refreshed = audit.named('token.refreshed');
    expect(refreshed).toHaveLength(successes.length);
    expect(refreshed.filter((e) => e.grace === false)).toHaveLength(1);
    expect(audit.named('security.refresh_reuse')).toHaveLength(0);

    // The current token keeps the family alive.
    expect((await post({ grant_type: 'refresh_token', refresh_token: current[0].json.refresh_token, client_id: clientId })).status).toBe(200);
  });
});

describe('registration', () => {
  const body = JSON.stringify({ redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic', client_name: 'Same' });
  const registration = () => proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body });
  const clientItems = async () => (await scanAll(backend)).clients.filter((item) => !String(item.pk).startsWith('#'));

  test('REG-18 50 identical registrations at once: 50 distinct clients and secrets, no overwrite', async () => {
    const before = await clientItems();
    const responses = await Promise.all(Array.from({ length: 50 }, () => register(registration(), lambdaContext)));
    expect(responses.map((r) => r.statusCode)).toEqual(Array(50).fill(201));
    const created = responses.map((r) => JSON.parse(r.body));
    expect(new Set(created.map((c) => c.client_id)).size).toBe(50);
    expect(new Set(created.map((c) => c.client_secret)).size).toBe(50);
    const after = await clientItems();
    expect(after).toHaveLength(before.length + 50);
    // Each stored item is its own registration: its secret hash matches the secret it was issued.
    for (const client of created) expect(after.find((item) => item.pk === client.client_id)?.secretHash).toBe(sha256(client.client_secret));
  });

  test('REG-17 a flood of 100 registrations against a cap of 20: exactly 20 created, the rest refused (403)', async () => {
    const capped = buildRegisterHandler({
      config: backend.config('register'),
      stores: backend.stores(),
      clock: clock.fn,
      sink: audit.sink,
      countRegistration: dailyRegistrationCounter(backend.db, backend.tables.clients, 20, clock.fn),
    });
    clock.advance(86400); // a fresh day: the counter starts at zero
    const before = await clientItems();
    const responses = await Promise.all(Array.from({ length: 100 }, () => capped(registration(), lambdaContext)));
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(20);
    expect(statuses.filter((s) => s === 403)).toHaveLength(80);
    expect(await clientItems()).toHaveLength(before.length + 20);
    expect(audit.named('register.rejected').filter((e) => e.reason === 'registration_cap')).toHaveLength(80);
  });
});
