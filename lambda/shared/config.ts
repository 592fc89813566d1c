import { ENV } from '../../lib/environment';
import { isMachineClientId, machineClientScopeProblem, type MachineClientConfig } from '../../lib/machine-clients';
import { list, required, type VariableReader } from '../../lib/environment-reader';
import { signingAlgorithmFrom } from './resource-servers';
import type { JwsAlgorithm } from '../../lib/signing-algorithms';

/**
 * The configuration pieces several handlers share, each read one way. Every handler loads its own
 * configuration (lambda/<function>/config.ts) from its function's variables only, once per container
 * (fail fast on a missing or bad value). The names (`ENV`) live in lib/environment.ts, shared with the
 * construct that sets them. The authorizer does not import this file: lambda/shared/resource-servers.ts
 * holds what it needs.
 */
export { parseScopeModel, serverFor, type IssuerConfig, type ResourceServerConfig, type ResourceServers } from './resource-servers';

/** The JWS algorithm tokens are signed with (lib/signing-algorithms.ts). */
export type SigningAlgorithm = JwsAlgorithm;

/** The KMS signing key, and the keys still published after a rotation (metadata and token functions). */
export interface SigningConfig {
  readonly keyArn: string;
  readonly algorithm: SigningAlgorithm;
  readonly previousKeyArns: string[];
}

export function signingConfigFrom(read: VariableReader<typeof ENV.signingKeyArn | typeof ENV.signingAlgorithm | typeof ENV.previousSigningKeyArns>): SigningConfig {
  const algorithm = signingAlgorithmFrom(read);
  return { keyArn: required(read, ENV.signingKeyArn), algorithm, previousKeyArns: list(read, ENV.previousSigningKeyArns) };
}

/** `CIMD_ENABLED`: Client ID Metadata Documents are accepted unless it says otherwise. */
export function cimdEnabledFrom(read: VariableReader<typeof ENV.cimdEnabled>): boolean {
  return (read[ENV.cimdEnabled] ?? 'true') === 'true';
}

/** The operator's machine clients (client_credentials); empty unless the construct declares some. */
export function machineClientsFrom(read: VariableReader<typeof ENV.machineClients>, scopeNames: readonly string[]): MachineClientConfig[] {
  return parseMachineClients(read[ENV.machineClients], scopeNames);
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

/** `ALLOWED_REDIRECT_HOSTS`: the hosts redirect URIs may name; undefined (any host) when unset or empty. */
export function allowedRedirectHostsFrom(read: VariableReader<typeof ENV.allowedRedirectHosts>): string[] | undefined {
  const hosts = list(read, ENV.allowedRedirectHosts);
  return hosts.length ? hosts : undefined;
}
