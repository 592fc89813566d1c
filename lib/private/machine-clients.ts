import { Stack, Token } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { _acknowledge } from '../acknowledgements';
import { MACHINE_CLIENT_NAME, machineClientId, machineClientScopeProblem, type MachineClientConfig } from '../machine-clients';
import type { MachineClient, MachineClientOptions } from '../mcp-authorization-server';
import { checkSecretReadable, secretId } from './secrets';
import type { Problems } from './validation';

/** Names and secrets; the scope ceilings need every MCP server (`machineClientCeilingProblems`). */
export function checkMachineClients(declared: readonly MachineClientOptions[], stack: Stack, problems: Problems): void {
  const names = new Set<string>();
  for (const client of declared) {
    if (Token.isUnresolved(client.name) || !MACHINE_CLIENT_NAME.test(client.name)) {
      problems.add(`machineClients name must be 1 to 64 lower-case letters, digits or '-', starting with a letter or digit, got ${JSON.stringify(client.name)}`);
      continue;
    }
    if (names.has(client.name)) problems.add(`machineClients names must be unique, got ${JSON.stringify(client.name)} twice`);
    names.add(client.name);
    const unreadable = client.secret ? checkSecretReadable(client.secret, stack, `the secret of machineClients "${client.name}"`) : undefined;
    if (unreadable) problems.add(unreadable);
  }
}

/** What is wrong with each ceiling, given every scope some MCP server of the authorization server declares. */
/** MRS-09: with several MCP servers every machine client names its own; every name must be a served path. */
export function machineClientServerProblems(declared: readonly MachineClientOptions[], paths: readonly string[]): string[] {
  return declared.flatMap((client) => {
    if (client.mcpServers === undefined) {
      return paths.length > 1 ? [`machineClients "${client.name}" needs mcpServers: with ${paths.length} MCP servers (${paths.join(', ')}), name the ones it may obtain tokens for`] : [];
    }
    const unknown = client.mcpServers.filter((path) => !paths.includes(path));
    if (client.mcpServers.length === 0) return [`machineClients "${client.name}" mcpServers must name at least one MCP server, got none`];
    return unknown.length > 0 ? [`machineClients "${client.name}" mcpServers must be paths of this authorization server's MCP servers (${paths.join(', ')}), got ${unknown.map((path) => JSON.stringify(path)).join(', ')}`] : [];
  });
}

export function machineClientCeilingProblems(declared: readonly MachineClientOptions[], known: readonly string[]): string[] {
  return declared.flatMap((client) => {
    const problem = machineClientScopeProblem(client.scopes, known);
    return problem ? [`machineClients "${client.name}" ${problem}`] : [];
  });
}

/**
 * One Secrets Manager secret per machine client (generated unless the operator brings one); the
 * construct grants read to the token function only. The secret never appears in the template or an
 * environment variable: the token function reads it by ARN at run time.
 */
export function createMachineClients(scope: Construct, declared: readonly MachineClientOptions[]): { clients: MachineClient[]; config: MachineClientConfig[] } {
  const clients: MachineClient[] = [];
  const config: MachineClientConfig[] = [];
  for (const client of declared) {
    const clientId = machineClientId(client.name);
    const secret =
      client.secret ??
      new secretsmanager.Secret(scope, `MachineClient-${client.name}`, {
        description: `Client secret of the MCP machine client ${clientId} (client_credentials)`,
        generateSecretString: { passwordLength: 48, excludePunctuation: true },
      });
    if (!client.secret) _acknowledge(secret, 'machineClientSecret');
    clients.push({ name: client.name, clientId, secret });
    // The name when no complete ARN is known: a partial ARN is misread by Secrets Manager (secrets.ts).
    config.push({
      clientId,
      secretId: secretId(secret),
      scopes: [...client.scopes],
      introspection: client.introspection ?? false,
      ...(client.mcpServers ? { resources: [...client.mcpServers] } : {}),
    });
  }
  return { clients, config };
}
