import { isMachineClientId, type MachineClientConfig } from '../../lib/machine-clients';
import { isClientIdMetadataUrl, isUrlShapedClientId } from '../shared/cimd/url';
import type { ClientRecord, TokenEndpointAuthMethod } from '../shared/client-store';
import type { CodeRecord } from '../shared/code-store';
import { constantTimeEqual, sha256 } from '../shared/crypto';
import type { GrantRecord } from '../shared/grant-store';
import type { FormParameters } from '../shared/http';
import { invalidClient, invalidRequest, OAuthError, TemporarilyUnavailableError } from '../shared/oauth-error';
import type { TokenDeps } from './exchange';

/**
 * How a client authenticates at the token endpoint (/token, /revoke, /introspect): the credentials it
 * presents, the rules they must meet, machine and metadata-document clients, and the one read that
 * fetches the client with the code or grant.
 */

/** What the caller presented to identify itself at /token, /revoke or /introspect. */
export interface PresentedClient {
  readonly clientId: string;
  readonly method: TokenEndpointAuthMethod;
  readonly secret?: string;
}

/** Client ids and secrets longer than this are not ours (ours are 22 and 43 characters; CIMD URLs ≤ 2 KB). */
const MAX_CREDENTIAL_LENGTH = 2048;

function decodeBasicComponent(value: string): string {
  // RFC 6749 §2.3.1: id and secret are form-urlencoded before Base64.
  try {
    return decodeURIComponent(value.replace(/\+/g, '%20'));
  } catch {
    throw invalidClient('basic_malformed');
  }
}

/**
 * Reads client credentials from the Authorization header (client_secret_basic) or the form
 * (client_secret_post, or `none` with only client_id). Using two mechanisms at once is refused
 * (CAUTH-02), as is a form client_id that differs from the authenticated one (CAUTH-06).
 */
export function presentedClient(form: FormParameters, authorization: string | undefined): PresentedClient {
  const formId = form.get('client_id');
  // An empty client_secret still counts as presented: a public client sending one is refused (CAUTH-04).
  const formSecret = form.sent('client_secret') ? (form.get('client_secret') ?? '') : undefined;
  if (authorization !== undefined) {
    if (authorization.length > 4096) throw invalidClient('basic_too_long');
    const match = /^Basic ([A-Za-z0-9+/]+={0,2})$/i.exec(authorization);
    if (!match) throw invalidClient('basic_malformed');
    if (formSecret !== undefined) throw invalidRequest('multiple_client_auth', 'Use one client authentication method.');
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw invalidClient('basic_malformed');
    const clientId = decodeBasicComponent(decoded.slice(0, colon));
    const secret = decodeBasicComponent(decoded.slice(colon + 1));
    if (clientId.length > MAX_CREDENTIAL_LENGTH || secret.length > MAX_CREDENTIAL_LENGTH) throw invalidClient('basic_too_long');
    if (formId !== undefined && formId !== clientId) throw invalidRequest('client_id_mismatch', 'client_id does not match the authenticated client.');
    return { clientId, method: 'client_secret_basic', secret };
  }
  if (formId === undefined) throw invalidClient('client_id_missing');
  if (formId.length > MAX_CREDENTIAL_LENGTH) throw invalidClient('client_id_too_long');
  if (formSecret !== undefined) return { clientId: formId, method: 'client_secret_post', secret: formSecret };
  return { clientId: formId, method: 'none' };
}

/**
 * Authenticates the presented credentials against the registered client: the method must be the
 * registered one (CAUTH-03/04) and secrets compare in constant time against the stored hash.
 */
function authenticateClient(presented: PresentedClient, client: ClientRecord | undefined): ClientRecord {
  if (!client) throw invalidClient('unknown_client');
  const registered = client.metadata.token_endpoint_auth_method;
  if (registered !== presented.method) throw invalidClient('auth_method_mismatch');
  if (registered === 'none') return client;
  if (!client.secretHash || presented.secret === undefined || !constantTimeEqual(sha256(presented.secret), client.secretHash)) {
    throw invalidClient('bad_secret');
  }
  return client;
}

/** A client authenticated at the token endpoint; `machine` is set only for an operator-declared machine client. */
export type AuthenticatedClient = ClientRecord & { readonly machine?: MachineClientConfig };

/**
 * The operator's machine client behind a presented id, if any. Its secret lives in Secrets Manager
 * (never in the clients table), and it may use exactly one grant: client_credentials (REV-01).
 */
function machineClientFor(presented: PresentedClient, machineClients: readonly MachineClientConfig[]): MachineClientConfig | undefined {
  return isMachineClientId(presented.clientId) ? machineClients.find((client) => client.clientId === presented.clientId) : undefined;
}

/** The machine client as a client record, authenticated like any confidential client (basic or post). */
function machineClientRecord(machine: MachineClientConfig, presented: PresentedClient, secret: string): AuthenticatedClient {
  return {
    clientId: machine.clientId,
    metadata: {
      redirect_uris: [],
      token_endpoint_auth_method: presented.method === 'client_secret_post' ? 'client_secret_post' : 'client_secret_basic',
      grant_types: ['client_credentials'],
      scope: machine.scopes.join(' '),
    },
    secretHash: sha256(secret),
    createdAt: 0,
    machine,
  };
}

export function isConfidential(client: ClientRecord): boolean {
  return client.metadata.token_endpoint_auth_method !== 'none';
}

export const unauthorizedClient = (reason: string) =>
  new OAuthError(400, 'unauthorized_client', reason, 'This client may not use this grant type.');

/**
 * The client behind presented credentials: a registered client read from the clients table, or, for a
 * URL-shaped client_id when Client ID Metadata Documents are enabled, a public client. Its document
 * was fetched and validated at /authorize, which bound the code to it; the token endpoint needs no
 * fetch (and so no outbound request) because such clients are always public and PKCE-bound.
 */
function tokenEndpointClient(presented: PresentedClient, registered: ClientRecord | undefined, cimdEnabled: boolean): ClientRecord | undefined {
  if (!isUrlShapedClientId(presented.clientId)) return registered;
  // Only a well-formed document URL can have been authorized at /authorize (the fetcher refuses others).
  if (!cimdEnabled || !isClientIdMetadataUrl(presented.clientId)) return undefined;
  return {
    clientId: presented.clientId,
    metadata: { redirect_uris: [], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] },
    createdAt: 0,
  };
}

/** The id to read from the clients table: URL-shaped and machine ids are never stored there. */
const storedClientId = (presented: PresentedClient) =>
  isUrlShapedClientId(presented.clientId) || isMachineClientId(presented.clientId) ? undefined : presented.clientId;

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

async function readMachineSecret(machine: MachineClientConfig, deps: Pick<TokenDeps, 'machineSecret'>): Promise<string> {
  if (!deps.machineSecret) throw new Error('machine clients are configured without a secret reader');
  try {
    return await deps.machineSecret(machine);
  } catch (error) {
    throw new TemporarilyUnavailableError('secretsmanager', error instanceof Error ? error.name : 'unknown');
  }
}
