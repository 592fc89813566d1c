import { requiredScopesFor } from '../../lib/scopes';
import {
  decodeMcpHeaderValue,
  headerPicker,
  headersAreValidated,
  METHOD_HEADER,
  NAME_HEADER,
  PROTOCOL_VERSION_HEADER,
  singleValue,
  type HeaderSource,
} from '../runtime/mcp-headers';
import type { AuthorizerConfig } from './config';
import type { VerificationKeys } from '../shared/verification-keys';
import { verifyAccessToken, type VerifiedAccessToken, type TokenFailure } from '../shared/access-token-verifier';

/**
 * The authorizer's decision for one request: a pure function of the request headers, the pinned keys,
 * the configuration and the time. Nothing else (no module state, no earlier request) can change it.
 */

export type UnauthorizedReason = TokenFailure | 'missing';

/** The operation a request claims through its MCP headers; `undefined` name for methods that have none. */
export interface Operation {
  readonly method: string;
  readonly name?: string;
}

export type Decision =
  /** `operation`: the tool the edge decided for (2026-07-28+ headers), recorded in the access log. */
  | { readonly effect: 'allow'; readonly claims: VerifiedAccessToken; readonly operation?: Operation }
  /** 401. `tokenPresented` says whether a bearer token was sent (RFC 6750 §3.1: no error code when none was). */
  | { readonly effect: 'unauthorized'; readonly reason: UnauthorizedReason; readonly tokenPresented: boolean }
  /** 403 insufficient_scope: `requiredScopes` is every scope the operation needs (RS-7). */
  | { readonly effect: 'forbidden'; readonly reason: 'scope'; readonly requiredScopes: readonly string[]; readonly claims: VerifiedAccessToken; readonly operation?: Operation };

type BearerToken = { readonly token: string } | { readonly failure: 'missing' | 'malformed' };

/**
 * The bearer token of a request (RFC 6750 §2.1). The scheme is case-insensitive (JWT-16); a repeated
 * Authorization header, or `Bearer` glued to the token, is malformed. Another scheme (Basic, ...) counts
 * as no token. Tokens in the query string or body are never read.
 */
export function bearerToken(headers: ReadonlyMap<string, readonly string[]>): BearerToken {
  const values = headers.get('authorization');
  if (!values || values.length === 0 || (values.length === 1 && values[0] === '')) return { failure: 'missing' };
  if (values.length > 1) return { failure: 'malformed' };
  const value = values[0];
  if (value.length > 7 && value.slice(0, 7).toLowerCase() === 'bearer ') return { token: value.slice(7) };
  return value.slice(0, 6).toLowerCase() === 'bearer' ? { failure: 'malformed' } : { failure: 'missing' };
}

/**
 * The operation named by `Mcp-Method`/`Mcp-Name`, trusted for policy only when the protocol version
 * obliges the server to check them against the body (RS-12). A repeated or undecodable header names no
 * operation: the default scopes apply here, and the runtime guard refuses the request (-32020).
 */
export function claimedOperation(headers: ReadonlyMap<string, readonly string[]>): Operation | undefined {
  const version = singleValue(headers, PROTOCOL_VERSION_HEADER);
  if (typeof version !== 'string' || !headersAreValidated(version)) return undefined;
  const method = singleValue(headers, METHOD_HEADER);
  if (typeof method !== 'string') return undefined;
  const rawName = singleValue(headers, NAME_HEADER);
  const name = typeof rawName === 'string' ? decodeMcpHeaderValue(rawName) : undefined;
  return { method, name };
}

/** The only headers a decision reads. */
const readHeaders = headerPicker(['authorization', PROTOCOL_VERSION_HEADER, METHOD_HEADER, NAME_HEADER]);

export function decide(source: HeaderSource, keys: VerificationKeys, config: AuthorizerConfig, now: number): Decision {
  const headers = readHeaders(source);
  const bearer = bearerToken(headers);
  if ('failure' in bearer) return { effect: 'unauthorized', reason: bearer.failure, tokenPresented: bearer.failure === 'malformed' };
  const verified = verifyAccessToken(bearer.token, keys, config, now);
  if (!verified.ok) return { effect: 'unauthorized', reason: verified.reason, tokenPresented: true };

  const operation = config.edgeToolScopes ? claimedOperation(headers) : undefined;
  const requiredScopes = operation ? requiredScopesFor(config.scopeModel, operation.method, operation.name) : config.defaultScopes;
  if (!config.satisfies(verified.claims.scopes, requiredScopes)) {
    return { effect: 'forbidden', reason: 'scope', requiredScopes, claims: verified.claims, operation };
  }
  return { effect: 'allow', claims: verified.claims, operation };
}
