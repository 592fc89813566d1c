import { DEFAULT_SCOPE_MODEL, ScopeModel, validateScopeModel } from '../../lib/scopes';
import { AUTHORIZER_ENV, type ENV } from '../../lib/environment';
import {
  allScopeNames,
  DEFAULT_MCP_PATH,
  type ChallengeMode,
  defaultServerPath,
  parseProtectedResources,
  protectedResourceMetadataPath,
  type ProtectedResourcesSpec,
} from '../../lib/protected-resources';
import { isHttpsOrLoopback } from '../../lib/loopback';
import { integer, required, type VariableReader } from '../../lib/environment-reader';
import { type JwsAlgorithm, SIGNING_ALGORITHMS } from '../../lib/signing-algorithms';

/**
 * The MCP servers (protected resources) a handler serves, from the environment: what the authorizer
 * needs of the configuration, kept apart from lambda/shared/config.ts so its bundle stays small.
 */

/**
 * The names this file reads, as literals the compiler holds equal to lib/environment.ts (a renamed
 * variable fails the build): importing `ENV` itself would put every variable name of the contract into
 * the authorizer bundle (about 0.9 KB), for the four it reads.
 */
const VARIABLE = {
  issuer: 'ISSUER',
  scopeModel: 'SCOPE_MODEL',
  protectedResources: 'PROTECTED_RESOURCES',
  signingAlgorithm: 'SIGNING_ALGORITHM',
} as const satisfies Partial<typeof ENV>;

/** The variables the MCP servers are read from: PROTECTED_RESOURCES, or the 0.2 single-server pair. */
export type ResourceServerVariable = typeof ENV.protectedResources | typeof ENV.scopeModel | typeof AUTHORIZER_ENV.cacheTtl;

/** One MCP server: a protected resource with its own identifier, metadata and scope model (RS-1, MRS-01). */
export interface ResourceServerConfig {
  /** The resource identifier and token audience: the exact MCP URL, `issuer + path`. */
  readonly resource: string;
  /** The MCP endpoint relative to the issuer, e.g. `/mcp`. */
  readonly path: string;
  /** Its protected resource metadata URL (named in its challenges). */
  readonly metadataUrl: string;
  /** Its scopes: a scope name means something only together with this resource. */
  readonly scopeModel: ScopeModel;
  readonly authorizerCacheTtlSeconds: number;
}

/** The MCP servers of an authorization server, as the handlers use them. */
export interface ResourceServers {
  /** By resource identifier (the exact MCP URL). */
  readonly byResource: ReadonlyMap<string, ResourceServerConfig>;
  /** The server a request without `resource` means: the configured default or the only server (MRS-06). */
  readonly defaultServer?: ResourceServerConfig;
  readonly challenges: ChallengeMode;
  /** Every scope some server declares (what registration admits and AS metadata lists). */
  readonly scopeNames: readonly string[];
}

export function parseScopeModel(raw: string | undefined): ScopeModel {
  if (raw === undefined || raw === '') return DEFAULT_SCOPE_MODEL;
  const model = JSON.parse(raw) as ScopeModel;
  const problems = validateScopeModel(model);
  if (problems.length > 0) throw new Error(`${VARIABLE.scopeModel} is invalid: ${problems.join('; ')}`);
  return model;
}

/** AS-9: every endpoint is HTTPS; plain http only on loopback for local development. */
function checkIssuer(issuer: string): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`${VARIABLE.issuer} must be an absolute URL, got ${JSON.stringify(issuer)}`);
  }
  if (!isHttpsOrLoopback(url)) {
    throw new Error(`${VARIABLE.issuer} must use https (http only on loopback), got ${issuer}`);
  }
  if (issuer.endsWith('/') || url.search || url.hash) {
    throw new Error(`${VARIABLE.issuer} must have no trailing slash, query or fragment, got ${issuer}`);
  }
}

/**
 * The MCP servers from `PROTECTED_RESOURCES`, or, without it, the one server at `/mcp` with `SCOPE_MODEL`
 * and the authorizer's `AUTHORIZER_CACHE_TTL_SECONDS` (the configuration 0.2 deployed).
 */
export function resourceServersFrom(read: VariableReader<ResourceServerVariable>, issuer: string): ResourceServers {
  checkIssuer(issuer);
  const raw = read[VARIABLE.protectedResources];
  const spec: ProtectedResourcesSpec = raw
    ? parseProtectedResources(raw)
    : {
        servers: [{ path: DEFAULT_MCP_PATH, scopeModel: parseScopeModel(read[VARIABLE.scopeModel]), authorizerCacheTtlSeconds: integer(read, AUTHORIZER_ENV.cacheTtl, 0, 0, 300) }],
        challenges: 'gateway',
      };
  const byResource = new Map<string, ResourceServerConfig>();
  for (const server of spec.servers) {
    const resource = issuer + server.path;
    byResource.set(resource, { resource, path: server.path, metadataUrl: issuer + protectedResourceMetadataPath(server.path), scopeModel: server.scopeModel, authorizerCacheTtlSeconds: server.authorizerCacheTtlSeconds });
  }
  const defaultPath = defaultServerPath(spec);
  return {
    byResource,
    defaultServer: defaultPath === undefined ? undefined : byResource.get(issuer + defaultPath),
    challenges: spec.challenges,
    scopeNames: allScopeNames(spec),
  };
}

/**
 * The server a `resource` parameter names (RFC 8707): absent means the default server, when there is
 * one; a value not served here, or absent with no default, is undefined (the caller answers invalid_target).
 */
export function serverFor(servers: ResourceServers, resource: string | undefined): ResourceServerConfig | undefined {
  return resource === undefined ? servers.defaultServer : servers.byResource.get(resource);
}

/** The JWS algorithm of the signing key (`SIGNING_ALGORITHM`, default RS256): the only one tokens may carry. */
export function signingAlgorithmFrom(read: VariableReader<typeof ENV.signingAlgorithm>): JwsAlgorithm {
  const algorithm = read[VARIABLE.signingAlgorithm] ?? 'RS256';
  if (!Object.hasOwn(SIGNING_ALGORITHMS, algorithm)) throw new Error(`${VARIABLE.signingAlgorithm} must be ${Object.keys(SIGNING_ALGORITHMS).join(' or ')}, got ${algorithm}`);
  return algorithm as JwsAlgorithm;
}

/** What every authorization-server function is configured with: the issuer and the MCP servers. */
export interface IssuerConfig {
  /** The base URL with no trailing slash; byte-identical in metadata, PRM and `iss` (AS-6). */
  readonly issuer: string;
  /** The MCP servers this authorization server issues tokens for (RS-1, AS-17). */
  readonly servers: ResourceServers;
}

export function issuerConfigFrom(read: VariableReader<typeof ENV.issuer | ResourceServerVariable>): IssuerConfig {
  const issuer = required(read, VARIABLE.issuer);
  return { issuer, servers: resourceServersFrom(read, issuer) };
}
