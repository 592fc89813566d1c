import { DynamoDBClient, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { sha256 } from './crypto';
import { type Creation, keyOf, putNew, send, toItem } from './dynamo';

/**
 * Authorization codes (the codes table), stored only under the SHA-256 hash of the code and with a
 * TTL; the token endpoint checks expiry itself. A code's single use is the conditional creation of the
 * grant derived from it (lambda/shared/grant-store.ts), never a read-then-write.
 */

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

export const MAX_CODE_FAILURES = 5;

/**
 * The grant behind an authorization code. Deriving it from the code makes the grant's conditional
 * creation the code's single-use consumption (CODE-02), lets one read find an earlier redemption, and
 * lets the audit log link a code's issuance to the grant it becomes (AUDIT-03).
 */
export const grantIdForCode = (codeHash: string) => sha256(`grant:${codeHash}`);

export class CodeStore {
  constructor(private readonly db: DynamoDBClient, private readonly table: string) {}

  create(code: CodeRecord): Promise<Creation> {
    return putNew(this.db, this.table, code.codeHash, { ...code }, code.expiresAt);
  }

  /** Counts a failed redemption; the code is unusable once the count reaches MAX_CODE_FAILURES. */
  async recordFailure(codeHash: string): Promise<void> {
    await send(
      this.db,
      new UpdateItemCommand({
        TableName: this.table,
        Key: keyOf(codeHash),
        UpdateExpression: 'ADD failures :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: toItem({ ':one': 1 }),
      }),
    );
  }
}
