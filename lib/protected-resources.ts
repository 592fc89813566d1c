import { knownScopeNames, validateScopeModel, type ScopeModel } from './scopes';

/**
 * The protected resources (MCP servers) one authorization server serves: the contract between the
 * construct (which writes `PROTECTED_RESOURCES` on the authorization-server functions), the handlers,
 * the local stack and the tests. Plain data that imports nothing but the scope model.
 *
 * Each MCP server is its own protected resource (RFC 8707, RFC 9728): its resource identifier is its
 * exact MCP URL (`issuer + path`), it has its own metadata document and challenge, and its own scope
 * model. The same scope name on two servers is two different permissions: a token has one audience and
 * its scopes are read with that audience's model.
 */

/** Where the protected resource metadata of the server at `path` is served, relative to the issuer (RFC 9728 §3.1 path insertion). */
export const PROTECTED_RESOURCE_METADATA_PREFIX = '/.well-known/oauth-protected-resource';

/** The path of the one MCP server of a `SecureMcpServer`, and of a server that names no path. */
export const DEFAULT_MCP_PATH = '/mcp';

/**
 * How refusals of a request without a valid token are answered.
 * - `gateway`: the static UNAUTHORIZED gateway response names the one server's metadata (one server only:
 *   API Gateway has one such response per API), and an insufficient scope is an explicit Deny (403).
 * - `authorizer`: the authorizer refuses with an explicit Deny whose context carries the server's own
 *   challenge (the ACCESS_DENIED response, then 401). The scope check moves to the runtime guard in the
 *   MCP function (403 with the server's challenge): API Gateway maps every Deny to one status.
 */
export type ChallengeMode = 'gateway' | 'authorizer';

export interface ProtectedResourceSpec {
  /** The MCP endpoint relative to the issuer, e.g. `/mcp` or `/tools/mcp`. */
  readonly path: string;
  readonly scopeModel: ScopeModel;
  /** The API Gateway authorizer result TTL of this server's routes (0 = decide every request). */
  readonly authorizerCacheTtlSeconds: number;
}

export interface ProtectedResourcesSpec {
  readonly servers: readonly ProtectedResourceSpec[];
  /** The server a request without `resource` means; absent with several servers = `resource` is required. */
  readonly defaultPath?: string;
  readonly challenges: ChallengeMode;
}

/** The metadata path of the server at `mcpPath`, e.g. `/.well-known/oauth-protected-resource/tools/mcp`. */
export const protectedResourceMetadataPath = (mcpPath: string) => `${PROTECTED_RESOURCE_METADATA_PREFIX}${mcpPath}`;

/** Lower-case path segments of letters, digits, `-`, `_` and `.`: no parameter, no trailing slash. */
const MCP_PATH = /^(\/[a-z0-9][a-z0-9._-]*)+$/;

/** First segments the authorization server's own routes use; an MCP path may not start with one. */
const RESERVED_FIRST_SEGMENTS = ['.well-known', 'jwks.json', 'register', 'authorize', 'callback', 'consent', 'token', 'revoke', 'introspect'];

/** What is wrong with an MCP path, or undefined. */
export function mcpPathProblem(path: string): string | undefined {
  if (typeof path !== 'string' || !MCP_PATH.test(path) || path.length > 200) {
    return `path must be lower-case path segments like /mcp or /tools/mcp (letters, digits, '.', '_', '-'; no trailing slash), got ${JSON.stringify(path)}`;
  }
  const first = path.split('/')[1];
  if (RESERVED_FIRST_SEGMENTS.includes(first)) return `path must not start with /${first}: the authorization server serves it, got ${JSON.stringify(path)}`;
  return undefined;
}

/** Every problem of a spec (empty when valid): checked at synth and again when a function starts. */
export function protectedResourcesProblems(spec: ProtectedResourcesSpec): string[] {
  const problems: string[] = [];
  if (!Array.isArray(spec.servers) || spec.servers.length === 0) return ['at least one MCP server is needed'];
  const paths = new Set<string>();
  for (const server of spec.servers) {
    const pathProblem = mcpPathProblem(server.path);
    if (pathProblem) problems.push(pathProblem);
    if (paths.has(server.path)) problems.push(`path ${server.path} is served twice`);
    paths.add(server.path);
    const modelProblems = server.scopeModel ? validateScopeModel(server.scopeModel) : ['scopeModel is missing'];
    problems.push(...modelProblems.map((problem) => `${server.path}: ${problem}`));
    const ttl = server.authorizerCacheTtlSeconds;
    if (!Number.isInteger(ttl) || ttl < 0 || ttl > 300) problems.push(`${server.path}: authorizerCacheTtlSeconds must be 0 to 300, got ${JSON.stringify(ttl)}`);
  }
  if (spec.defaultPath !== undefined && !paths.has(spec.defaultPath)) problems.push(`defaultPath ${JSON.stringify(spec.defaultPath)} is not one of the servers`);
  if (spec.challenges !== 'gateway' && spec.challenges !== 'authorizer') problems.push(`challenges must be gateway or authorizer, got ${JSON.stringify(spec.challenges)}`);
  if (spec.challenges === 'gateway' && spec.servers.length > 1) problems.push('challenges: gateway serves exactly one MCP server (API Gateway has one UNAUTHORIZED response per API)');
  return problems;
}

/** The server a request without `resource` means: the configured default, or the only server. */
export function defaultServerPath(spec: ProtectedResourcesSpec): string | undefined {
  return spec.defaultPath ?? (spec.servers.length === 1 ? spec.servers[0].path : undefined);
}

/** Every scope name some server declares: what a registration's `scope` may hold, and what AS metadata lists. */
export function allScopeNames(spec: ProtectedResourcesSpec): string[] {
  return [...new Set(spec.servers.flatMap((server) => knownScopeNames(server.scopeModel)))];
}

/**
 * `PROTECTED_RESOURCES` is the spec's JSON, or, when that would not fit Lambda's 4 KB environment, this
 * prefix and the base64 of the gzipped JSON: every function carries every server's scope model, and
 * fleets' models repeat themselves (thirty servers with the default model take about 530 bytes).
 */
export const COMPRESSED_PREFIX = 'gzip:';

/** The JSON text of a `PROTECTED_RESOURCES` value in either form. */
export function protectedResourcesJson(raw: string): string {
  if (!raw.startsWith(COMPRESSED_PREFIX)) return raw;
  // Loaded only for a compressed value, so a function whose value is plain JSON never loads zlib.
  const zlib = process.getBuiltinModule('node:zlib');
  return zlib.gunzipSync(Buffer.from(raw.slice(COMPRESSED_PREFIX.length), 'base64')).toString('utf8');
}

/** The compressed form of a spec's JSON (the construct writes it when the plain form would not fit). */
export function compressProtectedResources(json: string): string {
  const zlib = process.getBuiltinModule('node:zlib');
  return COMPRESSED_PREFIX + zlib.gzipSync(Buffer.from(json, 'utf8'), { level: 9 }).toString('base64');
}

/** Parses `PROTECTED_RESOURCES` (either form); throws with every problem (a function then fails its start, loudly). */
export function parseProtectedResources(raw: string): ProtectedResourcesSpec {
  let parsed: unknown;
  try {
    parsed = JSON.parse(protectedResourcesJson(raw));
  } catch {
    throw new Error('PROTECTED_RESOURCES is neither JSON nor its compressed form');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('PROTECTED_RESOURCES must be a JSON object');
  const spec = parsed as ProtectedResourcesSpec;
  const problems = protectedResourcesProblems(spec);
  if (problems.length > 0) throw new Error(`PROTECTED_RESOURCES is invalid: ${problems.join('; ')}`);
  return spec;
}
