import { DynamoDBClient, UpdateItemCommand, UpdateItemCommandOutput } from '@aws-sdk/client-dynamodb';
import { consume, type Consumption, type Creation, fromItem, getLiveRecord, keyOf, putNew, send, toItem } from '../shared/dynamo';
import { KEY_PREFIXES, TTL_ATTRIBUTE } from '../../lib/tables';

/**
 * The authorize flow's short-lived state: the items of the pending table, one store per kind, each
 * under its own key prefix. Every key is a SHA-256 hash of a secret the browser holds (the pending
 * handle, the upstream `state`, the session cookie): a database reader cannot resume a flow or act as a
 * signed-in user. Items expire through TTL and every reader checks `expiresAt` itself. Each step
 * consumes its item with a conditional delete, so no step runs twice. Remembered consents live in their
 * own table (consent-store.ts).
 */

/** A validated authorization request, bound to one client. */
export interface AuthorizationRequest {
  readonly clientId: string;
  /** Exactly as requested: where the response goes and what the code is bound to. */
  readonly redirectUri: string;
  /** The registered entry it matched (differs only by a loopback port); consent is remembered per this. */
  readonly registeredRedirectUri: string;
  readonly state?: string;
  readonly codeChallenge: string;
  readonly resource: string;
  /** The requested scopes (defaults added), sorted and space-separated: what the user consents to. */
  readonly scope: string;
}

/** The upstream-authenticated user, when consent is asked after sign-in (see docs/AUTHORIZE.md). */
export interface SignedInUser {
  readonly sub: string;
  readonly username?: string;
  /** The scope granted: the consented scope within the user's entitlements. */
  readonly grantedScope: string;
}

/** Waiting for the user's decision on the consent page. */
export interface PendingAuthorization {
  readonly handleHash: string;
  readonly request: AuthorizationRequest;
  /** SHA-256 of the flow cookie: the decision must come from the browser that started the flow. */
  readonly browserHash: string;
  readonly user?: SignedInUser;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/** How the user's consent to the client was established before forwarding to the upstream (AS-18). */
export type ConsentBasis = { readonly kind: 'approved' } | { readonly kind: 'remembered'; readonly consentId: string };

/** Waiting for the upstream provider's callback. Created only after consent (AS-21, UPS-03). */
export interface UpstreamSignIn {
  readonly stateHash: string;
  readonly request: AuthorizationRequest;
  /** SHA-256 of the sign-in cookie, from which the upstream PKCE verifier and nonce are derived. */
  readonly browserHash: string;
  readonly consent: ConsentBasis;
  readonly createdAt: number;
  readonly expiresAt: number;
}

/**
 * A sign-in at this authorization server (MRS-10): what later authorizations in the same browser need
 * to know about the user without going upstream again. No upstream token, and of the ID token only the
 * claims some server's entitlement rules read.
 */
export interface SignInSession {
  /** SHA-256 of the session cookie's value. */
  readonly sessionHash: string;
  readonly sub: string;
  /** The display name (`usernameOf` the ID token), when there is one. */
  readonly username?: string;
  /** The ID token claims the entitlement rules of the servers read, and nothing else. */
  readonly claims: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
  /** The earlier of the ID token's `exp` and the configured maximum. */
  readonly expiresAt: number;
}

/**
 * Expiring items of one kind under one key prefix, keyed by a hash the browser's secret yields: the one
 * definition of how the pending table's records are created and read.
 */
class ExpiringRecords<T extends { readonly expiresAt: number }> {
  constructor(
    protected readonly db: DynamoDBClient,
    protected readonly table: string,
    private readonly prefix: string,
    private readonly keyOf: (record: T) => string,
  ) {}

  create(record: T): Promise<Creation> {
    return putNew(this.db, this.table, this.pk(this.keyOf(record)), { ...record }, record.expiresAt);
  }

  get(hash: string, now: number): Promise<T | undefined> {
    return getLiveRecord(this.db, this.table, this.pk(hash), now);
  }

  protected pk(hash: string): string {
    return this.prefix + hash;
  }
}

/** Records that one step of the flow uses up: a conditional delete makes that step run once. */
class SingleUseRecords<T extends { readonly expiresAt: number }> extends ExpiringRecords<T> {
  /** Single use: `consumed` for exactly one caller. */
  consume(hash: string): Promise<Consumption> {
    return consume(this.db, this.table, this.pk(hash));
  }
}

/** Authorizations waiting for the user's decision on the consent page, by the hash of their handle. */
export class PendingAuthorizationStore extends SingleUseRecords<PendingAuthorization> {
  constructor(db: DynamoDBClient, table: string) {
    super(db, table, KEY_PREFIXES.pendingAuthorization, (pending) => pending.handleHash);
  }
}

/** Sign-ins waiting for the upstream provider's callback, by the hash of their `state`. */
export class UpstreamSignInStore extends SingleUseRecords<UpstreamSignIn> {
  constructor(db: DynamoDBClient, table: string) {
    super(db, table, KEY_PREFIXES.upstreamSignIn, (signIn) => signIn.stateHash);
  }
}

/** Sign-in sessions (MRS-10), by the hash of their cookie: reused until they expire, never consumed. */
export class SignInSessionStore extends ExpiringRecords<SignInSession> {
  constructor(db: DynamoDBClient, table: string) {
    super(db, table, KEY_PREFIXES.signInSession, (session) => session.sessionHash);
  }
}

/** How long repeated PKCE challenges are counted (PKCE-10). */
const CHALLENGE_WINDOW_SECONDS = 3600;

/**
 * PKCE-10: counts authorization requests of one client with one code_challenge within an hour (a
 * counter item keyed by hashes; the challenge itself is not stored).
 */
export class ChallengeCounter {
  constructor(private readonly db: DynamoDBClient, private readonly table: string) {}

  /** Counts one more use and returns the count within the window. */
  async count(challengeKey: string, now: number): Promise<number> {
    const result = await send<UpdateItemCommandOutput>(
      this.db,
      new UpdateItemCommand({
        TableName: this.table,
        Key: keyOf(KEY_PREFIXES.pkceChallenge + challengeKey),
        UpdateExpression: 'ADD uses :one SET #ttl = if_not_exists(#ttl, :expires)',
        ExpressionAttributeNames: { '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: toItem({ ':one': 1, ':expires': now + CHALLENGE_WINDOW_SECONDS }),
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (!result || !result.Attributes) return 1;
    const item = fromItem<{ uses: number; [TTL_ATTRIBUTE]: number }>(result.Attributes);
    // TTL deletion lags: an expired window starts again.
    return item[TTL_ATTRIBUTE] > now ? item.uses : 1;
  }
}
