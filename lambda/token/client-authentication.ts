import { type AuthenticatedClient, authenticateClient, machineClientFor, machineClientRecord, PresentedClient, storedClientId, tokenEndpointClient } from '../shared/client-auth';
import type { MachineClientConfig } from '../../lib/machine-clients';
import { TemporarilyUnavailableError } from '../shared/oauth-error';
import type { CodeRecord } from '../shared/code-store';
import type { GrantRecord } from '../shared/grant-store';
import type { TokenDeps } from './exchange';

/** The token endpoint's one read and its client authentication, shared by every grant, revocation and introspection. */

/**
 * The token endpoint's one read (code and/or grant with the client, a single BatchGetItem) followed by
 * client authentication. Shared by every grant, revocation and introspection.
 */
export async function readAuthenticated(
  presented: PresentedClient,
  lookup: { codeHash?: string; grantId?: string },
  deps: Pick<TokenDeps, 'stores' | 'config' | 'machineSecret'>,
  now: number,
): Promise<{ client: AuthenticatedClient; code?: CodeRecord; grant?: GrantRecord }> {
  const machine = machineClientFor(presented, deps.config.machineClients);
  // A machine client's secret is read alongside the table, so it adds no round trip.
  const [read, machineSecret] = await Promise.all([
    deps.stores.records.read({ ...lookup, clientId: storedClientId(presented) }, now),
    machine ? readMachineSecret(machine, deps) : undefined,
  ]);
  const candidate = machine ? machineClientRecord(machine, presented, machineSecret!) : tokenEndpointClient(presented, read.client, deps.config.cimdEnabled);
  const client = authenticateClient(presented, candidate);
  return { client, code: read.code, grant: read.grant };
}

export async function readMachineSecret(machine: MachineClientConfig, deps: Pick<TokenDeps, 'machineSecret'>): Promise<string> {
  if (!deps.machineSecret) throw new Error('machine clients are configured without a secret reader');
  try {
    return await deps.machineSecret(machine);
  } catch (error) {
    throw new TemporarilyUnavailableError('secretsmanager', error instanceof Error ? error.name : 'unknown');
  }
}
