import { allowedMethods, METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY, ROUTES } from '../../lib/routes';
import { buildMetadataHandler } from '../../lambda/metadata/handler';
import { buildRegisterHandler } from '../../lambda/register/handler';
import { buildTokenHandler } from '../../lambda/token/handler';
import { AuthorizeFixture } from '../support/authorize-fixture';
import { lambdaContext, proxyEvent } from '../support/harness';

/**
 * One HTTP kernel (lambda/shared/handler.ts): every handler answers a method its path does not serve
 * with the 405 API Gateway itself gives (the manifest's methods in Allow), and a path it does not
 * serve with the 404, JSON for the JSON handlers and a page for the browser routes.
 */
const fixture = new AuthorizeFixture();
beforeAll(() => fixture.start(), 60_000);
afterAll(() => fixture.stop());

function handlers() {
  const backend = fixture.backend;
  const common = { clock: fixture.clock.fn, sink: fixture.audit.sink };
  return {
    token: buildTokenHandler({ ...common, config: fixture.configOf('token'), stores: backend.stores(), signer: backend.signer(), jwks: backend.jwks() }),
    register: buildRegisterHandler({ ...common, config: fixture.configOf('register'), stores: backend.stores() }),
    metadata: buildMetadataHandler({ ...common, config: fixture.configOf('metadata'), jwks: backend.jwks() }),
  };
}

test.each([
  ['token', 'GET', '/token', 'POST'],
  ['token', 'DELETE', '/introspect', 'POST'],
  ['register', 'GET', '/register', 'POST'],
  ['register', 'POST', '/register/{client_id}', 'GET, PUT, DELETE'],
  ['metadata', 'POST', '/jwks.json', 'GET, OPTIONS'],
] as const)('ROB-03 %s: %s %s is 405 with the manifest\'s methods and API Gateway\'s body', async (name, method, path, allow) => {
  const result = await handlers()[name](proxyEvent({ method, path, resource: path, pathParameters: path.includes('{') ? { client_id: 'x'.repeat(22) } : undefined }), lambdaContext);
  expect(result.statusCode).toBe(405);
  expect(result.headers?.Allow).toBe(allow);
  expect(JSON.parse(result.body)).toEqual(METHOD_NOT_ALLOWED_BODY);
});

test('ROB-03 a path the handler does not serve is 404 with API Gateway\'s body', async () => {
  const result = await handlers().token(proxyEvent({ method: 'POST', path: '/nowhere' }), lambdaContext);
  expect([result.statusCode, JSON.parse(result.body)]).toEqual([404, NOT_FOUND_BODY]);
});

test('AZR-17 the browser routes answer another method with a 405 page naming what they serve, and no CORS header', async () => {
  for (const [method, path, allow] of [['POST', '/authorize', 'GET'], ['OPTIONS', '/authorize', 'GET'], ['PUT', '/consent', 'GET, POST'], ['POST', '/callback', 'GET']]) {
    const result = await fixture.authorizeHandler(proxyEvent({ method, path, resource: path }), lambdaContext);
    expect(result.statusCode).toBe(405);
    expect(result.headers?.Allow).toBe(allow);
    expect(result.headers?.['Content-Type']).toMatch(/^text\/html/);
    expect(Object.keys(result.headers ?? {}).filter((name) => name.toLowerCase().startsWith('access-control-'))).toEqual([]);
  }
});

test('ROB-03 every handler serves exactly the manifest\'s methods on each of its paths: the Allow of its 405 is the manifest\'s', async () => {
  const built = { ...handlers(), authorize: fixture.authorizeHandler };
  const paths = [...new Set(ROUTES.filter((route) => route.handler !== 'mcp').map((route) => `${route.handler} ${route.path}`))];
  expect(paths.length).toBeGreaterThan(10);
  for (const entry of paths) {
    const [handler, path] = entry.split(' ') as [keyof typeof built, string];
    const result = await built[handler](proxyEvent({ method: 'PATCH', path, resource: path, pathParameters: path.includes('{') ? { client_id: 'x'.repeat(22) } : undefined }), lambdaContext);
    expect([entry, result.statusCode, result.headers?.Allow]).toEqual([entry, 405, allowedMethods(ROUTES.filter((route) => route.path === path)).join(', ')]);
  }
});
