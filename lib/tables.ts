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
  { name: 'pending', partitionKey: 'pk', purpose: 'Pending authorizations and upstream sign-in state (10 minutes), sign-in sessions' },
  { name: 'consents', partitionKey: 'pk', purpose: 'Remembered consent per user, client, MCP server, redirect URI and scope set' },
];

/**
 * The partition-key patterns of the items that share a table (docs/STORAGE.md has every item's shape).
 * Clients, codes and grants are keyed by their id or hash alone; these prefixes keep the other kinds of
 * item apart. A prefix is part of the stored data: changing one orphans every item written with it.
 */
export const KEY_PREFIXES = {
  /** clients: the per-day registration counter (`#registrations#<yyyy-mm-dd>`), never a client id. */
  registrationCounter: '#registrations#',
  /** pending: a pending authorization waiting for the consent decision, by the hash of its handle. */
  pendingAuthorization: 'authz#',
  /** pending: an upstream sign-in waiting for the callback, by the hash of its state. */
  upstreamSignIn: 'signin#',
  /** pending: the PKCE-10 counter of one client and challenge. */
  pkceChallenge: 'pkce#',
  /** pending: a sign-in session (MRS-10), by the hash of its cookie. */
  signInSession: 'session#',
  /** consents: a remembered consent, by the hash of its cookie. */
  rememberedConsent: 'consent#',
} as const;
