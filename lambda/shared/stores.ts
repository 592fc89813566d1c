import {
  BatchGetItemCommand,
  BatchGetItemCommandOutput,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  GetItemCommandOutput,
  PutItemCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { sha256 } from './crypto';
import { type ConditionalWrite, type Creation, fromItem, keyOf, putNew, send, toItem, writeIf } from './dynamo';
import { TemporarilyUnavailableError } from './oauth-error';
import { CLIENT_USED_MARK_ATTRIBUTES, TTL_ATTRIBUTE } from '../../lib/tables';

/**
 * DynamoDB stores for clients, authorization codes and grants. Only SHA-256 hashes of codes, tokens,
 * secrets and registration access tokens are stored; every item has a TTL and readers check expiry
 * themselves (TTL deletion lags). Single use is always a conditional write, never read-then-write.
 */

import type { TokenEndpointAuthMethod } from './client-metadata';

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

export interface CodeRecord {
  /** SHA-256 of the code. */
  readonly codeHash: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly resource: string;
  readonly scope: string;
  readonly sub: string;
  readonly username?: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  /** Failed redemption attempts (wrong verifier or redirect_uri); the code burns at MAX_CODE_FAILURES. */
  readonly failures: number;
  /** For a metadata-document client: the `grant_types` its document listed at authorization. */
  readonly clientGrantTypes?: string[];
}

export interface GrantRecord {
  readonly grantId: string;
  readonly clientId: string;
  readonly sub: string;
  readonly username?: string;
  /** The scope granted at authorization; refreshes may narrow an access token, never this. */
  readonly scope: string;
  readonly resource: string;
  readonly createdAt: number;
  /** Absolute end of the grant (and of its refresh-token family). */
  readonly expiresAt: number;
  /** The refresh-token family stops working when unused past this time. */
  readonly idleExpiresAt?: number;
  readonly currentHash?: string;
  readonly previousHash?: string;
  readonly rotatedAt?: number;
  /** Hashes of recently retired refresh tokens: presenting one is reuse and revokes the family. */
  readonly retiredHashes?: string[];
  readonly revokedAt?: number;
  readonly revokedReason?: string;
}

/** Whether a grant's refresh-token family may still be used at `now`: the one rule refresh and introspection share. */
export function grantState(grant: GrantRecord, now: number): 'live' | 'revoked' | 'expired' {
  if (grant.revokedAt !== undefined) return 'revoked';
  if (grant.expiresAt <= now || (grant.idleExpiresAt !== undefined && grant.idleExpiresAt <= now)) return 'expired';
  return 'live';
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

/**
 * The grant behind an authorization code. Deriving it from the code makes the grant's conditional
 * creation the code's single-use consumption (CODE-02), lets one read find an earlier redemption, and
 * lets the audit log link a code's issuance to the grant it becomes (AUDIT-03).
 */
export const grantIdForCode = (codeHash: string) => sha256(`grant:${codeHash}`);

export const MAX_CODE_FAILURES = 5;
/** How many retired refresh-token hashes a family remembers for reuse detection (about 1 KB). */
export const RETIRED_HASHES_KEPT = 20;

export interface TableNames {
  readonly clients: string;
  readonly codes: string;
  readonly grants: string;
}

interface ClientItem extends Omit<ClientRecord, 'metadata'> {
  pk: string;
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

const clientFromItem = (item: ClientItem): ClientRecord => ({
  clientId: item.clientId,
  metadata: JSON.parse(item.metadata) as StoredClientMetadata,
  secretHash: item.secretHash,
  registrationTokenHash: item.registrationTokenHash,
  createdAt: item.createdAt,
  expiresAt: item.expiresAt,
});

const stripKey = <T>(item: Record<string, unknown>): T => {
  const { pk, [TTL_ATTRIBUTE]: _ttl, ...rest } = item;
  void pk;
  return rest as T;
};

export class Stores {
  constructor(private readonly db: DynamoDBClient, private readonly tables: TableNames) {}

  // ---- clients -------------------------------------------------------------------------------

  /** Creates a client; `exists` when the id is taken (never overwrites, REG-18). */
  createClient(client: ClientRecord): Promise<Creation> {
    return putNew(this.db, this.tables.clients, client.clientId, clientToItem(client));
  }

  async getClient(clientId: string, now: number): Promise<ClientRecord | undefined> {
    if (!isClientId(clientId)) return undefined;
    const result = await send<GetItemCommandOutput>(
      this.db,
      new GetItemCommand({ TableName: this.tables.clients, Key: keyOf(clientId), ConsistentRead: true }),
    );
    if (!result || !result.Item) return undefined;
    return liveClient(fromItem<ClientItem>(result.Item), now);
  }

  /** Replaces a client's metadata (RFC 7592 update), only if the registration access token still matches (else `stale`). */
  replaceClient(client: ClientRecord, expectedRegistrationTokenHash: string): Promise<ConditionalWrite> {
    return writeIf(
      this.db,
      new PutItemCommand({
        TableName: this.tables.clients,
        Item: toItem(clientToItem(client)),
        ConditionExpression: 'registrationTokenHash = :rat',
        ExpressionAttributeValues: toItem({ ':rat': expectedRegistrationTokenHash }),
      }),
    );
  }

  /** Deletes a client (RFC 7592), only if the registration access token still matches (else `stale`). */
  deleteClient(clientId: string, expectedRegistrationTokenHash: string): Promise<ConditionalWrite> {
    return writeIf(
      this.db,
      new DeleteItemCommand({
        TableName: this.tables.clients,
        Key: keyOf(clientId),
        ConditionExpression: 'registrationTokenHash = :rat',
        ExpressionAttributeValues: toItem({ ':rat': expectedRegistrationTokenHash }),
      }),
    );
  }

  /** A completed authorization makes a registration permanent (unused ones expire). */
  /** Touches only CLIENT_USED_MARK_ATTRIBUTES: the authorize role's IAM policy allows nothing else (REV-13). */
  async markClientUsed(clientId: string): Promise<void> {
    const [key, expiresAt, ttl] = CLIENT_USED_MARK_ATTRIBUTES;
    await send(
      this.db,
      new UpdateItemCommand({
        TableName: this.tables.clients,
        Key: keyOf(clientId),
        UpdateExpression: 'REMOVE #expiresAt, #ttl',
        ConditionExpression: 'attribute_exists(#key) AND attribute_exists(#expiresAt)',
        ExpressionAttributeNames: { '#key': key, '#expiresAt': expiresAt, '#ttl': ttl },
      }),
    );
  }

  // ---- authorization codes -------------------------------------------------------------------

  createCode(code: CodeRecord): Promise<Creation> {
    return putNew(this.db, this.tables.codes, code.codeHash, { ...code }, code.expiresAt);
  }

  /** Counts a failed redemption; the code is unusable once the count reaches MAX_CODE_FAILURES. */
  async recordCodeFailure(codeHash: string): Promise<void> {
    await send(
      this.db,
      new UpdateItemCommand({
        TableName: this.tables.codes,
        Key: keyOf(codeHash),
        UpdateExpression: 'ADD failures :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: toItem({ ':one': 1 }),
      }),
    );
  }

  // ---- grants and refresh-token families ------------------------------------------------------

  /**
   * Creates a grant. For a code grant the id is derived from the code, so this conditional put is
   * what consumes the code: exactly one redemption can create it (CODE-02).
   */
  createGrant(grant: GrantRecord): Promise<Creation> {
    return putNew(this.db, this.tables.grants, grant.grantId, { ...grant }, grant.expiresAt);
  }

  async getGrant(grantId: string): Promise<GrantRecord | undefined> {
    const result = await send<GetItemCommandOutput>(
      this.db,
      new GetItemCommand({ TableName: this.tables.grants, Key: keyOf(grantId), ConsistentRead: true }),
    );
    return result && result.Item ? stripKey<GrantRecord>(fromItem(result.Item)) : undefined;
  }

  /**
   * Rotates a family's refresh token, only if its state is still what the caller read (optimistic
   * concurrency: of two parallel rotations exactly one wins, RT-03; the other gets `stale`).
   */
  rotateRefreshToken(
    grant: GrantRecord,
    /** `previousHash` undefined: no token is in its grace window any more (it was used once, RT-09). */
    change: { currentHash: string; previousHash: string | undefined; retiredHashes: string[]; rotatedAt: number; idleExpiresAt: number },
  ): Promise<ConditionalWrite> {
    const keepsPrevious = change.previousHash !== undefined;
    return writeIf(
      this.db,
      new UpdateItemCommand({
        TableName: this.tables.grants,
        Key: keyOf(grant.grantId),
        UpdateExpression:
          `SET currentHash = :current, ${keepsPrevious ? 'previousHash = :previous, ' : ''}retiredHashes = :retired, rotatedAt = :rotatedAt, idleExpiresAt = :idle` +
          (keepsPrevious ? '' : ' REMOVE previousHash'),
        ConditionExpression: 'currentHash = :expected AND attribute_not_exists(revokedAt)',
        ExpressionAttributeValues: toItem({
          ':current': change.currentHash,
          ...(keepsPrevious ? { ':previous': change.previousHash } : {}),
          ':retired': change.retiredHashes,
          ':rotatedAt': change.rotatedAt,
          ':idle': change.idleExpiresAt,
          ':expected': grant.currentHash,
        }),
      }),
    );
  }

  /** Revokes a grant and its refresh-token family (idempotent). */
  async revokeGrant(grantId: string, reason: string, now: number): Promise<void> {
    await send(
      this.db,
      new UpdateItemCommand({
        TableName: this.tables.grants,
        Key: keyOf(grantId),
        UpdateExpression: 'SET revokedAt = :now, revokedReason = :reason',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
        ExpressionAttributeValues: toItem({ ':now': now, ':reason': reason }),
      }),
    );
  }

  // ---- the token endpoint's single read -------------------------------------------------------

  /**
   * Reads a code or grant together with the client in ONE BatchGetItem call (the token endpoint's
   * budget is two DynamoDB calls per grant: this read, then one conditional write).
   */
  async readForToken(
    request: { codeHash?: string; grantId?: string; clientId?: string },
    now: number,
  ): Promise<{ code?: CodeRecord; grant?: GrantRecord; client?: ClientRecord }> {
    const items: Record<string, { Keys: ReturnType<typeof keyOf>[]; ConsistentRead: boolean }> = {};
    const add = (table: string, pk: string) => {
      items[table] ??= { Keys: [], ConsistentRead: true };
      items[table].Keys.push(keyOf(pk));
    };
    if (request.codeHash) add(this.tables.codes, request.codeHash);
    if (request.grantId) add(this.tables.grants, request.grantId);
    if (request.clientId && isClientId(request.clientId)) add(this.tables.clients, request.clientId);
    if (Object.keys(items).length === 0) return {};
    const result = await send<BatchGetItemCommandOutput>(this.db, new BatchGetItemCommand({ RequestItems: items }));
    if (!result) return {};
    if (result.UnprocessedKeys && Object.keys(result.UnprocessedKeys).length > 0) {
      throw new TemporarilyUnavailableError('dynamodb', 'UnprocessedKeys');
    }
    const first = (table: string) => result.Responses?.[table]?.[0];
    const codeItem = request.codeHash ? first(this.tables.codes) : undefined;
    const grantItem = request.grantId ? first(this.tables.grants) : undefined;
    const clientItem = request.clientId ? first(this.tables.clients) : undefined;
    return {
      code: codeItem ? stripKey<CodeRecord>(fromItem(codeItem)) : undefined,
      grant: grantItem ? stripKey<GrantRecord>(fromItem(grantItem)) : undefined,
      client: clientItem ? liveClient(fromItem<ClientItem>(clientItem), now) : undefined,
    };
  }
}

function liveClient(item: ClientItem, now: number): ClientRecord | undefined {
  if (item.expiresAt !== undefined && item.expiresAt <= now) return undefined;
  return clientFromItem(item);
}
