import { DEFAULT_SCOPE_MODEL, defaultScopes, type ScopeModel, scopeSatisfier, validateScopeModel } from '../../lib/scopes';
import { DEFAULT_MCP_PATH, mcpPathProblem, PROTECTED_RESOURCE_METADATA_PREFIX, protectedResourceMetadataPath } from '../../lib/protected-resources';
import { clockToleranceFromEnv, DEFAULT_CLOCK_TOLERANCE_SECONDS } from '../../lib/authorizer-gateway';
import { AUTHORIZER_ENV, ENV, GUARD_ENV } from '../../lib/environment';
import { list, required, type VariableReader } from '../../lib/environment-reader';

export interface McpGuardOptions {
  /** The protected resource metadata URL named in challenges: `<issuer>/.well-known/oauth-protected-resource<path>`. */
  readonly resourceMetadataUrl: string;
  /**
   * This MCP server's resource identifier, the only token audience accepted (MRS-03).
   * @default - derived from `resourceMetadataUrl` (the well-known segment removed: `<issuer><path>`)
   */
  readonly resource?: string;
  /**
   * The scope model configured on the construct (the same one the authorizer enforces).
   * @default - the construct's default model (`mcp:tools`, and `mcp:admin` for `admin_stats`)
   */
  readonly scopeModel?: ScopeModel;
  /**
   * Browser origins allowed to call the MCP endpoint besides its own, e.g. `https://app.example.com` (RS-10).
   * The endpoint's own origin (that of `resourceMetadataUrl`) is always allowed: a page it serves is not
   * a rebinding attack, and a rebound page carries its own, foreign origin.
   * @default - none: only the endpoint's own origin; a request carrying any other `Origin` is refused with 403
   */
  readonly allowedOrigins?: readonly string[];
  /**
   * Seconds a token may be past its `exp` before the guard refuses it, matching the authorizer.
   * @default 60
   */
  readonly clockToleranceSeconds?: number;
  /** Seconds since the epoch. @default - the system clock */
  readonly clock?: () => number;
  /**
   * Larger request bodies are refused with 413 before parsing.
   * @default 1 MiB
   */
  readonly maxBodyBytes?: number;
}

export interface ResolvedGuardOptions {
  readonly resourceMetadataUrl: string;
  readonly resource: string;
  readonly scopeModel: ScopeModel;
  readonly defaultScopes: readonly string[];
  /** `satisfiesScopes` for the model, indexed once. */
  readonly satisfies: (granted: readonly string[], required: readonly string[]) => boolean;
  readonly allowedOrigins: ReadonlySet<string>;
  readonly clockToleranceSeconds: number;
  readonly clock: () => number;
  readonly maxBodyBytes: number;
}

/** An origin in its serialized form (`scheme://host[:port]`, lower case, default port dropped), or undefined. */
export function normalizeOrigin(value: string): string | undefined {
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
    // Browsers send real host names; a wildcard or other odd character can only be a configuration mistake.
    if (!/^(?:[a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$/.test(url.hostname)) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** `https://h/prod/.well-known/oauth-protected-resource/tools/mcp` -> `https://h/prod/tools/mcp` (RFC 9728 §3.1 in reverse). */
export function resourceFromMetadataUrl(resourceMetadataUrl: string): string {
  const url = URL.parse(resourceMetadataUrl);
  const at = url ? url.pathname.indexOf(PROTECTED_RESOURCE_METADATA_PREFIX) : -1;
  if (!url || at < 0) throw new Error(`resource is required when resourceMetadataUrl has no ${PROTECTED_RESOURCE_METADATA_PREFIX} segment, got ${JSON.stringify(resourceMetadataUrl)}`);
  return url.origin + url.pathname.slice(0, at) + url.pathname.slice(at + PROTECTED_RESOURCE_METADATA_PREFIX.length);
}

export function resolveGuardOptions(options: McpGuardOptions): ResolvedGuardOptions {
  if (!options.resourceMetadataUrl) throw new Error('resourceMetadataUrl is required');
  const scopeModel = options.scopeModel ?? DEFAULT_SCOPE_MODEL;
  const problems = validateScopeModel(scopeModel);
  if (problems.length > 0) throw new Error(`scopeModel is invalid: ${problems.join('; ')}`);
  const ownOrigin = normalizeOrigin(options.resourceMetadataUrl);
  if (!ownOrigin) throw new Error(`resourceMetadataUrl must be an http(s) URL, got ${JSON.stringify(options.resourceMetadataUrl)}`);
  const allowedOrigins = new Set<string>([ownOrigin]);
  for (const origin of options.allowedOrigins ?? []) {
    const normalized = normalizeOrigin(origin);
    if (!normalized || normalized !== origin.replace(/\/$/, '').toLowerCase()) {
      throw new Error(`allowedOrigins must hold origins like https://app.example.com, got ${JSON.stringify(origin)}`);
    }
    allowedOrigins.add(normalized);
  }
  return {
    resourceMetadataUrl: options.resourceMetadataUrl,
    resource: options.resource ?? resourceFromMetadataUrl(options.resourceMetadataUrl),
    scopeModel,
    defaultScopes: defaultScopes(scopeModel),
    satisfies: scopeSatisfier(scopeModel),
    allowedOrigins,
    clockToleranceSeconds: options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS,
    clock: options.clock ?? (() => Math.floor(Date.now() / 1000)),
    maxBodyBytes: options.maxBodyBytes ?? 1024 * 1024,
  };
}

/** The variables the guard reads in the MCP function (McpServer.mcpFunctionEnvironment sets them). */
type GuardVariable = typeof ENV.issuer | typeof ENV.scopeModel | typeof GUARD_ENV.allowedOrigins | typeof GUARD_ENV.resourcePath | typeof AUTHORIZER_ENV.clockTolerance;

/**
 * The guard's options from the environment the construct sets on the MCP function: `ISSUER`,
 * `SCOPE_MODEL` (JSON, optional), `MCP_ALLOWED_ORIGINS` (comma-separated, optional) and
 * `MCP_RESOURCE_PATH` (this server's path, default `/mcp`).
 */
export function mcpGuardOptionsFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): McpGuardOptions {
  const read = env as VariableReader<GuardVariable>;
  const issuer = required(read, ENV.issuer);
  if (issuer.endsWith('/')) throw new Error(`ISSUER must not end with a slash, got ${issuer}`);
  const rawModel = read[ENV.scopeModel];
  const allowedOrigins = list(read, GUARD_ENV.allowedOrigins);
  // A server of a fleet (MCP_RESOURCE_PATH set) has its own scope model: the default one would be another's.
  if (read[GUARD_ENV.resourcePath] && !rawModel) throw new Error(`${GUARD_ENV.resourcePath} is set, so SCOPE_MODEL must be too (McpServer.mcpFunctionEnvironment has both)`);
  const path = read[GUARD_ENV.resourcePath] || DEFAULT_MCP_PATH;
  const pathProblem = mcpPathProblem(path);
  if (pathProblem) throw new Error(`${GUARD_ENV.resourcePath}: ${pathProblem}`);
  return {
    resourceMetadataUrl: issuer + protectedResourceMetadataPath(path),
    resource: issuer + path,
    scopeModel: rawModel ? (JSON.parse(rawModel) as ScopeModel) : undefined,
    allowedOrigins,
    clockToleranceSeconds: clockToleranceFromEnv(read),
  };
}
