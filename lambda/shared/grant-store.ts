import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { type ConditionalWrite, type Creation, getRecord, keyOf, putNew, send, toItem, writeIf } from './dynamo';

/**
 * Grants and their refresh-token families (the grants table). Only SHA-256 hashes of refresh tokens
 * are stored; every item has a TTL and readers check expiry themselves (TTL deletion lags). Rotation and
 * creation are conditional writes, never read-then-write.
 */

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

/** How many retired refresh-token hashes a family remembers for reuse detection (about 1 KB). */
export const RETIRED_HASHES_KEPT = 20;

export class GrantStore {
  constructor(private readonly db: DynamoDBClient, private readonly table: string) {}

  /**
   * Creates a grant. For a code grant the id is derived from the code (`grantIdForCode`), so this
   * conditional put is what consumes the code: exactly one redemption can create it (CODE-02).
   */
  create(grant: GrantRecord): Promise<Creation> {
    return putNew(this.db, this.table, grant.grantId, { ...grant }, grant.expiresAt);
  }

  get(grantId: string): Promise<GrantRecord | undefined> {
    return getRecord<GrantRecord>(this.db, this.table, grantId);
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
        TableName: this.table,
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
  async revoke(grantId: string, reason: string, now: number): Promise<void> {
    await send(
      this.db,
      new UpdateItemCommand({
        TableName: this.table,
        Key: keyOf(grantId),
        UpdateExpression: 'SET revokedAt = :now, revokedReason = :reason',
        ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revokedAt)',
        ExpressionAttributeValues: toItem({ ':now': now, ':reason': reason }),
      }),
    );
  }
}
