import { BatchGetItemCommand, BatchGetItemCommandOutput, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type ClientRecord, isClientId, liveClientOfItem } from '../shared/client-store';
import type { CodeRecord } from '../shared/code-store';
import { keyOf, recordOf, send } from '../shared/dynamo';
import type { GrantRecord } from '../shared/grant-store';
import { TemporarilyUnavailableError } from '../shared/oauth-error';

/** What one token request reads: a code and/or a grant, and the presented client. */
export interface TokenRecords {
  readonly code?: CodeRecord;
  readonly grant?: GrantRecord;
  readonly client?: ClientRecord;
}

/**
 * The token endpoint's one read: a code or grant together with the client in ONE BatchGetItem call
 * across the three tables (the budget is two DynamoDB calls per grant: this read, then one
 * conditional write). The stores of each table (lambda/shared/*-store.ts) do the writes.
 */
export class TokenRecordReader {
  constructor(private readonly db: DynamoDBClient, private readonly tables: { readonly clients: string; readonly codes: string; readonly grants: string }) {}

  async read(request: { codeHash?: string; grantId?: string; clientId?: string }, now: number): Promise<TokenRecords> {
    const { clients, codes, grants } = this.tables;
    const items: Record<string, { Keys: ReturnType<typeof keyOf>[]; ConsistentRead: boolean }> = {};
    const add = (table: string, pk: string) => {
      items[table] ??= { Keys: [], ConsistentRead: true };
      items[table].Keys.push(keyOf(pk));
    };
    if (request.codeHash) add(codes, request.codeHash);
    if (request.grantId) add(grants, request.grantId);
    if (request.clientId && isClientId(request.clientId)) add(clients, request.clientId);
    if (Object.keys(items).length === 0) return {};
    const result = await send<BatchGetItemCommandOutput>(this.db, new BatchGetItemCommand({ RequestItems: items }));
    if (!result) return {};
    if (result.UnprocessedKeys && Object.keys(result.UnprocessedKeys).length > 0) {
      throw new TemporarilyUnavailableError('dynamodb', 'UnprocessedKeys');
    }
    const first = (table: string) => result.Responses?.[table]?.[0];
    const codeItem = request.codeHash ? first(codes) : undefined;
    const grantItem = request.grantId ? first(grants) : undefined;
    const clientItem = request.clientId ? first(clients) : undefined;
    return {
      code: codeItem ? recordOf<CodeRecord>(codeItem) : undefined,
      grant: grantItem ? recordOf<GrantRecord>(grantItem) : undefined,
      client: clientItem ? liveClientOfItem(clientItem, now) : undefined,
    };
  }
}
