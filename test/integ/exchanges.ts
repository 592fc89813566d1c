/**
 * The HTTPS exchanges the integration test asserts on a deployed stack (integ.secure-mcp-server.ts turns
 * each into an integ-tests-alpha `httpApiCall`), kept as data so the same list also runs against the
 * local stack in `npm test` (exchanges.test.ts): an assertion that the local stack, which serves the
 * same handler bundles, does not pass would not pass deployed either.
 *
 * What only a deployment can show: the API Gateway gateway responses (the 403 challenge mapped from
 * the authorizer context), the WAF managed rules on loopback redirect URIs, and the MOCK preflights.
 */

export interface Urls {
  readonly issuer: string;
  readonly mcpUrl: string;
  readonly protectedResourceMetadataUrl: string;
  /** A machine client declared on the construct (open registration never yields client_credentials, REV-01). */
  readonly machineClient: { readonly clientId: string; readonly secret: string };
}

/** A value from the JSON body of an earlier exchange (`access_token` of `ServiceToken`). */
export type BodyRef = (exchangeId: string, field: string) => string;

export interface ExchangeRequest {
  readonly url: string;
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

export interface ExpectedResponse {
  readonly status: number;
  /** Exact header values (names in lower case). */
  readonly headers?: Record<string, string>;
  /** Fields the JSON body must have, compared as subsets (arrays exactly). */
  readonly body?: Record<string, unknown>;
}

export interface Exchange {
  /** Construct id of the assertion in the integ app. */
  readonly id: string;
  readonly description: string;
  readonly request: (urls: Urls, ref: BodyRef) => ExchangeRequest;
  /** None for an exchange that only feeds later ones (integ-tests cannot both assert on and read from one call). */
  readonly expect?: (urls: Urls) => ExpectedResponse;
}

/** A loopback redirect URI as native MCP clients register: what AWS managed WAF rules are reported to block. */
export const LOOPBACK_REDIRECT_URI = 'http://127.0.0.1:33418/callback';
const JSON_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json' };
const MCP_HEADERS = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };

export const EXCHANGES: readonly Exchange[] = [
  {
    id: 'UnauthenticatedChallenge',
    description: 'POST /mcp without a token: 401 with the resource_metadata challenge, readable cross-origin',
    request: (urls) => ({ url: urls.mcpUrl, method: 'POST', headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) }),
    expect: (urls) => ({
      status: 401,
      headers: { 'www-authenticate': `Bearer resource_metadata="${urls.protectedResourceMetadataUrl}", scope="mcp:tools"`, 'access-control-allow-origin': '*' },
    }),
  },
  {
    id: 'ProtectedResourceMetadata',
    description: 'RFC 9728 metadata names the MCP URL and the issuer',
    request: (urls) => ({ url: urls.protectedResourceMetadataUrl }),
    expect: (urls) => ({ status: 200, body: { resource: urls.mcpUrl, authorization_servers: [urls.issuer] } }),
  },
  {
    id: 'AuthorizationServerMetadata',
    description: 'RFC 8414 metadata under the issuer: the same issuer, S256 only, the registration endpoint',
    request: (urls) => ({ url: `${urls.issuer}/.well-known/oauth-authorization-server` }),
    expect: (urls) => ({
      status: 200,
      body: { issuer: urls.issuer, code_challenge_methods_supported: ['S256'], registration_endpoint: `${urls.issuer}/register`, jwks_uri: `${urls.issuer}/jwks.json` },
    }),
  },
  {
    id: 'McpPreflight',
    description: 'CORS preflight of /mcp (a MOCK integration, no authorizer), allowing the headers MCP clients send',
    request: (urls) => ({
      url: urls.mcpUrl,
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type,mcp-protocol-version' },
    }),
    expect: () => ({ status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'POST,OPTIONS' } }),
  },
  {
    id: 'MetadataPreflight',
    description: 'CORS preflight of the protected resource metadata, which browser-based clients read cross-origin',
    request: (urls) => ({
      url: urls.protectedResourceMetadataUrl,
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'GET', 'Access-Control-Request-Headers': 'mcp-protocol-version' },
    }),
    expect: () => ({ status: 204, headers: { 'access-control-allow-origin': '*' } }),
  },
  {
    id: 'LoopbackRegistration',
    description: 'RFC 7591 registration of a public client with a loopback redirect URI (the WAF body rules let it through)',
    request: (urls) => ({
      url: `${urls.issuer}/register`,
      method: 'POST',
      headers: JSON_HEADERS,
      body: JSON.stringify({ client_name: 'integ loopback client', redirect_uris: [LOOPBACK_REDIRECT_URI], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] }),
    }),
    expect: () => ({ status: 201, body: { redirect_uris: [LOOPBACK_REDIRECT_URI], token_endpoint_auth_method: 'none' } }),
  },
  {
    id: 'LoopbackAuthorize',
    description: 'GET /authorize with a loopback redirect_uri in the query reaches the function (the WAF query rules let it through): an unknown client is refused by the handler, not by WAF',
    request: (urls) => ({
      url: `${urls.issuer}/authorize?response_type=code&client_id=integ-unknown-client&redirect_uri=${encodeURIComponent(LOOPBACK_REDIRECT_URI)}&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&state=integ&scope=mcp%3Atools`,
    }),
    expect: () => ({ status: 400, headers: { 'cache-control': 'no-store' } }),
  },
  {
    id: 'ServiceToken',
    description: 'an access token with mcp:tools only, from the declared machine client (feeds InsufficientScope)',
    request: (urls) => ({
      url: `${urls.issuer}/token`,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      // Concatenated, not URL-encoded: deployed, the secret is a CloudFormation token that encoding would
      // break. Machine client ids (`machine.<name>`) and generated secrets (letters, digits) need no escaping.
      // `resource` names the MCP server: required where one authorization server serves several (MRS-06).
      body: `grant_type=client_credentials&scope=mcp%3Atools&resource=${urls.mcpUrl}&client_id=${urls.machineClient.clientId}&client_secret=${urls.machineClient.secret}`,
    }),
  },
  {
    id: 'InsufficientScope',
    description: 'tools/call admin_stats with an mcp:tools token: 403 with the insufficient_scope challenge (from the gateway response with one server, from the runtime guard with several)',
    request: (urls, ref) => ({
      url: urls.mcpUrl,
      method: 'POST',
      headers: { ...MCP_HEADERS, Authorization: `Bearer ${ref('ServiceToken', 'access_token')}`, 'MCP-Protocol-Version': '2026-07-28', 'Mcp-Method': 'tools/call', 'Mcp-Name': 'admin_stats' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'admin_stats', arguments: {} } }),
    }),
    expect: (urls) => ({
      status: 403,
      headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="mcp:admin", resource_metadata="${urls.protectedResourceMetadataUrl}"`, 'access-control-allow-origin': '*' },
    }),
  },
];
