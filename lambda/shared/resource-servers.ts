import { DEFAULT_SCOPE_MODEL, ScopeModel, validateScopeModel } from '../../lib/scopes';
import { AUTHORIZER_ENV, ENV } from '../../lib/environment';
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

/**
 * The MCP servers (protected resources) a handler serves, from the environment: what the authorizer
 * needs of the configuration, kept apart from lambda/shared/config.ts so its bundle stays small.
 */

type Env = Readonly<Record<string, string | undefined>>;

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

/** An integer variable within [min, max], or the fallback when unset; the one rule every loader uses. */
export function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function parseScopeModel(raw: string | undefined): ScopeModel {
  if (raw === undefined || raw === '') return DEFAULT_SCOPE_MODEL;
  const model = JSON.parse(raw) as ScopeModel;
  const problems = validateScopeModel(model);
  if (problems.length > 0) throw new Error(`${ENV.scopeModel} is invalid: ${problems.join('; ')}`);
  return model;
}

/** AS-9: every endpoint is HTTPS; plain http only on loopback for local development. */
export function checkIssuer(issuer: string): void {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new Error(`${ENV.issuer} must be an absolute URL, got ${JSON.stringify(issuer)}`);
  }
  if (!isHttpsOrLoopback(url)) {
    throw new Error(`${ENV.issuer} must use https (http only on loopback), got ${issuer}`);
  }
  if (issuer.endsWith('/') || url.search || url.hash) {
    throw new Error(`${ENV.issuer} must have no trailing slash, query or fragment, got ${issuer}`);
  }
}

/**
 * The MCP servers from `PROTECTED_RESOURCES`, or, without it, the one server at `/mcp` with `SCOPE_MODEL`
 * and the authorizer's `AUTHORIZER_CACHE_TTL_SECONDS` (the configuration 0.2 deployed).
 */
export function resourceServersFromEnv(env: Env, issuer: string): ResourceServers {
  checkIssuer(issuer);
  const raw = env[ENV.protectedResources];
  const spec: ProtectedResourcesSpec = raw
    ? parseProtectedResources(raw)
    : {
        servers: [{ path: DEFAULT_MCP_PATH, scopeModel: parseScopeModel(env[ENV.scopeModel]), authorizerCacheTtlSeconds: integer(env, AUTHORIZER_ENV.cacheTtl, 0, 0, 300) }],
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
export function signingAlgorithmFromEnv(env: Env): 'RS256' | 'ES256' {
  const algorithm = env[ENV.signingAlgorithm] ?? 'RS256';
  if (algorithm !== 'RS256' && algorithm !== 'ES256') throw new Error(`${ENV.signingAlgorithm} must be RS256 or ES256, got ${algorithm}`);
  return algorithm;
}
