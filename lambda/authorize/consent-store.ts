import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { getLiveRecord, send, toItem } from '../shared/dynamo';
import { KEY_PREFIXES, TTL_ATTRIBUTE } from '../../lib/tables';

/**
 * Remembered consents (the consents table), by the SHA-256 hash of the per-client, per-resource
 * consent cookie: a database reader cannot present one. Items expire through TTL; readers check
 * `expiresAt` themselves.
 */

/** A user's consent to a client, resource, redirect URI and scope set, found through a per-client, per-resource browser cookie. */
export interface RememberedConsent {
  /** SHA-256 of the consent cookie's value. */
  readonly consentId: string;
  readonly clientId: string;
  /** The MCP server consented to (MRS-08); absent on records written by 0.2, which therefore never match. */
  readonly resource?: string;
  readonly redirectUri: string;
  readonly scope: string;
  /** SHA-256 of the upstream subject who consented. */
  readonly subjectHash: string;
  readonly createdAt: number;
  readonly expiresAt: number;
}

export class ConsentStore {
  constructor(private readonly db: DynamoDBClient, private readonly table: string) {}

  /** Remembers a consent; a later one under the same cookie replaces it. */
  async remember(consent: RememberedConsent): Promise<void> {
    await send(
      this.db,
      new PutItemCommand({
        TableName: this.table,
        Item: toItem({ pk: KEY_PREFIXES.rememberedConsent + consent.consentId, ...consent, [TTL_ATTRIBUTE]: consent.expiresAt }),
      }),
    );
  }

  get(consentId: string, now: number): Promise<RememberedConsent | undefined> {
    return getLiveRecord(this.db, this.table, KEY_PREFIXES.rememberedConsent + consentId, now);
  }
}
