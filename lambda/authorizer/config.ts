import { defaultScopes, ScopeModel, scopeSatisfier } from '../../lib/scopes';
import { ENV, issuerUrls, parseScopeModel, SigningAlgorithm } from '../shared/config';
import { AUTHORIZER_ENV, authorizerCaching, clockToleranceFromEnv } from '../runtime/edge';

/**
 * Clock tolerance for `exp`, `nbf` and `iat`, in seconds. 60 s matches the catalogue anchors (JWT-07/08,
 * FAULT-05): `nbf`/`iat` 8 s ahead are accepted, 61 s ahead refused; `exp` 59 s ago accepted, 61 s ago refused.
 */
export const CLOCK_TOLERANCE_SECONDS = 60;

export interface AuthorizerConfig {
  /** Expected `iss`, byte for byte (AS-6). */
  readonly issuer: string;
  /** Expected `aud`: the MCP URL, exactly, as a single string (JWT-09, JWT-10). */
  readonly resource: string;
  readonly resourceMetadataUrl: string;
  /** The only accepted `alg` (RFC 8725 §3.1). */
  readonly algorithm: SigningAlgorithm;
  readonly scopeModel: ScopeModel;
  /** What an operation with no more specific rule needs, and what the 401 challenge advertises. */
  readonly defaultScopes: readonly string[];
  /** `satisfiesScopes` for this model, indexed once per container (RS-8 hierarchy). */
  readonly satisfies: (granted: readonly string[], required: readonly string[]) => boolean;
  readonly clockToleranceSeconds: number;
  /** Decide per tool from `Mcp-Method`/`Mcp-Name`; off when API Gateway caches decisions (docs/AUTHORIZER.md). */
  readonly edgeToolScopes: boolean;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the authorizer's configuration once per container; throws (failing the init) on anything invalid. */
export function loadAuthorizerConfig(env: Env): AuthorizerConfig {
  const issuer = env[ENV.issuer];
  if (!issuer) throw new Error(`Missing required environment variable ${ENV.issuer}`);
  const algorithm = env[ENV.signingAlgorithm] ?? 'RS256';
  if (algorithm !== 'RS256' && algorithm !== 'ES256') throw new Error(`${ENV.signingAlgorithm} must be RS256 or ES256, got ${algorithm}`);
  const ttlRaw = env[AUTHORIZER_ENV.cacheTtl];
  const ttl = ttlRaw === undefined || ttlRaw === '' ? 0 : Number(ttlRaw);
  const scopeModel = parseScopeModel(env[ENV.scopeModel]);
  const { resource, protectedResourceMetadataUrl } = issuerUrls(issuer);
  return {
    issuer,
    resource,
    resourceMetadataUrl: protectedResourceMetadataUrl,
    algorithm,
    scopeModel,
    defaultScopes: defaultScopes(scopeModel),
    satisfies: scopeSatisfier(scopeModel),
    clockToleranceSeconds: clockToleranceFromEnv(env, CLOCK_TOLERANCE_SECONDS),
    edgeToolScopes: authorizerCaching(ttl).edgeToolScopes,
  };
}
