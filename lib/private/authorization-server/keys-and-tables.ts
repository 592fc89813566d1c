import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { IdentityProviderConfig } from '../../identity-provider';
import type { MachineClientConfig } from '../../machine-clients';
import type { MachineClient } from '../../mcp-authorization-server';
import { type TableName, TABLES } from '../../tables';
import { createMachineClients } from '../machine-clients';
import { checkSecretReadable } from '../secrets';
import { createSigningKey } from '../signing-key';
import { createTable } from '../storage';
import { Problems } from '../validation';
import { broughtTable, type ResolvedProps } from './props';

/**
 * Step 3: what holds state and secrets: the signing key (created or brought), the five tables, the
 * upstream identity provider's client and the machine clients' secrets. Their construct ids and
 * logical ids are a deployed contract: an upgrade must never replace a table or a key.
 */

export interface KeysAndTables {
  readonly signingKey: kms.IKey;
  readonly previousSigningKeys: readonly kms.IKey[];
  readonly tables: Readonly<Record<TableName, dynamodb.ITable>>;
  readonly upstream: IdentityProviderConfig;
  readonly machineClients: MachineClient[];
  /** The machine clients as the token and metadata functions read them (`MACHINE_CLIENTS`). */
  readonly machineClientConfig: MachineClientConfig[];
}

export function createKeysAndTables(construct: Construct, resolved: ResolvedProps, callbackUrl: string): KeysAndTables {
  const { props, algorithm, removalPolicy } = resolved;
  const signingKey = props.signingKey ?? createSigningKey(construct, 'SigningKey', { keySpec: algorithm.keySpec, removalPolicy, administrators: props.signingKeyAdmins });
  const tables = {} as Record<TableName, dynamodb.ITable>;
  for (const definition of TABLES) tables[definition.name] = broughtTable(props, definition.name) ?? createTable(construct, definition, removalPolicy);
  const upstream = props.identityProvider.bind(construct, { callbackUrl });
  const machineClients = createMachineClients(construct, props.machineClients ?? []);
  // Known only once the identity provider is bound (a Cognito client secret is created by it).
  const problems = new Problems();
  const secretProblem = checkSecretReadable(upstream.clientSecret, Stack.of(construct), 'the upstream client secret');
  if (secretProblem) problems.add(secretProblem);
  problems.throwIfAny(construct.node.path, `${resolved.kind} props`);
  return {
    signingKey,
    previousSigningKeys: props.previousSigningKeys ?? [],
    tables,
    upstream,
    machineClients: machineClients.clients,
    machineClientConfig: machineClients.config,
  };
}
