import { ScanCommand } from '@aws-sdk/client-dynamodb';
import { buildRegisterHandler } from '../../lambda/register/handler';
import { dailyRegistrationCounter } from '../../lambda/register/registration';
import { authorizationServerMetadata } from '../../lambda/metadata/documents';
import { sha256 } from '../../lambda/shared/crypto';
import { AuditCapture, Backend, instrument, ISSUER, lambdaContext, proxyEvent, sdkError, TestClock } from '../support/harness';

const backend = new Backend();
const clock = new TestClock();
const audit = new AuditCapture();
let handler: ReturnType<typeof buildRegisterHandler>;
let dbCalls: ReturnType<typeof instrument>;

beforeAll(async () => {
  await backend.start();
  dbCalls = instrument(backend.db);
  handler = buildRegisterHandler({ config: backend.config('register'), stores: backend.stores(), clock: clock.fn, sink: audit.sink });
});
afterAll(() => backend.stop());
beforeEach(() => {
  audit.clear();
  dbCalls.heal();
});

const GOOD = { redirect_uris: ['http://127.0.0.1:33418/callback'], token_endpoint_auth_method: 'none', client_name: 'VS Code', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };

async function call(method: string, body: unknown, options: { clientId?: string; token?: string; contentType?: string; raw?: string } = {}) {
  const event = proxyEvent({
    method,
    path: options.clientId ? `/register/${options.clientId}` : '/register',
    resource: options.clientId ? '/register/{client_id}' : '/register',
    pathParameters: options.clientId ? { client_id: options.clientId } : undefined,
    headers: { 'content-type': options.contentType ?? 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
    body: options.raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  const result = await handler(event, lambdaContext);
  return { ...result, json: result.body ? JSON.parse(result.body) : undefined };
}

async function clientCount() {
  const { Items } = await backend.db.send(new ScanCommand({ TableName: backend.tables.clients }));
  return Items?.length ?? 0;
}

async function expectRefused(body: unknown, error: string, reason?: string) {
  const before = await clientCount();
  const response = await call('POST', body);
  expect(response.statusCode).toBe(400);
  expect(response.json.error).toBe(error);
  expect(response.headers?.['Cache-Control']).toBe('no-store');
  expect(await clientCount()).toBe(before);
  const rejected = audit.named('register.rejected');
  expect(rejected).toHaveLength(1);
  if (reason) expect(rejected[0].reason).toBe(reason);
  audit.clear();
}

describe('POST /register (RFC 7591)', () => {
  test('AS-15 the registration echoes refresh_token (requested or by default), and every echoed grant type is one the AS metadata advertises', async () => {
    const advertised = authorizationServerMetadata(backend.config('metadata')).grant_types_supported;
    const { grant_types: _omitted, ...withoutGrantTypes } = GOOD;
    for (const body of [GOOD, withoutGrantTypes]) {
      const response = await call('POST', body);
      expect(response.statusCode).toBe(201);
      const echoed = JSON.parse(response.body).grant_types as string[];
      expect(echoed).toEqual(['authorization_code', 'refresh_token']);
      for (const grant of echoed) expect(advertised).toContain(grant);
    }
  });

  test('AS-3 REG-19 a public client is registered with a server-generated id and no secret', async () => {
    const response = await call('POST', GOOD);
    expect(response.statusCode).toBe(201);
    expect(response.headers?.['Cache-Control']).toBe('no-store');
    expect(response.json.client_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(response.json.client_secret).toBeUndefined();
    expect(response.json).toMatchObject({ redirect_uris: GOOD.redirect_uris, token_endpoint_auth_method: 'none', client_name: 'VS Code' });
    expect(response.json.registration_client_uri).toBe(`${ISSUER}/register/${response.json.client_id}`);
    expect(response.json.registration_access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(audit.named('register.created')[0]).toMatchObject({ client_id: response.json.client_id });
  });

  test('REG-19 a confidential client gets a 256-bit secret once, stored only as a hash, with client_secret_expires_at', async () => {
    const response = await call('POST', { ...GOOD, redirect_uris: ['https://app.example.com/cb'], token_endpoint_auth_method: 'client_secret_basic' });
    expect(response.statusCode).toBe(201);
    expect(response.json.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.json.client_secret_expires_at).toBe(0);
    const dump = JSON.stringify(await backend.db.send(new ScanCommand({ TableName: backend.tables.clients })));
    expect(dump).not.toContain(response.json.client_secret);
    expect(dump).not.toContain(response.json.registration_access_token);
    expect(dump).toContain(sha256(response.json.client_secret));
  });

  test('REG-01 missing, empty or null redirect_uris', async () => {
    for (const redirect of [undefined, [], null]) await expectRefused({ ...GOOD, redirect_uris: redirect }, 'invalid_redirect_uri');
  });

  test('REG-02 REG-03 REG-04 REG-05 fragments, dangerous schemes, plain http and loopback look-alikes', async () => {
    for (const uri of ['https://c.example/cb#frag', 'javascript:alert(1)', 'JaVaScRiPt:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'http://client.example/cb', 'http://localhost:80@evil.example/cb', 'http://127.0.0.1.evil.example/cb', 'http://[::1]@evil.example/']) {
      await expectRefused({ ...GOOD, redirect_uris: [uri] }, 'invalid_redirect_uri');
    }
  });

  test('REG-06 REG-07 REG-08 relative, wildcard and dotless private-use redirect URIs', async () => {
    for (const uri of ['/cb', '//evil.example/cb', 'cb', '', 123, {}, 'https://*.example.com/cb', 'myapp:/cb']) {
      await expectRefused({ ...GOOD, redirect_uris: [uri] }, 'invalid_redirect_uri');
    }
    expect((await call('POST', { ...GOOD, redirect_uris: ['com.example.app:/cb'] })).statusCode).toBe(201);
  });

  test('REG-09 metadata URIs must be https', async () => {
    for (const uri of ['javascript:alert(1)', 'http://client.example/logo.png', '/logo.png']) {
      await expectRefused({ ...GOOD, logo_uri: uri }, 'invalid_client_metadata');
    }
  });

  test('REG-10 client-chosen identifiers are ignored', async () => {
    const response = await call('POST', { ...GOOD, client_id: 'chosen', client_secret: 'chosen', registration_access_token: 'chosen', client_id_issued_at: 1 });
    expect(response.statusCode).toBe(201);
    expect(response.json.client_id).not.toBe('chosen');
    expect(response.json.registration_access_token).not.toBe('chosen');
    expect(response.json.client_id_issued_at).toBe(clock.now);
  });

  test('REG-11 REG-12 unsupported auth methods and inconsistent grant types', async () => {
    for (const method of ['private_key_jwt', 'client_secret_jwt', 'tls_client_auth', 'bogus']) {
      await expectRefused({ ...GOOD, token_endpoint_auth_method: method }, 'invalid_client_metadata');
    }
    for (const grants of [['implicit'], ['password'], ['refresh_token']]) await expectRefused({ ...GOOD, grant_types: grants }, 'invalid_client_metadata');
    await expectRefused({ ...GOOD, grant_types: ['client_credentials'] }, 'invalid_client_metadata');
    await expectRefused({ ...GOOD, response_types: ['token'] }, 'invalid_client_metadata');
  });

  test('REG-13 scopes beyond the model are refused (documented policy)', async () => {
    await expectRefused({ ...GOOD, scope: 'mcp:tools admin:*' }, 'invalid_client_metadata', 'scope');
    expect((await call('POST', { ...GOOD, scope: 'mcp:tools offline_access' })).statusCode).toBe(201);
  });

  test('REG-14 non-object bodies, invalid JSON and other content types are 400, never 500', async () => {
    for (const raw of ['null', '[]', '"str"', '{bad json', '']) {
      const before = await clientCount();
      const response = await call('POST', undefined, { raw });
      expect(response.statusCode).toBe(400);
      expect(response.json.error).toBe('invalid_client_metadata');
      expect(await clientCount()).toBe(before);
    }
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=utf-16']) {
      expect((await call('POST', GOOD, { contentType })).statusCode).toBe(400);
    }
    const utf16 = proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify(GOOD), 'utf16le').toString('base64') });
    utf16.isBase64Encoded = true;
    expect((await handler(utf16, lambdaContext)).statusCode).toBe(400);
  });

  test('REG-15 oversized bodies and lists are refused with a documented cap', async () => {
    expect((await call('POST', { ...GOOD, client_name: 'x'.repeat(1_000_000) })).statusCode).toBe(413);
    audit.clear();
    await expectRefused({ ...GOOD, redirect_uris: Array.from({ length: 11 }, (_, i) => `https://c.example/cb${i}`) }, 'invalid_redirect_uri');
    await expectRefused({ ...GOOD, client_name: 'x'.repeat(201) }, 'invalid_client_metadata');
  });

  test('REG-16 prototype-polluting keys are ignored; duplicate keys are last-wins and then validated', async () => {
    const raw = `{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"isAdmin":true}},"redirect_uris":["https://evil.example/cb"],"redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}`;
    const response = await call('POST', undefined, { raw });
    expect(response.statusCode).toBe(201);
    expect(response.json.redirect_uris).toEqual(['http://127.0.0.1/cb']);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
    const badLast = `{"redirect_uris":["http://127.0.0.1/cb"],"redirect_uris":["javascript:alert(1)"],"token_endpoint_auth_method":"none"}`;
    expect((await call('POST', undefined, { raw: badLast })).statusCode).toBe(400);
  });

  test('REG-18 identical concurrent registrations create distinct clients', async () => {
    const before = await clientCount();
    const responses = await Promise.all(Array.from({ length: 10 }, () => call('POST', GOOD)));
    expect(responses.every((r) => r.statusCode === 201)).toBe(true);
    expect(new Set(responses.map((r) => r.json.client_id)).size).toBe(10);
    expect(await clientCount()).toBe(before + 10);
  });

  test('FAULT-09 a failed write returns server_error, no client_id and no orphan item', async () => {
    const before = await clientCount();
    dbCalls.fail('PutItemCommand', () => sdkError('ValidationException'));
    const response = await call('POST', GOOD);
    expect(response.statusCode).toBe(500);
    expect(response.json).toEqual({ error: 'server_error', error_description: 'An unexpected error occurred.' });
    dbCalls.heal();
    expect(await clientCount()).toBe(before);
  });

  test('unused registrations expire: a client unused past its lifetime is gone', async () => {
    const response = await call('POST', GOOD);
    const stores = backend.stores();
    expect(await stores.clients.get(response.json.client_id, clock.now)).toBeDefined();
    expect(await stores.clients.get(response.json.client_id, clock.now + 86400 + 1)).toBeUndefined();
    await stores.clients.markUsed(response.json.client_id);
    expect(await stores.clients.get(response.json.client_id, clock.now + 86400 + 1)).toBeDefined();
  });

  test('an optional daily cap refuses registrations past it', async () => {
    const capped = buildRegisterHandler({
      config: backend.config('register'),
      stores: backend.stores(),
      clock: clock.fn,
      sink: audit.sink,
      countRegistration: dailyRegistrationCounter(backend.db, backend.tables.clients, 2, clock.fn),
    });
    const event = () => proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify(GOOD) });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await capped(event(), lambdaContext)).statusCode);
    expect(statuses).toEqual([201, 201, 403]);
  });
});

describe('RFC 7592 client configuration endpoint', () => {
  test('read, update and delete with the registration access token', async () => {
    const created = (await call('POST', GOOD)).json;
    const options = { clientId: created.client_id, token: created.registration_access_token };
    const read = await call('GET', undefined, options);
    expect(read.statusCode).toBe(200);
    expect(read.json.redirect_uris).toEqual(GOOD.redirect_uris);
    expect(read.json.client_secret).toBeUndefined();

    const updated = await call('PUT', { ...GOOD, client_id: created.client_id, client_name: 'Renamed' }, options);
    expect(updated.statusCode).toBe(200);
    expect(updated.json.client_name).toBe('Renamed');
    expect((await call('GET', undefined, options)).json.client_name).toBe('Renamed');

    const confidential = await call('PUT', { ...GOOD, client_id: created.client_id, token_endpoint_auth_method: 'client_secret_post' }, options);
    expect(confidential.json.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    expect((await call('DELETE', undefined, options)).statusCode).toBe(204);
    expect((await call('GET', undefined, options)).statusCode).toBe(401);
    expect(audit.named('register.deleted')).toHaveLength(1);
  });

  test('a wrong or missing token, another client\'s token and unknown clients all get the same 401', async () => {
    const a = (await call('POST', GOOD)).json;
    const b = (await call('POST', GOOD)).json;
    const bodies = new Set<string>();
    for (const options of [
      { clientId: a.client_id, token: 'wrong' },
      { clientId: a.client_id },
      { clientId: a.client_id, token: b.registration_access_token },
      { clientId: 'AAAAAAAAAAAAAAAAAAAAAA', token: a.registration_access_token },
      { clientId: '#registrations#2027-01-15', token: a.registration_access_token },
    ]) {
      const response = await call('GET', undefined, options);
      expect(response.statusCode).toBe(401);
      bodies.add(response.body);
    }
    expect(bodies.size).toBe(1);
  });

  test('an update must name the client and pass the same validation as registration', async () => {
    const created = (await call('POST', GOOD)).json;
    const options = { clientId: created.client_id, token: created.registration_access_token };
    expect((await call('PUT', { ...GOOD }, options)).statusCode).toBe(400);
    expect((await call('PUT', { ...GOOD, client_id: created.client_id, redirect_uris: ['javascript:alert(1)'] }, options)).json.error).toBe('invalid_redirect_uri');
    expect((await call('GET', undefined, options)).json.redirect_uris).toEqual(GOOD.redirect_uris);
  });

  test('META-04 unsupported methods are 405 with JSON', async () => {
    expect((await call('PUT', GOOD)).statusCode).toBe(405);
  });
});

describe('operator redirect policy', () => {
  test('C-8 Cursor\'s dotless cursor:// scheme is refused by default and accepted when the operator allows it', async () => {
    const body = { ...GOOD, redirect_uris: ['cursor://anysphere.cursor-retrieval/oauth/callback'] };
    expect((await call('POST', body)).statusCode).toBe(400);
    const allowing = buildRegisterHandler({ config: backend.config('register', { EXTRA_REDIRECT_SCHEMES: 'cursor' }), stores: backend.stores(), clock: clock.fn, sink: audit.sink });
    const event = proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await allowing(event, lambdaContext)).statusCode).toBe(201);
  });

  test('REG-07 with an operator allowlist, hosts outside it are refused', async () => {
    const allowlisted = buildRegisterHandler({ config: backend.config('register', { ALLOWED_REDIRECT_HOSTS: 'claude.ai' }), stores: backend.stores(), clock: clock.fn, sink: audit.sink });
    const register = (uri: string) => allowlisted(proxyEvent({ method: 'POST', path: '/register', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...GOOD, redirect_uris: [uri] }) }), lambdaContext);
    expect((await register('https://claude.ai/api/mcp/auth_callback')).statusCode).toBe(201);
    expect((await register('https://evil.example/cb')).statusCode).toBe(400);
  });
});

describe('REV-01 open registration never yields a client that obtains tokens without a user', () => {
  const MACHINE_REQUEST = { grant_types: ['client_credentials'], token_endpoint_auth_method: 'client_secret_basic', scope: 'mcp:admin mcp:tools' };

  test('REV-01 an anonymous POST /register for client_credentials is refused with a clear description, nothing stored', async () => {
    await expectRefused(MACHINE_REQUEST, 'invalid_client_metadata', 'client_credentials_not_open');
    const response = await call('POST', { ...GOOD, ...MACHINE_REQUEST, grant_types: ['authorization_code', 'client_credentials'], redirect_uris: GOOD.redirect_uris });
    expect(response.statusCode).toBe(400);
    expect(response.json.error_description).toMatch(/machine clients are created by the operator/);
  });

  test('REV-01 an RFC 7592 PUT cannot switch a public client to client_credentials; the stored client is unchanged', async () => {
    const created = (await call('POST', GOOD)).json;
    const options = { clientId: created.client_id, token: created.registration_access_token };
    const before = (await call('GET', undefined, options)).json;
    const switched = await call('PUT', { ...GOOD, ...MACHINE_REQUEST, client_id: created.client_id }, options);
    expect(switched.statusCode).toBe(400);
    expect(switched.json.error).toBe('invalid_client_metadata');
    expect(switched.json.client_secret).toBeUndefined();
    expect((await call('GET', undefined, options)).json).toEqual(before);
  });
});
