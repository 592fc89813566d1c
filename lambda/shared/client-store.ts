import { DeleteItemCommand, DynamoDBClient, PutItemCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { type ConditionalWrite, type Creation, getRecord, keyOf, putNew, recordOf, send, toItem, writeIf } from './dynamo';
import { CLIENT_USED_MARK_ATTRIBUTES, TTL_ATTRIBUTE } from '../../lib/tables';
import type { TokenEndpointAuthMethod } from './client-metadata';

/**
 * The registered clients (the clients table). Only SHA-256 hashes of client secrets and registration
 * access tokens are stored; an unused registration has a TTL and readers check its expiry themselves
 * (TTL deletion lags).
 */

export type { TokenEndpointAuthMethod };

/** The registered metadata (RFC 7591 names) as stored and returned by the configuration endpoint. */
export interface StoredClientMetadata {
  readonly redirect_uris: string[];
  readonly token_endpoint_auth_method: TokenEndpointAuthMethod;
  readonly grant_types: string[];
  readonly response_types?: string[];
  readonly scope?: string;
  readonly client_name?: string;
  readonly [field: string]: unknown;
}

export interface ClientRecord {
  readonly clientId: string;
  readonly metadata: StoredClientMetadata;
  readonly secretHash?: string;
  readonly registrationTokenHash?: string;
  readonly createdAt: number;
  /** Set while the registration is unused: it expires unless an authorization completes first. */
  readonly expiresAt?: number;
}

/**
 * The shape of every client id in the clients table: server-generated, 128 random bits in base64url
 * (REG-10). Nothing else is looked up there: not the registration counter item that shares the table,
 * and not a presented client_id DynamoDB would refuse as a key (over 2,048 UTF-8 bytes), which would
 * otherwise turn a bad request into a 500.
 */
const CLIENT_ID = /^[A-Za-z0-9_-]{22}$/;

export function isClientId(value: string): boolean {
  return CLIENT_ID.test(value);
}

/** A client as stored: the metadata as one JSON string. */
interface ClientItem extends Omit<ClientRecord, 'metadata'> {
  metadata: string;
}

const clientToItem = (client: ClientRecord) => ({
  pk: client.clientId,
  clientId: client.clientId,
  metadata: JSON.stringify(client.metadata),
  secretHash: client.secretHash,
  registrationTokenHash: client.registrationTokenHash,
  createdAt: client.createdAt,
  expiresAt: client.expiresAt,
  [TTL_ATTRIBUTE]: client.expiresAt,
});

function liveClient(item: ClientItem, now: number): ClientRecord | undefined {
  if (item.expiresAt !== undefined && item.expiresAt <= now) return undefined;
  return {
    clientId: item.clientId,
    metadata: JSON.parse(item.metadata) as StoredClientMetadata,
    secretHash: item.secretHash,
    registrationTokenHash: item.registrationTokenHash,
    createdAt: item.createdAt,
    expiresAt: item.expiresAt,
  };
}

/** The client in a clients-table item read elsewhere (the token endpoint's one read); undefined once expired. */
export const liveClientOfItem = (item: Record<string, AttributeValue>, now: number): ClientRecord | undefined => liveClient(recordOf<ClientItem>(item), now);

export class ClientStore {
  constructor(private readonly db: DynamoDBClient, private readonly table: string) {}

  /** Creates a client; `exists` when the id is taken (never overwrites, REG-18). */
  create(client: ClientRecord): Promise<Creation> {
    return putNew(this.db, this.table, client.clientId, clientToItem(client));
  }

  async get(clientId: string, now: number): Promise<ClientRecord | undefined> {
    if (!isClientId(clientId)) return undefined;
    const item = await getRecord<ClientItem>(this.db, this.table, clientId);
    return item ? liveClient(item, now) : undefined;
  }

  /** Replaces a client's metadata (RFC 7592 update), only if the registration access token still matches (else `stale`). */
  replace(client: ClientRecord, expectedRegistrationTokenHash: string): Promise<ConditionalWrite> {
    return writeIf(
      this.db,
      new PutItemCommand({
        TableName: this.table,
        Item: toItem(clientToItem(client)),
        ConditionExpression: 'registrationTokenHash = :rat',
        ExpressionAttributeValues: toItem({ ':rat': expectedRegistrationTokenHash }),
      }),
    );
  }

  /** Deletes a client (RFC 7592), only if the registration access token still matches (else `stale`). */
  delete(clientId: string, expectedRegistrationTokenHash: string): Promise<ConditionalWrite> {
    return writeIf(
      this.db,
      new DeleteItemCommand({
        TableName: this.table,
        Key: keyOf(clientId),
        ConditionExpression: 'registrationTokenHash = :rat',
        ExpressionAttributeValues: toItem({ ':rat': expectedRegistrationTokenHash }),
      }),
    );
  }

  /** A completed authorization makes a registration permanent (unused ones expire). */
  /** Touches only CLIENT_USED_MARK_ATTRIBUTES: the authorize role's IAM policy allows nothing else (REV-13). */
  async markUsed(clientId: string): Promise<void> {
    const [key, expiresAt, ttl] = CLIENT_USED_MARK_ATTRIBUTES;
    await send(
      this.db,
      new UpdateItemCommand({
        TableName: this.table,
        Key: keyOf(clientId),
        UpdateExpression: 'REMOVE #expiresAt, #ttl',
        ConditionExpression: 'attribute_exists(#key) AND attribute_exists(#expiresAt)',
        ExpressionAttributeNames: { '#key': key, '#expiresAt': expiresAt, '#ttl': ttl },
      }),
    );
  }
}
