/**
 * The DynamoDB tables: one per concern, each with a string partition key and a TTL attribute. The
 * construct creates them from this list and the local stack creates the same ones in dynalite.
 * TTL deletion lags up to 48 hours, so every reader also checks `expiresAt` itself.
 */
export type TableName = 'clients' | 'codes' | 'grants' | 'pending' | 'consents';

export interface TableDefinition {
  readonly name: TableName;
  readonly partitionKey: string;
  /** Why the table exists, for the construct's documentation. */
  readonly purpose: string;
}

/** Every item carries this numeric attribute (epoch seconds) for DynamoDB TTL. */
export const TTL_ATTRIBUTE = 'ttl';

/**
 * The only attributes of a clients-table item the authorize function may touch with UpdateItem (REV-13):
 * the key, and the unused-registration expiry it removes once an authorization completes. The IAM policy
 * conditions `dynamodb:Attributes` on exactly this list, so that function cannot rewrite a client's
 * redirect URIs, grants or secret hash.
 */
export const CLIENT_USED_MARK_ATTRIBUTES = ['pk', 'expiresAt', TTL_ATTRIBUTE] as const;

export const TABLES: readonly TableDefinition[] = [
  { name: 'clients', partitionKey: 'pk', purpose: 'Registered clients (secrets and registration access tokens as hashes only)' },
  { name: 'codes', partitionKey: 'pk', purpose: 'Authorization codes, keyed by the SHA-256 of the code, 60 s lifetime' },
  { name: 'grants', partitionKey: 'pk', purpose: 'Grants and their refresh-token families (hashes only)' },
  { name: 'pending', partitionKey: 'pk', purpose: 'Pending authorizations and upstream sign-in state, 10 minutes' },
  { name: 'consents', partitionKey: 'pk', purpose: 'Remembered consent per user, client, redirect URI and scope set' },
];
