import { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { TemporarilyUnavailableError } from './oauth-error';

export type Item = Record<string, unknown>;
export type Key = Record<string, AttributeValue>;

export const toItem = (value: Item): Record<string, AttributeValue> => marshall(value, { removeUndefinedValues: true });
export const fromItem = <T>(item: Record<string, AttributeValue>): T => unmarshall(item) as T;
export const keyOf = (pk: string): Key => ({ pk: { S: pk } });

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
  'ECONNREFUSED',
  'ECONNRESET',
]);

export function isConditionFailure(error: unknown): boolean {
  return (error as Error)?.name === 'ConditionalCheckFailedException';
}

/**
 * Runs one DynamoDB call: a condition failure is returned as `false` (a normal outcome, e.g. a code
 * already used); transient faults become TemporarilyUnavailableError; anything else propagates (500).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function send<T>(client: DynamoDBClient, command: any): Promise<T | false> {
  try {
    return (await client.send(command)) as T;
  } catch (error) {
    if (isConditionFailure(error)) return false;
    const name = (error as { name?: string; code?: string }).name ?? '';
    const code = (error as { code?: string }).code ?? '';
    if (TRANSIENT.has(name) || TRANSIENT.has(code) || (error as { $retryable?: unknown }).$retryable) {
      throw new TemporarilyUnavailableError('dynamodb', name || code);
    }
    throw error;
  }
}
