/**
 * The post-deploy smoke check (`npx cdk-secure-mcp-server smoke <mcpUrl>`): what an MCP client does
 * before it can sign a user in, against a deployed endpoint, with nothing but Node's own fetch. It
 * changes nothing, except with `register`: one public client, deleted again when the server allows it.
 */
import { isHttpsOrLoopback } from '../loopback';

export interface SmokeOptions {
  /** Also register a public client (RFC 7591) with a loopback redirect URI, as MCP clients do. */
  readonly register?: boolean;
  /** Per-request timeout in milliseconds. */
  readonly timeoutMs?: number;
  readonly fetch?: typeof fetch;
}

export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

class CheckFailed extends Error {}

function fail(message: string): never {
  throw new CheckFailed(message);
}

/** https everywhere, http only for loopback hosts (the local stack). */
function checkUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    fail(`${what} is not a URL: ${JSON.stringify(value)}`);
  }
  if (!isHttpsOrLoopback(url)) fail(`${what} must use https (http only on loopback), got ${value}`);
  return url;
}

/** `resource_metadata="..."` of a Bearer challenge. */
export function challengeParameter(header: string, name: string): string | undefined {
  const match = new RegExp(`(?:^|[\\s,])${name}="([^"]*)"`).exec(header);
  return match?.[1];
}

export async function runSmoke(mcpUrl: string, options: SmokeOptions = {}): Promise<SmokeCheck[]> {
  const fetchImpl = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const results: SmokeCheck[] = [];
  const request = (url: string, init: RequestInit = {}) => fetchImpl(url, { redirect: 'manual', ...init, signal: AbortSignal.timeout(timeoutMs) });
  const json = async (response: Response, what: string): Promise<Record<string, unknown>> => {
    if (response.status !== 200) fail(`${what} answered ${response.status}, expected 200`);
    try {
      return (await response.json()) as Record<string, unknown>;
    } catch {
      fail(`${what} is not JSON`);
    }
  };
  /** Runs one check; a check that cannot run because an earlier one failed is reported as such. */
  const check = async <T>(name: string, run: () => Promise<[T, string]>): Promise<T | undefined> => {
    try {
      const [value, detail] = await run();
      results.push({ name, ok: true, detail });
      return value;
    } catch (error) {
      const detail = error instanceof CheckFailed ? error.message : `request failed: ${(error as Error).message}`;
      results.push({ name, ok: false, detail });
      return undefined;
    }
  };
  const skipped = (name: string, because: string) => results.push({ name, ok: false, detail: `not run: ${because}` });

  const endpoint = await check('MCP URL is https', async () => [checkUrl(mcpUrl, 'the MCP URL').href, mcpUrl]);
  if (endpoint === undefined) return results;

  const metadataUrl = await check('unauthenticated POST /mcp: 401 with a resource_metadata challenge', async () => {
    const response = await request(mcpUrl, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cdk-secure-mcp-server smoke', version: '1' } } }),
    });
    if (response.status !== 401) fail(`answered ${response.status}, expected 401`);
    const challenge = response.headers.get('www-authenticate') ?? fail('no WWW-Authenticate header');
    if (!/^Bearer\b/i.test(challenge)) fail(`WWW-Authenticate is not a Bearer challenge: ${challenge}`);
    const url = challengeParameter(challenge, 'resource_metadata') ?? fail(`no resource_metadata in: ${challenge}`);
    checkUrl(url, 'resource_metadata');
    return [url, url];
  });

  const preflight = 'CORS preflight OPTIONS /mcp: 2xx allowing POST and Authorization';
  await check(preflight, async () => {
    const response = await request(mcpUrl, {
      method: 'OPTIONS',
      headers: { Origin: 'https://smoke.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    if (response.status < 200 || response.status > 299) fail(`answered ${response.status}`);
    const methods = response.headers.get('access-control-allow-methods') ?? '';
    const headers = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    if (!response.headers.get('access-control-allow-origin')) fail('no Access-Control-Allow-Origin');
    if (!/\bPOST\b/.test(methods)) fail(`Access-Control-Allow-Methods does not allow POST: ${methods}`);
    if (!headers.includes('authorization')) fail(`Access-Control-Allow-Headers does not allow Authorization: ${headers}`);
    return [undefined, `${response.status}, methods ${methods}`];
  });

  const prmName = 'protected resource metadata: resource is the MCP URL';
  const issuer =
    metadataUrl === undefined
      ? (skipped(prmName, 'no resource_metadata URL'), undefined)
      : await check(prmName, async () => {
          const prm = await json(await request(metadataUrl), 'the protected resource metadata');
          if (prm.resource !== mcpUrl) fail(`resource is ${JSON.stringify(prm.resource)}, expected ${JSON.stringify(mcpUrl)}`);
          const servers = prm.authorization_servers;
          if (!Array.isArray(servers) || typeof servers[0] !== 'string') fail('authorization_servers is missing or empty');
          return [servers[0] as string, `authorization server ${servers[0]}`];
        });

  const asName = 'authorization server metadata: issuer matches, S256 PKCE';
  const asMetadata =
    issuer === undefined
      ? (skipped(asName, 'no authorization server'), undefined)
      : await check(asName, async () => {
          checkUrl(issuer, 'the authorization server');
          // This server publishes its metadata under the issuer (path-append), which is what MCP clients try after RFC 8414's path-insertion form.
          const url = `${issuer.replace(/\/$/, '')}/.well-known/oauth-authorization-server`;
          const metadata = await json(await request(url), url);
          if (metadata.issuer !== issuer) fail(`issuer is ${JSON.stringify(metadata.issuer)}, expected ${JSON.stringify(issuer)}`);
          const methods = metadata.code_challenge_methods_supported;
          if (!Array.isArray(methods) || !methods.includes('S256')) fail('code_challenge_methods_supported does not include S256');
          for (const field of ['authorization_endpoint', 'token_endpoint', 'jwks_uri']) {
            if (typeof metadata[field] !== 'string') fail(`${field} is missing`);
            checkUrl(metadata[field] as string, field);
          }
          return [metadata, url];
        });

  const jwksName = 'JWKS has signing keys';
  if (asMetadata === undefined) skipped(jwksName, 'no authorization server metadata');
  else {
    await check(jwksName, async () => {
      const jwks = await json(await request(asMetadata.jwks_uri as string), 'the JWKS');
      const keys = jwks.keys;
      if (!Array.isArray(keys) || keys.length === 0) fail('no keys');
      for (const key of keys as Record<string, unknown>[]) {
        if (typeof key.kid !== 'string' || typeof key.kty !== 'string') fail('a key without kid or kty');
        if ('d' in key) fail(`key ${String(key.kid)} has a private part`);
      }
      return [undefined, `${keys.length} key(s): ${(keys as { kid: string }[]).map((key) => key.kid).join(', ')}`];
    });
  }

  if (options.register) {
    const registerName = 'registration of a public client with a loopback redirect URI';
    const endpointUrl = asMetadata?.registration_endpoint;
    if (typeof endpointUrl !== 'string') skipped(registerName, asMetadata ? 'no registration_endpoint' : 'no authorization server metadata');
    else {
      await check(registerName, async () => {
        const response = await request(endpointUrl, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
          body: JSON.stringify({
            client_name: 'cdk-secure-mcp-server smoke',
            redirect_uris: ['http://127.0.0.1:33418/callback'],
            token_endpoint_auth_method: 'none',
            grant_types: ['authorization_code', 'refresh_token'],
            response_types: ['code'],
          }),
        });
        if (response.status !== 201) fail(`answered ${response.status}, expected 201${response.status === 403 ? ' (a web ACL rule may block loopback redirect URIs)' : ''}`);
        const client = (await response.json()) as Record<string, unknown>;
        if (typeof client.client_id !== 'string') fail('no client_id');
        // RFC 7592: delete the client again when the server hands out a management token.
        let cleanup = 'not deleted (no registration_access_token)';
        if (typeof client.registration_client_uri === 'string' && typeof client.registration_access_token === 'string') {
          const deleted = await request(client.registration_client_uri, { method: 'DELETE', headers: { Authorization: `Bearer ${client.registration_access_token}` } });
          cleanup = deleted.status === 204 ? 'deleted again' : `delete answered ${deleted.status}`;
        }
        return [undefined, `client ${client.client_id}, ${cleanup}`];
      });
    }
  }
  return results;
}

/** One line per check, then the verdict. */
export function formatSmoke(results: readonly SmokeCheck[]): string {
  const lines = results.map((result) => `${result.ok ? 'PASS' : 'FAIL'}  ${result.name}${result.detail ? ` (${result.detail})` : ''}`);
  const failed = results.filter((result) => !result.ok).length;
  lines.push(failed === 0 ? `All ${results.length} checks passed.` : `${failed} of ${results.length} checks failed.`);
  return lines.join('\n');
}
