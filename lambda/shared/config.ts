import { ENV } from '../../lib/environment';
import { integer, resourceServersFromEnv, signingAlgorithmFromEnv, type ResourceServers } from './resource-servers';
import { isHttpsOrLoopback } from '../../lib/loopback';
import { isMachineClientId, machineClientScopeProblem, type MachineClientConfig } from '../../lib/machine-clients';

/**
 * Handler configuration, read from environment variables once per container (fail fast on a missing
 * variable). The names (`ENV`) live in lib/environment.ts, shared with the construct that sets them.
 */
export { ENV };
export { parseScopeModel, resourceServersFromEnv, serverFor, type ResourceServerConfig, type ResourceServers } from './resource-servers';

export type SigningAlgorithm = 'RS256' | 'ES256';

export interface Lifetimes {
  /** Access token lifetime, 5 to 30 minutes (docs/REQUIREMENTS.md, design decision 3). */
  readonly accessToken: number;
  /** Absolute lifetime of a refresh-token family. */
  readonly refreshToken: number;
  /** A family unused for this long expires (RFC 9700 §4.14.2 inactivity expiry). */
  readonly refreshTokenIdle: number;
  /** After a rotation, the previous refresh token still works this long (a lost response). */
  readonly refreshGrace: number;
  /** Authorization codes live at most 60 s. */
  readonly authorizationCode: number;
  /** A registration that never completes an authorization expires after this long. */
  readonly unusedClient: number;
  /** A pending authorization (consent page, upstream sign-in) lives at most 10 minutes. */
  readonly pendingAuthorization: number;
  /** Remembered consent; 0 means consent is asked every time. */
  readonly rememberedConsent: number;
  /** The longest a sign-in session lasts (capped by the upstream ID token's expiry); 0 means no sessions. */
  readonly signInSession: number;
}

/** The upstream OpenID Connect provider the authorize handler is a relying party of. */
export interface UpstreamConfig {
  /** The provider's issuer identifier, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC`. */
  readonly issuer: string;
  readonly clientId: string;
  /** @default - a public client (PKCE only, no secret) */
  readonly clientSecretArn?: string;
  /** Always contains `openid`. */
  readonly scopes: string[];
  /** Budget in milliseconds for every upstream call of one request, well within API Gateway's 29 s. */
  readonly timeoutMs: number;
  /** Plain http is accepted for a loopback issuer only (local development and tests). */
  readonly allowInsecure: boolean;
}

export interface AuthServerConfig {
  /** The base URL with no trailing slash; byte-identical in metadata, PRM and `iss` (AS-6). */
  readonly issuer: string;
  /** The MCP servers this authorization server issues tokens for (RS-1, AS-17). */
  readonly servers: ResourceServers;
  readonly tables: { clients: string; codes: string; grants: string; pending: string; consents: string };
  readonly signing: { keyArn: string; algorithm: SigningAlgorithm; previousKeyArns: string[] };
  readonly lifetimes: Lifetimes;
  readonly registration: { maxPerDay?: number; allowedRedirectHosts?: string[]; extraRedirectSchemes: string[] };
  readonly cimdEnabled: boolean;
  /** The operator's machine clients (client_credentials); empty unless the construct declares some. */
  readonly machineClients: readonly MachineClientConfig[];
  /** Present when UPSTREAM_ISSUER is set; the authorize handler requires it ({@link requireUpstream}). */
  readonly upstream?: UpstreamConfig;
}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`Missing required environment variable ${name}`);
  return value;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? '').split(',').map((item) => item.trim()).filter((item) => item.length > 0);
}

function parseUpstream(env: Env): UpstreamConfig | undefined {
  const issuer = env[ENV.upstreamIssuer];
  if (issuer === undefined || issuer === '') return undefined;
  const url = URL.parse(issuer);
  if (!url || url.search || url.hash) throw new Error(`${ENV.upstreamIssuer} must be an absolute URL, got ${JSON.stringify(issuer)}`);
  if (!isHttpsOrLoopback(url)) {
    throw new Error(`${ENV.upstreamIssuer} must use https (http only on loopback), got ${issuer}`);
  }
  const scopes = (env[ENV.upstreamScopes] ?? 'openid email profile').split(' ').filter((scope) => scope.length > 0);
  return {
    issuer,
    clientId: required(env, ENV.upstreamClientId),
    clientSecretArn: env[ENV.upstreamClientSecretArn] || undefined,
    scopes: scopes.includes('openid') ? scopes : ['openid', ...scopes],
    timeoutMs: integer(env, ENV.upstreamTimeout, 10, 1, 20) * 1000,
    allowInsecure: url.protocol === 'http:',
  };
}

/** Fails fast on anything but the list the construct writes: a typo must not open or close a door silently. */
export function parseMachineClients(raw: string | undefined, known: readonly string[]): MachineClientConfig[] {
  if (raw === undefined || raw === '') return [];
  const fail = (why: string): never => {
    throw new Error(`${ENV.machineClients} is invalid: ${why}`);
  };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return fail('not JSON');
  }
  if (!Array.isArray(parsed)) return fail('not a JSON array');
  const ids = new Set<string>();
  return parsed.map((entry: Record<string, unknown>) => {
    const { clientId, secretId, scopes, introspection, resources } = entry ?? {};
    if (typeof clientId !== 'string' || !isMachineClientId(clientId)) return fail(`clientId ${JSON.stringify(clientId)}`);
    if (ids.has(clientId)) return fail(`duplicate clientId ${clientId}`);
    ids.add(clientId);
    if (typeof secretId !== 'string' || !secretId) return fail(`secretId of ${clientId}`);
    const problem = Array.isArray(scopes) ? machineClientScopeProblem(scopes, known) : 'scopes must be a list';
    if (problem) return fail(`${clientId} ${problem}`);
    if (resources !== undefined && (!Array.isArray(resources) || resources.some((path) => typeof path !== 'string'))) return fail(`resources of ${clientId}`);
    return { clientId, secretId, scopes: [...(scopes as string[])], introspection: introspection === true, ...(resources ? { resources: [...(resources as string[])] } : {}) };
  });
}

export function loadConfig(env: Env = process.env): AuthServerConfig {
  const issuer = required(env, ENV.issuer);
  const algorithm = signingAlgorithmFromEnv(env);
  const maxPerDay = env[ENV.maxRegistrationsPerDay] ? integer(env, ENV.maxRegistrationsPerDay, 0, 1, 10_000_000) : undefined;
  const allowedRedirectHosts = list(env, ENV.allowedRedirectHosts);
  const servers = resourceServersFromEnv(env, issuer);
  return {
    issuer,
    servers,
    tables: {
      clients: env[ENV.clientsTable] ?? '',
      codes: env[ENV.codesTable] ?? '',
      grants: env[ENV.grantsTable] ?? '',
      pending: env[ENV.pendingTable] ?? '',
      consents: env[ENV.consentsTable] ?? '',
    },
    signing: { keyArn: env[ENV.signingKeyArn] ?? '', algorithm, previousKeyArns: list(env, ENV.previousSigningKeyArns) },
    lifetimes: {
      // The construct allows 5 to 30 minutes; seconds-long lifetimes are for local end-to-end tests.
      accessToken: integer(env, ENV.accessTokenTtl, 600, 5, 1800),
      refreshToken: integer(env, ENV.refreshTokenTtl, 30 * 86400, 3600, 365 * 86400),
      refreshTokenIdle: integer(env, ENV.refreshTokenIdleTtl, 7 * 86400, 600, 365 * 86400),
      refreshGrace: integer(env, ENV.refreshGrace, 30, 0, 300),
      authorizationCode: 60,
      unusedClient: integer(env, ENV.unusedClientTtl, 86400, 600, 365 * 86400),
      pendingAuthorization: 600,
      rememberedConsent: integer(env, ENV.consentTtl, 30 * 86400, 0, 365 * 86400),
      signInSession: integer(env, ENV.signInSessionTtl, 3600, 0, 86400),
    },
    registration: {
      maxPerDay,
      allowedRedirectHosts: allowedRedirectHosts.length ? allowedRedirectHosts : undefined,
      extraRedirectSchemes: list(env, ENV.extraRedirectSchemes),
    },
    cimdEnabled: (env[ENV.cimdEnabled] ?? 'true') === 'true',
    machineClients: parseMachineClients(env[ENV.machineClients], servers.scopeNames),
    upstream: parseUpstream(env),
  };
}

/** The upstream provider, for the authorize handler: fails fast when it is not configured. */
export function requireUpstream(config: AuthServerConfig): UpstreamConfig {
  if (!config.upstream) throw new Error(`Missing required environment variable ${ENV.upstreamIssuer}`);
  return config.upstream;
}

/** Reads a table name that this handler needs, failing fast when the construct did not grant it. */
export function requireTable(config: AuthServerConfig, table: keyof AuthServerConfig['tables']): string {
  const name = config.tables[table];
  if (!name) throw new Error(`Missing required table name for ${table}`);
  return name;
}
