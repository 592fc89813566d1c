import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { Readable } from 'node:stream';
import { LOCAL_CREDENTIALS } from '../../local/dynamodb';
import { buildMetadataHandler } from '../../lambda/metadata/handler';
import { buildRegisterHandler } from '../../lambda/register/handler';
import { dailyRegistrationCounter } from '../../lambda/register/registration';
import { sha256 } from '../../lambda/shared/crypto';
import { KmsJwtSigner } from '../../lambda/shared/signer';
import { CODE_RETRY_WINDOW_SECONDS } from '../../lambda/token/grants/authorization-code';
import { buildTokenHandler } from '../../lambda/token/handler';
import { REDIRECT, seedClient, seedCode } from '../support/token-fixtures';
import { AuditCapture, Backend, basicAuth, formEvent, instrument, lambdaContext, proxyEvent, sdkError, TestClock } from '../support/harness';
import { databaseImage } from '../support/security-probes';

/**
 * Faults injected at the real SDK clients (catalogue K): every DynamoDB call of the code, refresh and
 * registration paths, and KMS. A transient fault is a 503 `temporarily_unavailable` with Retry-After
 * and one `infra.fault` naming the dependency; nothing is half-written (the whole database is compared
 * before and after), and the request succeeds once the dependency recovers.
 */

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
let token: ReturnType<typeof buildTokenHandler>;
let register: ReturnType<typeof buildRegisterHandler>;
let db: ReturnType<typeof instrument>;
let kms: ReturnType<typeof instrument>;

beforeAll(async () => {
  await backend.start();
  db = instrument(backend.db);
  kms = instrument(backend.kmsClient);
  token = buildTokenHandler({ config: backend.config('token'), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
  register = buildRegisterHandler({ config: backend.config('register'), stores: backend.stores(), clock: clock.fn, sink: audit.sink });
});
afterAll(() => backend.stop());
beforeEach(() => {
  audit.clear();
  db.heal();
  kms.heal();
});

/** The transient DynamoDB errors: throttling and unavailability as the SDK reports them. */
const DYNAMODB_FAULTS = ['ProvisionedThroughputExceededException', 'ThrottlingException', 'RequestLimitExceeded', 'InternalServerError', 'ServiceUnavailable'];
/** KMS failures: a disabled key, a revoked permission, throttling, an outage. */
const KMS_FAULTS = ['KMSInvalidStateException', 'AccessDeniedException', 'ThrottlingException', 'DisabledException', 'KMSInternalException', 'DependencyTimeoutException'];

/**
 * What the SDK's HTTP layer raises when a service is unreachable or answers below its API (DNS, refused
 * or reset connections, timeouts, a load balancer's 5xx or 429 without a modeled error), as request
 * handlers for a real SDK client. Errors are created in the test's realm: jest runs tests in a VM
 * context, so a socket error from Node's own realm would reach the SDK as a foreign object and lose its
 * `code` (a test artifact; in Lambda the SDK sees the original error).
 */
function failingTransport(fault: { code?: string; name?: string; status?: number; body?: string }) {
  return {
    handle: async () => {
      if (fault.status === undefined) {
        const error = Object.assign(new Error(`${fault.code ?? fault.name} (injected)`), fault.code ? { code: fault.code } : {});
        if (fault.name) error.name = fault.name;
        throw error;
      }
      return { response: { statusCode: fault.status, headers: {}, body: Readable.from([Buffer.from(fault.body ?? '')]) } };
    },
  } as never;
}

const TRANSPORT_FAULTS: Array<[string, ReturnType<typeof failingTransport>]> = [
  ...['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH'].map(
    (code): [string, ReturnType<typeof failingTransport>] => [code, failingTransport({ code })],
  ),
  ['TimeoutError', failingTransport({ name: 'TimeoutError' })],
  ['HTTP 503 without a body', failingTransport({ status: 503 })],
  ['HTTP 502', failingTransport({ status: 502 })],
  ['HTTP 500 with an HTML page', failingTransport({ status: 500, body: '<html>upstream error</html>' })],
  ['HTTP 429', failingTransport({ status: 429 })],
];

async function post(path: string, params: Record<string, string>, headers: Record<string, string> = {}) {
  const result = await token(formEvent(path, params, headers), lambdaContext);
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
}

async function redeemable() {
  const { client } = await seedClient(backend.stores(), clock.now);
  const { code, verifier } = await seedCode(backend.stores(), clock.now, client.clientId);
  return { clientId: client.clientId, params: { grant_type: 'authorization_code', code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: client.clientId } };
}

async function session() {
  const { clientId, params } = await redeemable();
  const issued = await post('/token', params);
  audit.clear();
  return { clientId, refreshToken: issued.json.refresh_token as string };
}

/** A 503 temporarily_unavailable with Retry-After, no token, and exactly one infra.fault for `dependency`. */
function expectUnavailable(response: Awaited<ReturnType<typeof post>>, dependency: string, cause: string) {
  expect(response.statusCode).toBe(503);
  expect(response.json).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
  expect(response.headers?.['Retry-After']).toBe('1');
  expect(response.headers?.['Cache-Control']).toBe('no-store');
  const faults = audit.named('infra.fault');
  expect(faults).toHaveLength(1);
  expect(faults[0]).toMatchObject({ dependency, reason: `${dependency}:${cause}` });
  expect(audit.named('token.issued')).toHaveLength(0);
  expect(audit.named('token.refreshed')).toHaveLength(0);
}

describe('DynamoDB faults', () => {
  describe.each(DYNAMODB_FAULTS)('%s', (fault) => {
    test.each(['BatchGetItemCommand', 'PutItemCommand'])(
      `FAULT-01 on the code redemption's %s: 503, nothing written, the code redeems after recovery`,
      async (command) => {
        const { params } = await redeemable();
        const before = await databaseImage(backend);
        db.fail(command, () => sdkError(fault));
        expectUnavailable(await post('/token', params), 'dynamodb', fault);
        expect(await databaseImage(backend)).toBe(before);
        db.heal();
        expect((await post('/token', params)).statusCode).toBe(200);
      },
    );

    test.each(['BatchGetItemCommand', 'UpdateItemCommand'])(`FAULT-01 on the refresh's %s: 503, the family unchanged, the token still refreshes`, async (command) => {
      const { clientId, refreshToken } = await session();
      const before = await databaseImage(backend);
      db.fail(command, () => sdkError(fault));
      expectUnavailable(await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }), 'dynamodb', fault);
      expect(await databaseImage(backend)).toBe(before);
      db.heal();
      expect((await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })).statusCode).toBe(200);
    });

    test('FAULT-09 on the registration PutItem: 503, no client_id returned, no item; a retry registers', async () => {
      const event = () => proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }) });
      const before = await databaseImage(backend);
      db.fail('PutItemCommand', () => sdkError(fault));
      const failed = await register(event(), lambdaContext);
      expect(failed.statusCode).toBe(503);
      expect(failed.headers?.['Retry-After']).toBe('1');
      expect(JSON.parse(failed.body)).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
      expect(audit.named('infra.fault')[0]).toMatchObject({ dependency: 'dynamodb' });
      expect(audit.named('register.created')).toHaveLength(0);
      expect(await databaseImage(backend)).toBe(before);
      db.heal();
      expect((await register(event(), lambdaContext)).statusCode).toBe(201);
    });
  });

  test('FAULT-01 the re-read after a lost rotation race (GetItem) fails: 503, the family unchanged', async () => {
    const { clientId, refreshToken } = await session();
    const before = await databaseImage(backend);
    db.fail('UpdateItemCommand', () => sdkError('ConditionalCheckFailedException'));
    db.fail('GetItemCommand', () => sdkError('ProvisionedThroughputExceededException'));
    expectUnavailable(await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }), 'dynamodb', 'ProvisionedThroughputExceededException');
    expect(await databaseImage(backend)).toBe(before);
  });

  test('FAULT-09 the daily registration counter (UpdateItem) fails: 503, no client, the counter unchanged', async () => {
    const capped = buildRegisterHandler({
      config: backend.config('register'),
      stores: backend.stores(),
      clock: clock.fn,
      sink: audit.sink,
      countRegistration: dailyRegistrationCounter(backend.db, backend.tables.clients, 100, clock.fn),
    });
    const event = () => proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: ['https://app.example.com/cb'] }) });
    const before = await databaseImage(backend);
    db.fail('UpdateItemCommand', () => sdkError('ThrottlingException'));
    const failed = await capped(event(), lambdaContext);
    expect([failed.statusCode, JSON.parse(failed.body).error]).toEqual([503, 'temporarily_unavailable']);
    expect(await databaseImage(backend)).toBe(before);
    db.heal();
    expect((await capped(event(), lambdaContext)).statusCode).toBe(201);
  });

  test('FAULT-01 counting a failed attempt (wrong verifier) fails: 503, the counter unchanged, the right verifier still redeems', async () => {
    const { params } = await redeemable();
    const before = await databaseImage(backend);
    db.fail('UpdateItemCommand', () => sdkError('ThrottlingException'));
    expectUnavailable(await post('/token', { ...params, code_verifier: 'w'.repeat(43) }), 'dynamodb', 'ThrottlingException');
    expect(await databaseImage(backend)).toBe(before);
    db.heal();
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('FAULT-01 revoking on a detected replay fails: 503; the replay retried after recovery still revokes the grant', async () => {
    const { clientId, params } = await redeemable();
    const first = await post('/token', params);
    audit.clear();
    clock.advance(CODE_RETRY_WINDOW_SECONDS);
    db.fail('UpdateItemCommand', () => sdkError('ServiceUnavailable'));
    expectUnavailable(await post('/token', params), 'dynamodb', 'ServiceUnavailable');
    db.heal();
    expect((await post('/token', params)).json.error).toBe('invalid_grant');
    expect(audit.named('security.code_replay')).toHaveLength(1);
    expect((await post('/token', { grant_type: 'refresh_token', refresh_token: first.json.refresh_token, client_id: clientId })).json.error).toBe('invalid_grant');
  });

  test.each(TRANSPORT_FAULTS)('FAULT-01 DynamoDB unreachable or failing below the API (%s) is 503 with the dependency', async (_name, transport) => {
    const failing = new DynamoDBClient({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: transport });
    const handler = buildTokenHandler({ config: backend.config('token'), stores: backend.stores(failing), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
    const result = await handler(formEvent('/token', { grant_type: 'authorization_code', code: 'c', client_id: 'AAAAAAAAAAAAAAAAAAAAAA' }), lambdaContext);
    expect([result.statusCode, JSON.parse(result.body).error, result.headers?.['Retry-After']]).toEqual([503, 'temporarily_unavailable', '1']);
    expect(audit.named('infra.fault')).toEqual([expect.objectContaining({ dependency: 'dynamodb' })]);
  });

  test('FAULT-02 a failed condition on the grant put is 400 invalid_grant (a lost race), never a 500', async () => {
    const { params } = await redeemable();
    db.fail('PutItemCommand', () => sdkError('ConditionalCheckFailedException'));
    const response = await post('/token', params);
    expect(response.statusCode).toBe(400);
    expect(response.json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected')[0].reason).toBe('code_retried');
    expect(audit.named('infra.fault')).toHaveLength(0);
  });

  test('FAULT-02 a failed condition on every rotation attempt is 400 invalid_grant (refresh_race), the family unchanged', async () => {
    const { clientId, refreshToken } = await session();
    const before = await databaseImage(backend);
    db.fail('UpdateItemCommand', () => sdkError('ConditionalCheckFailedException'));
    const response = await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId });
    expect(response.statusCode).toBe(400);
    expect(response.json.error).toBe('invalid_grant');
    expect(audit.named('token.rejected')[0].reason).toBe('refresh_race');
    expect(await databaseImage(backend)).toBe(before);
  });

  test('FAULT-04 the write after the signature fails: 503, the minted token is discarded, the code redeems after recovery', async () => {
    const { params } = await redeemable();
    const before = await databaseImage(backend);
    kms.reset();
    db.fail('PutItemCommand', () => sdkError('InternalServerError'));
    const failed = await post('/token', params);
    expect(kms.calls).toEqual(['SignCommand']); // signed first (FAULT-03 ordering) ...
    expectUnavailable(failed, 'dynamodb', 'InternalServerError');
    expect(failed.body).not.toMatch(/eyJ/); // ... and the signed JWT never leaves
    expect(await databaseImage(backend)).toBe(before);
    db.heal();
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test('FAULT-04 the grant put commits but its response is lost: 503, then a prompt retry is refused (400) and a late one is a replay (grant revoked), never a second issuance', async () => {
    const { clientId, params } = await redeemable();
    let lose = true;
    backend.db.middlewareStack.add(
      (next, context) => async (args) => {
        const result = await next(args);
        if (lose && (context as { commandName?: string }).commandName === 'PutItemCommand') {
          lose = false;
          throw sdkError('TimeoutError');
        }
        return result;
      },
      { step: 'initialize', name: 'lose-put-response' },
    );
    expectUnavailable(await post('/token', params), 'dynamodb', 'TimeoutError');
    const grantId = sha256(`grant:${sha256(params.code)}`);
    const retry = await post('/token', params);
    expect(retry.json.error).toBe('invalid_grant');
    expect((await backend.stores().grants.get(grantId))!.revokedAt).toBeUndefined();
    clock.advance(CODE_RETRY_WINDOW_SECONDS);
    expect((await post('/token', params)).json.error).toBe('invalid_grant');
    expect(audit.named('token.issued')).toHaveLength(0);
    const grant = (await backend.stores().grants.get(grantId))!;
    expect(grant.clientId).toBe(clientId);
    expect(grant.revokedReason).toBe('code_replay');
    backend.db.middlewareStack.remove('lose-put-response');
  });
});

describe('KMS faults', () => {
  test.each(KMS_FAULTS)('FAULT-03 %s on Sign at code redemption: 503, the code not consumed, no refresh token written', async (fault) => {
    const { params } = await redeemable();
    const before = await databaseImage(backend);
    kms.fail('SignCommand', () => sdkError(fault));
    expectUnavailable(await post('/token', params), 'kms', fault);
    expect(await databaseImage(backend)).toBe(before);
    kms.heal();
    expect((await post('/token', params)).statusCode).toBe(200);
  });

  test.each(KMS_FAULTS)('FAULT-03 %s on Sign at refresh: 503, the family unchanged', async (fault) => {
    const { clientId, refreshToken } = await session();
    const before = await databaseImage(backend);
    kms.fail('SignCommand', () => sdkError(fault));
    expectUnavailable(await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId }), 'kms', fault);
    expect(await databaseImage(backend)).toBe(before);
    kms.heal();
    expect((await post('/token', { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId })).statusCode).toBe(200);
  });

  test('FAULT-03 KMS failing at client_credentials, introspection (GetPublicKey) and the JWKS document is 503 with the dependency', async () => {
    const auth = { authorization: basicAuth(backend.machine.clientId('gateway'), backend.machine.secretOf('gateway')) };
    kms.fail('SignCommand', () => sdkError('AccessDeniedException'));
    expectUnavailable(await post('/token', { grant_type: 'client_credentials' }, auth), 'kms', 'AccessDeniedException');

    audit.clear();
    // A fresh key cache, so introspection must call GetPublicKey.
    const fresh = buildTokenHandler({ config: backend.config('token'), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
    kms.fail('GetPublicKeyCommand', () => sdkError('KMSInvalidStateException'));
    const introspected = await fresh(formEvent('/introspect', { token: 'eyJhbGciOiJSUzI1NiJ9.e30.sig' }, auth), lambdaContext);
    expect(introspected.statusCode).toBe(503);
    expect(audit.named('infra.fault')[0]).toMatchObject({ dependency: 'kms' });

    audit.clear();
    const metadata = buildMetadataHandler({ config: backend.config('metadata'), jwks: backend.jwks(), clock: clock.fn, sink: audit.sink });
    const jwksEvent = () => proxyEvent({ method: 'GET', path: '/jwks.json' });
    const unavailable = await metadata(jwksEvent(), lambdaContext);
    expect(unavailable.statusCode).toBe(503);
    expect(unavailable.headers?.['Retry-After']).toBe('1');
    expect(audit.named('infra.fault')[0]).toMatchObject({ dependency: 'kms' });
    // A failed load is not cached: the next request after recovery gets the keys.
    kms.heal();
    const recovered = await metadata(jwksEvent(), lambdaContext);
    expect(recovered.statusCode).toBe(200);
    expect(JSON.parse(recovered.body).keys).toHaveLength(1);
  });

  test.each(TRANSPORT_FAULTS)('FAULT-03 KMS unreachable or failing below the API (%s) is 503 and leaves the code redeemable', async (_name, transport) => {
    const { params } = await redeemable();
    const failing = new KMSClient({ region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1, requestHandler: transport });
    const handler = buildTokenHandler({ config: backend.config('token'), stores: backend.stores(), signer: new KmsJwtSigner(failing, backend.keyArn, 'RS256'), jwks: backend.jwks(), machineSecret: backend.machine.machineSecret, clock: clock.fn, sink: audit.sink });
    const result = await handler(formEvent('/token', params), lambdaContext);
    expect([result.statusCode, JSON.parse(result.body).error]).toEqual([503, 'temporarily_unavailable']);
    expect(audit.named('infra.fault')).toEqual([expect.objectContaining({ dependency: 'kms' })]);
    expect((await post('/token', params)).statusCode).toBe(200);
  });
});
