import { AttributeValue, DeleteItemCommand, DynamoDBClient, GetItemCommand, GetItemCommandOutput, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { TTL_ATTRIBUTE } from '../../lib/tables';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TemporarilyUnavailableError } from './oauth-error';

export type Item = Record<string, unknown>;
export type Key = Record<string, AttributeValue>;

export const toItem = (value: Item): Record<string, AttributeValue> => marshall(value, { removeUndefinedValues: true });
export const fromItem = <T>(item: Record<string, AttributeValue>): T => unmarshall(item) as T;
export const keyOf = (pk: string): Key => ({ pk: { S: pk } });

/** What an item stores: the item without its key and TTL attributes. */
export function recordOf<T>(item: Record<string, AttributeValue>): T {
  const { pk: _pk, [TTL_ATTRIBUTE]: _ttl, ...record } = fromItem<Item>(item);
  return record as T;
}

/** Errors that mean "try again later": the caller gets 503 temporarily_unavailable, nothing half-written. */
const TRANSIENT = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TransactionConflictException',
  'TimeoutError',
  'RequestTimeout',
]);

/** Socket and DNS failures: DynamoDB could not be reached (the SDK's own retry classes them as transient). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/** An answer from below the API (a load balancer's 5xx, a 429) carries no modeled error name, only its status. */
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

/** The stable name of a transient fault for the audit log, or undefined when the error is not transient. */
function transientCause(error: unknown): string | undefined {
  const { name = '', code = '', $retryable, $metadata } = (error ?? {}) as { name?: string; code?: string; $retryable?: unknown; $metadata?: { httpStatusCode?: number } };
  const status = $metadata?.httpStatusCode;
  if (NETWORK_CODES.has(code)) return code;
  if (TRANSIENT.has(name) || $retryable) return name;
  if (status !== undefined && TRANSIENT_STATUS.has(status)) return `HTTP${status}`;
  return undefined;
}

function isConditionFailure(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one DynamoDB call: a condition failure is returned as `false` (a normal outcome, e.g. a code
 * already used); transient faults become TemporarilyUnavailableError; anything else propagates (500).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any DynamoDB command: the SDK types send() per command class
export async function send<T>(client: DynamoDBClient, command: any): Promise<T | false> {
  try {
    return (await client.send(command)) as T;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    const cause = transientCause(error);
    if (cause !== undefined) throw new TemporarilyUnavailableError('dynamodb', cause);
    throw error;
  }
}

// ---- The verbs every store uses, with named outcomes ---------------------------------------------

/** The outcome of a create: a condition failure means the key was already taken (never overwritten). */
export type Creation = 'created' | 'exists';

/** The outcome of a single-use consume (conditional delete): exactly one caller gets `consumed`. */
export type Consumption = 'consumed' | 'gone';

/** The outcome of a write conditioned on what the caller read: `stale` when it changed meanwhile. */
export type ConditionalWrite = 'written' | 'stale';

/** Reads the record under `pk`, strongly consistent (every decision is made on the latest write); undefined when absent. */
export async function getRecord<T>(client: DynamoDBClient, table: string, pk: string): Promise<T | undefined> {
  const result = await send<GetItemCommandOutput>(client, new GetItemCommand({ TableName: table, Key: keyOf(pk), ConsistentRead: true }));
  return result && result.Item ? recordOf<T>(result.Item) : undefined;
}

/** Reads the record under `pk` while it is live: TTL deletion lags, so the reader checks `expiresAt` itself. */
export async function getLiveRecord<T extends { expiresAt: number }>(client: DynamoDBClient, table: string, pk: string, now: number): Promise<T | undefined> {
  const record = await getRecord<T>(client, table, pk);
  return record && record.expiresAt > now ? record : undefined;
}

/** Puts `item` under `pk` (with its TTL attribute) unless the key exists. */
export async function putNew(client: DynamoDBClient, table: string, pk: string, item: Item, expiresAt?: number): Promise<Creation> {
  const result = await send(
    client,
    new PutItemCommand({
      TableName: table,
      Item: toItem({ pk, ...item, ...(expiresAt !== undefined ? { [TTL_ATTRIBUTE]: expiresAt } : {}) }),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
  return result === false ? 'exists' : 'created';
}

/** Deletes the item under `pk` if it exists: single use by a conditional write. */
export async function consume(client: DynamoDBClient, table: string, pk: string): Promise<Consumption> {
  const result = await send(client, new DeleteItemCommand({ TableName: table, Key: keyOf(pk), ConditionExpression: 'attribute_exists(pk)' }));
  return result === false ? 'gone' : 'consumed';
}

/** Runs a conditional command (put, update or delete) and names its outcome. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any conditional DynamoDB command, as send() takes
export async function writeIf(client: DynamoDBClient, command: any): Promise<ConditionalWrite> {
  return (await send(client, command)) === false ? 'stale' : 'written';
}
