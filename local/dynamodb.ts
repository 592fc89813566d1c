import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { TABLES, TableName } from '../lib/tables';

// eslint-disable-next-line @typescript-eslint/no-require-imports -- dynalite ships no type declarations
const dynalite = require('dynalite') as (options: { createTableMs: number; deleteTableMs: number; updateTableMs: number; path?: string }) => Server;

/** A DynamoDB API implementation in this process (dynalite): in memory, or persisted under `path`. */
export class LocalDynamoDb {
  private server?: Server;
  endpoint = '';

  constructor(private readonly path?: string) {}

  async start(port = 0): Promise<string> {
    this.server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, path: this.path });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server!.close(() => resolve()));
  }
}

/** Creates every table of lib/tables.ts with `prefix` in its name; returns the name of each. */
export async function createTables(client: DynamoDBClient, prefix: string): Promise<Record<TableName, string>> {
  const names = {} as Record<TableName, string>;
  for (const table of TABLES) {
    const tableName = `${prefix}-${table.name}`;
    try {
      await client.send(
        new CreateTableCommand({
          TableName: tableName,
          BillingMode: 'PAY_PER_REQUEST',
          AttributeDefinitions: [{ AttributeName: table.partitionKey, AttributeType: 'S' }],
          KeySchema: [{ AttributeName: table.partitionKey, KeyType: 'HASH' }],
        }),
      );
    } catch (error) {
      // A persisted data directory already holds the tables.
      if ((error as Error).name !== 'ResourceInUseException') throw error;
    }
    names[table.name] = tableName;
  }
  return names;
}

/** Static credentials for the local endpoints (they do not check them; the SDK still signs). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
