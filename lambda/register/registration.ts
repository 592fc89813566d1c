import { KEY_PREFIXES } from '../../lib/tables';
import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { send } from '../shared/dynamo';
import type { Audit } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { RegisterConfig } from './config';
import { constantTimeEqual, randomToken, sha256 } from '../shared/crypto';
import { ClientMetadata, RegistrationPolicy, validateRegistrationRequest } from '../shared/client-metadata';
import { OAuthError } from '../shared/oauth-error';
import { type ClientRecord, type ClientStore, isClientId } from '../shared/client-store';

/**
 * RFC 7591 dynamic registration and the RFC 7592 client configuration endpoint. Identifiers and
 * secrets are server-generated (client-chosen ones are ignored, REG-10); secrets and registration
 * access tokens are shown once and stored only as SHA-256 hashes.
 */
/** The register function's one store: the registered clients (its IAM policy allows nothing else). */
export interface RegisterStores {
  readonly clients: Pick<ClientStore, 'create' | 'get' | 'replace' | 'delete'>;
}

export interface RegistrationDeps {
  readonly config: RegisterConfig;
  readonly stores: RegisterStores;
  readonly clock: Clock;
  readonly audit: Audit;
  /** Counts registrations per UTC day when a cap is configured; returns false over the cap. */
  readonly countRegistration?: (day: string) => Promise<boolean>;
}

export function registrationPolicy(config: Pick<RegisterConfig, 'servers' | 'registration'>): RegistrationPolicy {
  return {
    scopeNames: config.servers.scopeNames,
    redirectUris: { allowedHosts: config.registration.allowedRedirectHosts, extraPrivateUseSchemes: config.registration.extraRedirectSchemes },
  };
}

const invalidToken = () =>
  new OAuthError(401, 'invalid_token', 'registration_token_invalid', 'The registration access token is invalid.', { 'WWW-Authenticate': 'Bearer' });

function publicView(config: Pick<RegisterConfig, 'issuer'>, client: ClientRecord) {
  return {
    client_id: client.clientId,
    client_id_issued_at: client.createdAt,
    ...client.metadata,
    registration_client_uri: `${config.issuer}/register/${client.clientId}`,
  };
}

/** Confidential clients get a 256-bit secret, returned once; public clients (`none`) get none. */
function credentialsFor(metadata: ClientMetadata) {
  const secret = metadata.token_endpoint_auth_method === 'none' ? undefined : randomToken(32);
  return { secret, secretHash: secret ? sha256(secret) : undefined };
}

export async function registerClient(body: Record<string, unknown>, deps: RegistrationDeps) {
  const { config, stores, clock, audit } = deps;
  const now = clock();
  const metadata = validateRegistrationRequest(body, registrationPolicy(config));
  if (deps.countRegistration && !(await deps.countRegistration(new Date(now * 1000).toISOString().slice(0, 10)))) {
    throw new OAuthError(403, 'access_denied', 'registration_cap', 'Registration is closed for today.');
  }
  const { secret, secretHash } = credentialsFor(metadata);
  const registrationToken = randomToken(32);
  const client: ClientRecord = {
    clientId: randomToken(16),
    metadata,
    secretHash,
    registrationTokenHash: sha256(registrationToken),
    createdAt: now,
    expiresAt: now + config.lifetimes.unusedClient,
  };
  if ((await stores.clients.create(client)) === 'exists') throw new Error('client_id collision');
  audit('register.created', {
    client_id: client.clientId,
    auth_method: metadata.token_endpoint_auth_method,
    application_type: metadata.application_type,
    redirect_hosts: metadata.redirect_uris.map((uri) => uri.split('/')[2] ?? uri.split(':')[0]),
  });
  return {
    ...publicView(config, client),
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 } : {}),
    registration_access_token: registrationToken,
  };
}

/** Authenticates an RFC 7592 request. Unknown clients and wrong tokens look the same (401). */
async function authorizedClient(clientId: string, bearer: string | undefined, deps: RegistrationDeps): Promise<ClientRecord> {
  const match = bearer ? /^Bearer ([A-Za-z0-9_-]{1,128})$/i.exec(bearer) : null;
  if (!match || !isClientId(clientId)) throw invalidToken();
  const client = await deps.stores.clients.get(clientId, deps.clock());
  if (!client?.registrationTokenHash || !constantTimeEqual(sha256(match[1]), client.registrationTokenHash)) throw invalidToken();
  return client;
}

export async function readClient(clientId: string, bearer: string | undefined, deps: RegistrationDeps) {
  return publicView(deps.config, await authorizedClient(clientId, bearer, deps));
}

/**
 * RFC 7592 update: the body replaces the metadata. Switching between public and confidential
 * issues or drops the secret; otherwise the secret stays. Registration tokens stay valid.
 */
export async function updateClient(clientId: string, bearer: string | undefined, body: Record<string, unknown>, deps: RegistrationDeps) {
  const existing = await authorizedClient(clientId, bearer, deps);
  if (body.client_id !== clientId) {
    throw new OAuthError(400, 'invalid_request', 'client_id_mismatch', 'The body must carry this client_id.');
  }
  const metadata = validateRegistrationRequest(body, registrationPolicy(deps.config));
  const wasPublic = existing.metadata.token_endpoint_auth_method === 'none';
  const isPublic = metadata.token_endpoint_auth_method === 'none';
  const fresh = wasPublic !== isPublic ? credentialsFor(metadata) : { secret: undefined, secretHash: existing.secretHash };
  const updated: ClientRecord = { ...existing, metadata, secretHash: fresh.secretHash };
  if ((await deps.stores.clients.replace(updated, existing.registrationTokenHash!)) === 'stale') throw invalidToken();
  deps.audit('register.updated', { client_id: clientId, auth_method: metadata.token_endpoint_auth_method });
  return { ...publicView(deps.config, updated), ...(fresh.secret ? { client_secret: fresh.secret, client_secret_expires_at: 0 } : {}) };
}

export async function deleteClient(clientId: string, bearer: string | undefined, deps: RegistrationDeps): Promise<void> {
  const existing = await authorizedClient(clientId, bearer, deps);
  if ((await deps.stores.clients.delete(clientId, existing.registrationTokenHash!)) === 'stale') throw invalidToken();
  deps.audit('register.deleted', { client_id: clientId });
}

/** A per-day registration counter item in the clients table; the conditional ADD refuses past the cap. */
export function dailyRegistrationCounter(db: DynamoDBClient, table: string, cap: number, clock: Clock) {
  return async (day: string): Promise<boolean> => {
    const result = await send(
      db,
      new UpdateItemCommand({
        TableName: table,
        Key: { pk: { S: `${KEY_PREFIXES.registrationCounter}${day}` } },
        UpdateExpression: 'ADD registrations :one SET #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(registrations) OR registrations < :cap',
        ExpressionAttributeNames: { '#ttl': 'ttl' },
        ExpressionAttributeValues: { ':one': { N: '1' }, ':cap': { N: String(cap) }, ':ttl': { N: String(clock() + 2 * 86400) } },
      }),
    );
    return result !== false;
  };
}
