/**
 * Machine clients: the only clients that obtain tokens without a user (the client_credentials grant).
 * Open registration never creates one (REV-01); the operator declares each on the construct, with the
 * scopes it may hold. Plain data shared by the construct (which sets `MACHINE_CLIENTS`) and the token
 * handler (which reads it), so the id rule below is written once.
 */

/** What the construct passes to the token function for each machine client (JSON in `MACHINE_CLIENTS`). */
export interface MachineClientConfig {
  /** `machine.<name>`: the `.` never occurs in a registered client id, so the two can never collide. */
  readonly clientId: string;
  /** The Secrets Manager secret (complete ARN, or its name when no complete ARN is known) whose SecretString is the client secret. */
  readonly secretId: string;
  /** The scope ceiling: a token never carries a scope outside this list. */
  readonly scopes: readonly string[];
  /** May introspect every token this server issued (a resource server); otherwise only its own. */
  readonly introspection: boolean;
  /** The paths of the MCP servers it may obtain tokens for (MRS-09); absent: every server (one-server deployments). */
  readonly resources?: readonly string[];
}

export const MACHINE_CLIENT_PREFIX = 'machine.';

/** Lower-case letters, digits and `-`, 1 to 64 characters, starting with a letter or digit. */
export const MACHINE_CLIENT_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

export const machineClientId = (name: string) => `${MACHINE_CLIENT_PREFIX}${name}`;

/** `machine.<name>` with a valid name: the one rule the construct, the configuration and the token endpoint share. */
export const isMachineClientId = (clientId: string) =>
  clientId.startsWith(MACHINE_CLIENT_PREFIX) && MACHINE_CLIENT_NAME.test(clientId.slice(MACHINE_CLIENT_PREFIX.length));

/**
 * What is wrong with a machine client's scope ceiling: it must be a non-empty list of the scope model's
 * own scopes (never `offline_access`). Checked at synth and again when the token function starts.
 */
export function machineClientScopeProblem(scopes: readonly unknown[], known: readonly string[]): string | undefined {
  if (scopes.length === 0) return 'needs at least one scope (its ceiling), got none';
  const unknown = scopes.filter((scope) => typeof scope !== 'string' || !known.includes(scope));
  if (unknown.length > 0) return `scopes must be scopes of this server (${known.join(', ')}), got ${unknown.map((s) => JSON.stringify(s)).join(', ')}`;
  return undefined;
}

/**
 * The `gty` claim of a token obtained without a user (the grant type, as Auth0 and others name it).
 * The authorizer passes it on, so the MCP function can tell a machine caller from a user.
 */
export const MACHINE_GRANT_CLAIM = { name: 'gty', value: 'client_credentials' } as const;
