import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TABLES as TABLE_DEFINITIONS, type TableName } from '../../lib/tables';
import type { Backend } from './harness';

/** Helpers shared by the security suite (docs/SECURITY.md). */

/** Every table's name, from their one definition (lib/tables.ts). */
export const TABLES: readonly TableName[] = TABLE_DEFINITIONS.map((definition) => definition.name);

/** Every item of every table, unmarshalled and sorted by key (tests only: handlers never scan). */
export async function scanAll(backend: Backend): Promise<Record<TableName, Array<Record<string, unknown>>>> {
  const result = {} as Record<TableName, Array<Record<string, unknown>>>;
  for (const table of TABLES) {
    const output = await backend.db.send(new ScanCommand({ TableName: backend.tables[table], ConsistentRead: true }));
    result[table] = (output.Items ?? []).map((item) => unmarshall(item)).sort((a, b) => String(a.pk).localeCompare(String(b.pk)));
  }
  return result;
}

/** A byte-comparable image of the whole database ("∅": nothing written, nothing changed). */
export async function databaseImage(backend: Backend): Promise<string> {
  return JSON.stringify(await scanAll(backend));
}

export interface RecordedWrite {
  readonly command: string;
  readonly table: string;
  readonly update?: string;
}

const WRITE_COMMANDS = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'BatchWriteItemCommand', 'TransactWriteItemsCommand']);

/** Records every write a DynamoDB client sends (the command, its table and its update expression). */
export function recordWrites(client: DynamoDBClient) {
  const writes: RecordedWrite[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName ?? 'unknown';
      if (WRITE_COMMANDS.has(command)) {
        const input = args.input as { TableName?: string; UpdateExpression?: string };
        writes.push({ command, table: input.TableName ?? '?', update: input.UpdateExpression });
      }
      return next(args);
    },
    { step: 'initialize', name: `record-writes-${randomUUID()}` },
  );
  return { writes, reset: () => (writes.length = 0) };
}

/** The largest partition key DynamoDB accepts, in UTF-8 bytes. */
export const MAX_PARTITION_KEY_BYTES = 2048;

function keysOf(input: Record<string, unknown>): Array<{ S?: string }> {
  const keys: Array<{ S?: string }> = [];
  const take = (key: unknown) => {
    const pk = (key as { pk?: { S?: string } } | undefined)?.pk;
    if (pk) keys.push(pk);
  };
  take(input.Key);
  take(input.Item);
  for (const request of Object.values((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>)) request.Keys?.forEach(take);
  return keys;
}

/**
 * DynamoDB refuses a partition key over 2,048 UTF-8 bytes with a ValidationException. dynalite
 * measures UTF-16 units instead, so a multi-byte key it accepts would fail in AWS: this middleware
 * applies the service's rule on the real SDK client, so tests see what a deployment would.
 */
export function enforcePartitionKeyLimit(client: DynamoDBClient) {
  client.middlewareStack.add(
    (next) => async (args) => {
      for (const key of keysOf(args.input as Record<string, unknown>)) {
        if (key.S !== undefined && Buffer.byteLength(key.S, 'utf8') > MAX_PARTITION_KEY_BYTES) {
          const error = new Error('One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes');
          error.name = 'ValidationException';
          throw error;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: `partition-key-limit-${randomUUID()}` },
  );
}

/** Members no audit event may carry: raw subjects, secrets, tokens, codes, headers. */
const FORBIDDEN_MEMBERS = ['sub', 'secret', 'client_secret', 'token', 'access_token', 'refresh_token', 'code', 'code_verifier', 'authorization', 'cookie', 'password', 'state'];

const scalar = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.null()]);

/**
 * The audit line schema of catalogue N (AUDIT-01): `event`, `reason`, `request_id`, `client_id?`,
 * `sub_hash?`, `ip`, `ua`, `ts`; other members are flat identifiers, never a forbidden member.
 */
export const auditEventSchema = z
  .object({
    event: z.string().regex(/^[a-z]+(\.[a-z_]+)+$/),
    // Required on every refusal (checked by the tests); security.* and success events may omit it.
    reason: z.string().regex(/^[a-z0-9_]+(:[A-Za-z0-9_]+)?$/).max(64).optional(),
    request_id: z.string().min(1).max(128),
    client_id: z.string().min(1).max(2048).optional(),
    sub_hash: z.string().regex(/^[A-Za-z0-9_-]{22}$/).optional(),
    ip: z.string().min(1),
    // Absent only when the request had no User-Agent.
    ua: z.string().max(256).optional(),
    ts: z.number().int().positive(),
  })
  .catchall(scalar)
  .superRefine((value, context) => {
    for (const member of FORBIDDEN_MEMBERS) {
      if (Object.hasOwn(value, member)) context.addIssue({ code: 'custom', message: `audit events must not carry "${member}"`, path: [member] });
    }
  });

/** Every place a canary must never appear, searched as text. */
export function findCanaries(haystacks: Record<string, string>, canaries: Record<string, string>): string[] {
  const found: string[] = [];
  for (const [canaryName, canary] of Object.entries(canaries)) {
    for (const [where, text] of Object.entries(haystacks)) {
      if (text.includes(canary)) found.push(`${canaryName} in ${where}`);
    }
  }
  return found;
}

/** Best of three timings in milliseconds: a GC pause on a shared machine cannot fail a budget, super-linear work still does. */
export function bestOfThree(operation: () => unknown): number {
  return Math.min(
    ...[0, 1, 2].map(() => {
      const start = performance.now();
      try {
        operation();
      } catch {
        // Refusals are expected; only the time matters.
      }
      return performance.now() - start;
    }),
  );
}
