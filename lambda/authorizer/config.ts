import { defaultScopes, ScopeModel, scopeSatisfier } from '../../lib/scopes';
import type { ChallengeMode } from '../../lib/protected-resources';
import type { SigningAlgorithm } from '../shared/config';
import { environmentOf, type Environment, type FunctionEnvironmentReader } from '../../lib/environment-reader';
import { issuerConfigFrom, signingAlgorithmFrom } from '../shared/resource-servers';
import { verificationKeysLoader, type Fetch, type VerificationKeys } from '../shared/verification-keys';
import { authorizerCaching, clockToleranceFromEnv } from '../../lib/authorizer-gateway';

/** How the authorizer decides for the routes of one MCP server. */
export interface AuthorizerConfig {
  /** Expected `iss`, byte for byte (AS-6). */
  readonly issuer: string;
  /** Expected `aud`: this server's MCP URL, exactly, as a single string (JWT-09, JWT-10, MRS-03). */
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
  /** `gateway`: throw for 401, Deny for 403. `authorizer`: Deny (401) with this server's challenge; scopes at the guard. */
  readonly challenges: ChallengeMode;
}

/** Each MCP server's configuration, by its API Gateway resource path (the authorizer event's `resource`). */
export type AuthorizerRoutes = ReadonlyMap<string, AuthorizerConfig>;

/** What the authorizer function loads at init: the routes, and the loader of its verification keys. */
export interface AuthorizerSetup {
  readonly routes: AuthorizerRoutes;
  /** TRUSTED_JWKS parsed now; JWKS_URI fetched by the first request (lambda/shared/verification-keys.ts). */
  readonly keys: () => VerificationKeys | Promise<VerificationKeys>;
}

/** Reads the authorizer function's variables (and no other), once per container; throws on anything invalid. */
export function loadAuthorizerConfig(env: Environment, fetchJwksDocument?: Fetch): AuthorizerSetup {
  const read = environmentOf('authorizer', env);
  const routes = routesFrom(read);
  // Every route has the one algorithm of the signing key.
  return { routes, keys: verificationKeysLoader(read, routes.values().next().value!.algorithm, fetchJwksDocument) };
}

/** Reads every server's configuration once per container; throws (failing the init) on anything invalid. */
export function loadAuthorizerRoutes(env: Environment): AuthorizerRoutes {
  return routesFrom(environmentOf('authorizer', env));
}

function routesFrom(read: FunctionEnvironmentReader<'authorizer'>): AuthorizerRoutes {
  const { issuer, servers } = issuerConfigFrom(read);
  const algorithm = signingAlgorithmFrom(read);
  // The contract's rule, which the guard shares; it reads CLOCK_TOLERANCE_SECONDS and nothing else.
  const clockToleranceSeconds = clockToleranceFromEnv(read);
  const routes = new Map<string, AuthorizerConfig>();
  for (const server of servers.byResource.values()) {
    routes.set(server.path, {
      issuer,
      resource: server.resource,
      resourceMetadataUrl: server.metadataUrl,
      algorithm,
      scopeModel: server.scopeModel,
      defaultScopes: defaultScopes(server.scopeModel),
      satisfies: scopeSatisfier(server.scopeModel),
      clockToleranceSeconds,
      edgeToolScopes: authorizerCaching(server.authorizerCacheTtlSeconds).edgeToolScopes,
      challenges: servers.challenges,
    });
  }
  return routes;
}
