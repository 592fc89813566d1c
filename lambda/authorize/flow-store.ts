import {
  DynamoDBClient,
  GetItemCommand,
  GetItemCommandOutput,
  PutItemCommand,
  UpdateItemCommand,
  UpdateItemCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { consume, type Consumption, type Creation, fromItem, keyOf, putNew, send, toItem } from '../shared/dynamo';
import { KEY_PREFIXES, TTL_ATTRIBUTE } from '../../lib/tables';

/**
 * The authorize flow's state in DynamoDB. Every key is a SHA-256 hash of a secret the browser holds
 * (the pending handle, the upstream `state`, the consent cookie, the session cookie): a database reader
 * cannot resume a flow or act as a signed-in user. Items expire through TTL and every reader checks
 * `expiresAt` itself. Each step consumes its item with a conditional delete, so no step runs twice.
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

export interface FlowTables {
  readonly pending: string;
  readonly consents: string;
}

const PENDING_PREFIX = KEY_PREFIXES.pendingAuthorization;
const SIGN_IN_PREFIX = KEY_PREFIXES.upstreamSignIn;
const CHALLENGE_PREFIX = KEY_PREFIXES.pkceChallenge;
const CONSENT_PREFIX = KEY_PREFIXES.rememberedConsent;
const SESSION_PREFIX = KEY_PREFIXES.signInSession;

/** How long repeated PKCE challenges are counted (PKCE-10). */
const CHALLENGE_WINDOW_SECONDS = 3600;

type Stored<T> = T & { pk: string; [TTL_ATTRIBUTE]: number };

export class FlowStore {
  constructor(private readonly db: DynamoDBClient, private readonly tables: FlowTables) {}

  createPending(pending: PendingAuthorization): Promise<Creation> {
    return this.create(this.tables.pending, PENDING_PREFIX + pending.handleHash, pending, pending.expiresAt);
  }

  getPending(handleHash: string, now: number): Promise<PendingAuthorization | undefined> {
    return this.read(this.tables.pending, PENDING_PREFIX + handleHash, now);
  }

  /** Single use: `consumed` for exactly one caller. */
  consumePending(handleHash: string): Promise<Consumption> {
    return this.consume(this.tables.pending, PENDING_PREFIX + handleHash);
  }

  createSignIn(signIn: UpstreamSignIn): Promise<Creation> {
    return this.create(this.tables.pending, SIGN_IN_PREFIX + signIn.stateHash, signIn, signIn.expiresAt);
  }

  getSignIn(stateHash: string, now: number): Promise<UpstreamSignIn | undefined> {
    return this.read(this.tables.pending, SIGN_IN_PREFIX + stateHash, now);
  }

  consumeSignIn(stateHash: string): Promise<Consumption> {
    return this.consume(this.tables.pending, SIGN_IN_PREFIX + stateHash);
  }

  createSession(session: SignInSession): Promise<Creation> {
    return this.create(this.tables.pending, SESSION_PREFIX + session.sessionHash, session, session.expiresAt);
  }

  getSession(sessionHash: string, now: number): Promise<SignInSession | undefined> {
    return this.read(this.tables.pending, SESSION_PREFIX + sessionHash, now);
  }

  async rememberConsent(consent: RememberedConsent): Promise<void> {
    await send(
      this.db,
      new PutItemCommand({
        TableName: this.tables.consents,
        Item: toItem({ pk: CONSENT_PREFIX + consent.consentId, ...consent, [TTL_ATTRIBUTE]: consent.expiresAt }),
      }),
    );
  }

  getConsent(consentId: string, now: number): Promise<RememberedConsent | undefined> {
    return this.read(this.tables.consents, CONSENT_PREFIX + consentId, now);
  }

  /**
   * PKCE-10: counts authorization requests of one client with one code_challenge within an hour and
   * returns the count (a counter item keyed by hashes; the challenge itself is not stored).
   */
  async countChallenge(challengeKey: string, now: number): Promise<number> {
    const result = await send<UpdateItemCommandOutput>(
      this.db,
      new UpdateItemCommand({
        TableName: this.tables.pending,
        Key: keyOf(CHALLENGE_PREFIX + challengeKey),
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

  private create(table: string, pk: string, value: object, expiresAt: number): Promise<Creation> {
    return putNew(this.db, table, pk, { ...value }, expiresAt);
  }

  private async read<T extends { expiresAt: number }>(table: string, pk: string, now: number): Promise<T | undefined> {
    const result = await send<GetItemCommandOutput>(this.db, new GetItemCommand({ TableName: table, Key: keyOf(pk), ConsistentRead: true }));
    if (!result || !result.Item) return undefined;
    const { pk: _pk, [TTL_ATTRIBUTE]: _ttl, ...value } = fromItem<Stored<T>>(result.Item);
    return value.expiresAt > now ? (value as unknown as T) : undefined;
  }

  private consume(table: string, pk: string): Promise<Consumption> {
    return consume(this.db, table, pk);
  }
}
