import { AUTHORIZER_ENV, ENV } from './environment';

/**
 * The functions of an authorization server and the environment each one gets: the one list the
 * construct deploys, scripts/bundle.mjs builds, the local stack runs and the tests configure. Each
 * function is built from the bundle of the same name (`lambda/<name>/index.ts` → `assets/<name>/index.mjs`).
 */
export const AUTHORIZATION_SERVER_FUNCTIONS = ['metadata', 'register', 'token', 'authorize', 'authorizer'] as const;
export type AuthorizationServerFunction = (typeof AUTHORIZATION_SERVER_FUNCTIONS)[number];

/** Every prebuilt bundle: the functions above, and the example MCP server the local stack and the tests run. */
export const BUNDLES = [...AUTHORIZATION_SERVER_FUNCTIONS, 'example-mcp'] as const;
export type BundleName = (typeof BUNDLES)[number];

/** The variables one function may read: `required` ones the construct always sets, `optional` ones it may leave out. */
export interface FunctionEnvironmentSpec {
  readonly required: readonly string[];
  /**
   * Set by the construct only when configured (e.g. previous signing keys), or never set by it and read
   * with a default (local-stack and test knobs, and the 0.2 variables a handler reads without
   * PROTECTED_RESOURCES).
   */
  readonly optional: readonly string[];
}

const SIGNING = [ENV.signingKeyArn, ENV.signingAlgorithm] as const;
/** One server at /mcp, as 0.2 configured it: read only when PROTECTED_RESOURCES is absent. */
const SINGLE_SERVER_FALLBACK = [ENV.scopeModel, AUTHORIZER_ENV.cacheTtl] as const;

/**
 * What each function reads, and nothing else: its loader (lambda/<name>/config.ts) accepts only these
 * names, the construct sets no other, and the local stack and the test harness give each handler
 * exactly these (`functionEnvironment`).
 */
export const FUNCTION_ENVIRONMENTS = {
  metadata: {
    required: [ENV.issuer, ENV.protectedResources, ...SIGNING, ENV.cimdEnabled],
    optional: [ENV.previousSigningKeyArns, ENV.machineClients, ...SINGLE_SERVER_FALLBACK],
  },
  register: {
    required: [ENV.issuer, ENV.protectedResources, ENV.clientsTable, ENV.unusedClientTtl],
    optional: [ENV.allowedRedirectHosts, ENV.extraRedirectSchemes, ENV.maxRegistrationsPerDay, ...SINGLE_SERVER_FALLBACK],
  },
  token: {
    required: [ENV.issuer, ENV.protectedResources, ...SIGNING, ENV.cimdEnabled, ENV.accessTokenTtl, ENV.refreshTokenTtl, ENV.refreshTokenIdleTtl, ENV.clientsTable, ENV.codesTable, ENV.grantsTable],
    optional: [ENV.previousSigningKeyArns, ENV.machineClients, ENV.refreshGrace, ...SINGLE_SERVER_FALLBACK],
  },
  authorize: {
    required: [
      ENV.issuer,
      ENV.protectedResources,
      ENV.cimdEnabled,
      ENV.clientsTable,
      ENV.codesTable,
      ENV.pendingTable,
      ENV.consentsTable,
      ENV.consentTtl,
      ENV.signInSessionTtl,
      ENV.upstreamIssuer,
      ENV.upstreamClientId,
      ENV.upstreamClientSecretArn,
      ENV.upstreamScopes,
    ],
    optional: [ENV.allowedRedirectHosts, ENV.upstreamTimeout, ...SINGLE_SERVER_FALLBACK],
  },
  authorizer: {
    // The key ARNs are not read: they are set so that a change of the published key set changes the
    // function's configuration, and every container reloads the JWKS.
    required: [ENV.issuer, ENV.protectedResources, ...SIGNING, AUTHORIZER_ENV.jwksUri],
    optional: [ENV.previousSigningKeyArns, AUTHORIZER_ENV.trustedJwks, AUTHORIZER_ENV.clockTolerance, ...SINGLE_SERVER_FALLBACK],
  },
} as const satisfies Readonly<Record<AuthorizationServerFunction, FunctionEnvironmentSpec>>;

/** The variable names one function may read. */
export type FunctionVariable<F extends AuthorizationServerFunction> =
  | (typeof FUNCTION_ENVIRONMENTS)[F]['required'][number]
  | (typeof FUNCTION_ENVIRONMENTS)[F]['optional'][number];

/** The part of `values` that function `name` gets: the variables of its spec, and no other. */
export function functionEnvironment(name: AuthorizationServerFunction, values: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const spec: FunctionEnvironmentSpec = FUNCTION_ENVIRONMENTS[name];
  const environment: Record<string, string> = {};
  for (const variable of [...spec.required, ...spec.optional]) {
    const value = values[variable];
    if (value !== undefined) environment[variable] = value;
  }
  return environment;
}

/** What is wrong with an environment given to function `name`: a required variable missing, or one it does not read. */
export function functionEnvironmentProblems(name: AuthorizationServerFunction, environment: Readonly<Record<string, unknown>>): string[] {
  const spec: FunctionEnvironmentSpec = FUNCTION_ENVIRONMENTS[name];
  const known = new Set([...spec.required, ...spec.optional]);
  return [
    ...spec.required.filter((variable) => environment[variable] === undefined).map((variable) => `${name} needs ${variable}`),
    ...Object.keys(environment).filter((variable) => !known.has(variable)).map((variable) => `${name} does not read ${variable}`),
  ];
}
