import { RunningStack, startStackProcess } from '../support/local-stack';
import { EXCHANGES, ExpectedResponse, Urls } from './exchanges';

/**
 * The integration test's assertions (exchanges.ts), run against the local stack: the same
 * requests, in order, each earlier JSON body available to later requests as in the deployed chain.
 */

let stack: RunningStack;
let urls: Urls;
const bodies = new Map<string, Record<string, unknown>>();
const responses = new Map<string, { status: number; headers: Headers; body: unknown }>();

const MACHINE_SECRET = 'integ-exchanges-machine-secret-0123456789abcdef';

beforeAll(async () => {
  stack = await startStackProcess({ LOCAL_MACHINE_CLIENT_SECRET: MACHINE_SECRET });
  urls = {
    issuer: stack.issuer,
    mcpUrl: stack.mcpUrl,
    protectedResourceMetadataUrl: `${stack.issuer}/.well-known/oauth-protected-resource/mcp`,
    machineClient: { clientId: 'machine.local-batch', secret: MACHINE_SECRET },
  };
  for (const exchange of EXCHANGES) {
    const request = exchange.request(urls, (id, field) => {
      const value = bodies.get(id)?.[field];
      if (typeof value !== 'string') throw new Error(`${exchange.id} needs ${field} from ${id}, which answered ${JSON.stringify(bodies.get(id))}`);
      return value;
    });
    const response = await fetch(request.url, { method: request.method ?? 'GET', headers: request.headers, body: request.body, redirect: 'manual' });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: kept as text.
    }
    if (body && typeof body === 'object') bodies.set(exchange.id, body as Record<string, unknown>);
    responses.set(exchange.id, { status: response.status, headers: response.headers, body });
  }
}, 60_000);
afterAll(() => stack?.stop());

/** What integ-tests' objectLike checks, on the same shape: status, exact header values, body subset. */
function matches(actual: { status: number; headers: Headers; body: unknown }, expected: ExpectedResponse): Record<string, unknown> {
  return {
    status: actual.status,
    headers: Object.fromEntries(Object.keys(expected.headers ?? {}).map((name) => [name, actual.headers.get(name)])),
    body: expected.body && actual.body && typeof actual.body === 'object' ? Object.fromEntries(Object.keys(expected.body).map((key) => [key, (actual.body as Record<string, unknown>)[key]])) : expected.body && actual.body,
  };
}

const asserted = EXCHANGES.filter((exchange) => exchange.expect);

it.each(asserted.map((exchange) => [exchange.id, exchange] as const))('%s passes against the local stack', (_, exchange) => {
  const expected = exchange.expect!(urls);
  expect(matches(responses.get(exchange.id)!, expected)).toEqual({ status: expected.status, headers: expected.headers ?? {}, body: expected.body });
});

it('feeds the chained exchanges: an mcp:tools token of the declared machine client', () => {
  expect(responses.get('ServiceToken')!.status).toBe(200);
  expect(bodies.get('ServiceToken')).toMatchObject({ token_type: 'Bearer', scope: 'mcp:tools' });
});
