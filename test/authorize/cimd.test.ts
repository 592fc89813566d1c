import https from 'node:https';
import { ClientMetadataDocumentFetcher } from '../../lambda/shared/cimd';
import { DEFAULT_SCOPE_MODEL, knownScopeNames } from '../../lib/scopes';
import { HttpsTestServer, json, TEST_CA } from '../fixtures/https-test-server';
import { AuthorizeFixture, authorizationParams, header, locationQuery, runFlow, UserAgent } from '../support/authorize-fixture';

/** URL-shaped client ids at /authorize: Client ID Metadata Documents (CIMD-4, CIMD-8) and SSRF-06. */

const HOST = 'client.cimd.test';
const server = new HttpsTestServer();
const fixture = new AuthorizeFixture();
let port: number;
let egress: jest.SpiedFunction<typeof https.request>;

beforeAll(async () => {
  port = await server.start();
  await fixture.start({ CIMD_ENABLED: 'true' });
}, 60_000);
afterAll(async () => {
  await fixture.stop();
  await server.stop();
});
beforeEach(() => {
  server.reset();
  fixture.audit.clear();
  egress = jest.spyOn(https, 'request');
});
afterEach(() => egress.mockRestore());

const clientIdFor = (path: string) => `https://${HOST}:${port}${path}`;

/** A fetcher that may reach only the local test server (its hostname resolves there, its CA is trusted). */
function cimdHandler() {
  const cimd = new ClientMetadataDocumentFetcher({
    registration: { scopeNames: knownScopeNames(DEFAULT_SCOPE_MODEL) },
    resolve: async (hostname) => (hostname === HOST ? [{ address: '127.0.0.1', family: 4 }] : []),
    isAllowedAddress: (address) => address === '127.0.0.1',
    allowedPorts: [port],
    ca: TEST_CA,
    clock: fixture.clock.fn,
  });
  return fixture.buildAuthorize({ cimd });
}

function publish(path: string, redirectUris: string[], extra: Record<string, unknown> = {}) {
  const clientId = clientIdFor(path);
  server.routes.set(path, json({ client_id: clientId, client_name: 'Document App', redirect_uris: redirectUris, token_endpoint_auth_method: 'none', ...extra }));
  return clientId;
}

test('REV-12 the grants a metadata document lists decide at the token endpoint: without refresh_token, no refresh token', async () => {
  for (const [path, grantTypes, refresh] of [['/no-refresh.json', ['authorization_code'], false], ['/refresh.json', ['authorization_code', 'refresh_token'], true]] as const) {
    const clientId = publish(path, ['http://127.0.0.1:33418/cb'], { grant_types: grantTypes });
    const { query, verifier } = authorizationParams(clientId, 'http://127.0.0.1:50123/cb', { scope: 'mcp:tools offline_access' });
    const { callback } = await runFlow(new UserAgent(fixture, cimdHandler()), query);
    const token = await fixture.redeem({ code: locationQuery(callback).get('code')!, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:50123/cb', client_id: clientId });
    expect(token.status).toBe(200);
    expect(typeof token.json.refresh_token === 'string').toBe(refresh);
  }
});

test('CIMD-4 CIMD-8 a metadata-document client: its redirect URIs decide, the consent page names its domain and warns it is localhost-only', async () => {
  const clientId = publish('/app.json', ['http://127.0.0.1:33418/cb']);
  const agent = new UserAgent(fixture, cimdHandler());
  const refused = await agent.authorize(authorizationParams(clientId, 'https://evil.example/cb').query);
  expect(refused.statusCode).toBe(400);
  expect(header(refused, 'location')).toBeUndefined();

  const { query, verifier } = authorizationParams(clientId, 'http://127.0.0.1:50123/cb');
  const { consent, callback } = await runFlow(agent, query);
  expect(consent.page.body).toContain('<bdi class="client">Document App</bdi>');
  expect(consent.page.body).toContain(`published at <strong>${HOST}</strong>`);
  expect(consent.page.body).toContain('on this computer (localhost)');
  expect(consent.page.body).toContain('<strong id="redirect-host">127.0.0.1</strong>');
  expect(consent.page.body).not.toContain('registered itself');
  expect(server.requestsTo('/app.json')).toBe(1);

  const code = locationQuery(callback).get('code')!;
  const token = await fixture.redeem({ code, code_verifier: verifier, redirect_uri: 'http://127.0.0.1:50123/cb', client_id: clientId });
  expect(token.status).toBe(200);
  expect(token.json.scope).toBe('mcp:tools');
});

test('CIMD-8 a document whose client uses an https redirect gets no localhost warning', async () => {
  const clientId = publish('/web.json', ['https://app.example/cb']);
  const agent = new UserAgent(fixture, cimdHandler());
  const { page } = await agent.openConsent(await agent.authorize(authorizationParams(clientId, 'https://app.example/cb').query));
  expect(page.body).toContain('<strong id="redirect-host">app.example</strong>');
  expect(page.body).not.toContain('(localhost)');
});

test('SSRF-01 a metadata URL on a private address is refused with a page and never fetched', async () => {
  const agent = new UserAgent(fixture, cimdHandler());
  const result = await agent.authorize(authorizationParams('https://169.254.169.254/latest/meta-data/', 'https://evil.example/cb').query);
  expect(result.statusCode).toBe(400);
  expect(header(result, 'location')).toBeUndefined();
  expect(fixture.audit.named('cimd.fetch_refused')).toEqual([expect.objectContaining({ reason: 'private_ip' })]);
  expect(egress).not.toHaveBeenCalled();
});

test('a metadata document that cannot be fetched is an unknown client: a page, no redirect', async () => {
  const agent = new UserAgent(fixture, cimdHandler());
  const result = await agent.authorize(authorizationParams(clientIdFor('/missing.json'), 'http://127.0.0.1:33418/cb').query);
  expect(result.statusCode).toBe(400);
  expect(header(result, 'location')).toBeUndefined();
  expect(fixture.audit.named('cimd.fetch_refused')).toEqual([expect.objectContaining({ reason: 'bad_status' })]);
});

test('SSRF-06 with CIMD disabled a URL-shaped client_id is an unknown client, with zero outbound calls', async () => {
  const clientId = publish('/app.json', ['http://127.0.0.1:33418/cb']);
  const disabled = fixture.buildAuthorize({ cimd: undefined });
  const result = await new UserAgent(fixture, disabled).authorize(authorizationParams(clientId, 'http://127.0.0.1:33418/cb').query);
  expect(result.statusCode).toBe(400);
  expect(header(result, 'location')).toBeUndefined();
  expect(fixture.audit.named('authorize.rejected')).toEqual([expect.objectContaining({ reason: 'unknown_client' })]);
  expect(egress).not.toHaveBeenCalled();
  expect(server.connections).toBe(0);
});
