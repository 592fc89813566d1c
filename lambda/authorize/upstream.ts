import * as oauth from 'oauth4webapi';
import type { UpstreamConfig } from './config';
import { sha256 } from '../shared/crypto';
import type { SecretSource } from '../shared/secrets';

/**
 * The authorization server as an OpenID Connect relying party of the platform's identity provider
 * (Cognito, Okta, Entra ID, Auth0, Google, Keycloak, ...), built on oauth4webapi: discovery,
 * authorization code + PKCE S256 + state + nonce, RFC 9207 `iss` on the callback, and ID token
 * validation (issuer, audience, expiry, nonce, and the signature against the provider's JWKS).
 * Upstream tokens are used for nothing but the ID token's claims: never stored, logged or passed on (UPS-06).
 */

/** The per-flow secrets of one upstream sign-in. */
export interface UpstreamSignInParameters {
  readonly state: string;
  readonly nonce: string;
  readonly codeVerifier: string;
}

export interface UpstreamIdentity {
  readonly sub: string;
  /** The validated ID token claims (entitlements and the display name come from these). */
  readonly claims: Readonly<Record<string, unknown>>;
}

export interface UpstreamProvider {
  /** The URL to send the browser to for sign-in. */
  authorizationUrl(parameters: UpstreamSignInParameters): Promise<string>;
  /** Validates the callback, redeems the code and validates the ID token. Throws {@link UpstreamFailure}. */
  completeSignIn(callback: URLSearchParams, expected: UpstreamSignInParameters): Promise<UpstreamIdentity>;
}

/**
 * Why an upstream sign-in failed. `denied`: the provider answered with an `error` (UPS-04);
 * `callback`: the callback itself is not acceptable (RFC 9207 `iss`, state); `id_token`: the ID token
 * failed validation (UPS-05); `token_endpoint`: the provider refused the code; `timeout` and
 * `unavailable`: the provider is slow or down (ROB-09). `reason` is stable and never upstream text.
 */
export type UpstreamFailureKind = 'denied' | 'callback' | 'id_token' | 'token_endpoint' | 'timeout' | 'unavailable';

export class UpstreamFailure extends Error {
  constructor(readonly kind: UpstreamFailureKind, readonly reason: string) {
    super(`upstream ${kind}: ${reason}`);
    this.name = 'UpstreamFailure';
  }
}

/** The per-flow PKCE verifier and nonce are derived from the sign-in cookie, so neither is stored. */
export function signInParameters(state: string, cookieSecret: string): UpstreamSignInParameters {
  return { state, codeVerifier: sha256(`upstream-pkce:${cookieSecret}`), nonce: sha256(`upstream-nonce:${cookieSecret}`) };
}

/** An OAuth error code from the provider, if it is one; anything else is logged as `other`. */
function errorCode(value: unknown): string {
  return typeof value === 'string' && /^[a-z_]{1,64}$/.test(value) ? value : 'other';
}

/** fetch() rejects with a TypeError when the provider cannot be reached (checked by name: it may come from another realm). */
const isNetworkError = (error: unknown) => (error as Error | undefined)?.name === 'TypeError';

function idTokenReason(error: unknown): string {
  if (error instanceof oauth.UnsupportedOperationError) return 'alg';
  if (!(error instanceof oauth.OperationProcessingError)) return 'invalid';
  const claim = (error.cause as { claim?: unknown } | undefined)?.claim;
  if (error.code === oauth.JWT_CLAIM_COMPARISON && typeof claim === 'string') return `${claim}_mismatch`;
  if (error.code === oauth.JWT_TIMESTAMP_CHECK && typeof claim === 'string') return claim === 'exp' ? 'expired' : `${claim}_invalid`;
  if (error.message.includes('"alg"')) return 'alg';
  const missing = /JWT "([a-z_]{1,32})" \(.*\) claim missing/.exec(error.message);
  return missing ? `${missing[1]}_missing` : 'invalid';
}

export interface OidcUpstreamOptions {
  readonly config: UpstreamConfig;
  /** Our callback URL registered at the provider: `issuer + /callback`. */
  readonly redirectUri: string;
  readonly secret: SecretSource;
}

export class OidcUpstream implements UpstreamProvider {
  private metadata?: Promise<oauth.AuthorizationServer>;
  /** Public keys only; shared by every request of this container. */
  private readonly jwks: oauth.JWKSCacheInput = {};
  private readonly client: oauth.Client;

  constructor(private readonly options: OidcUpstreamOptions) {
    this.client = { client_id: options.config.clientId };
  }

  async authorizationUrl(parameters: UpstreamSignInParameters): Promise<string> {
    const as = await this.guard(AbortSignal.timeout(this.options.config.timeoutMs), (signal) => this.discover(signal));
    if (!as.authorization_endpoint) throw new UpstreamFailure('unavailable', 'no_authorization_endpoint');
    const url = new URL(as.authorization_endpoint);
    url.searchParams.set('client_id', this.client.client_id);
    url.searchParams.set('redirect_uri', this.options.redirectUri);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('scope', this.options.config.scopes.join(' '));
    url.searchParams.set('state', parameters.state);
    url.searchParams.set('nonce', parameters.nonce);
    url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(parameters.codeVerifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return url.href;
  }

  async completeSignIn(callback: URLSearchParams, expected: UpstreamSignInParameters): Promise<UpstreamIdentity> {
    // One budget for every upstream call of this request, well inside API Gateway's 29 s (ROB-09).
    return this.guard(AbortSignal.timeout(this.options.config.timeoutMs), async (signal) => {
      const as = await this.discover(signal);
      const validated = this.validateCallback(as, callback, expected.state);
      const secret = await this.options.secret(signal);
      const authentication = secret === undefined ? oauth.None() : oauth.ClientSecretBasic(secret);
      const response = await oauth.authorizationCodeGrantRequest(as, this.client, authentication, validated, this.options.redirectUri, expected.codeVerifier, {
        signal,
        [oauth.allowInsecureRequests]: this.options.config.allowInsecure,
      });
      let result: oauth.TokenEndpointResponse;
      try {
        result = await oauth.processAuthorizationCodeResponse(as, this.client, response, { expectedNonce: expected.nonce, requireIdToken: true });
      } catch (error) {
        if (error instanceof oauth.ResponseBodyError) throw new UpstreamFailure('token_endpoint', errorCode(error.error));
        if (error instanceof oauth.OperationProcessingError && error.code === oauth.RESPONSE_IS_NOT_CONFORM) {
          throw new UpstreamFailure('unavailable', 'token_endpoint_status');
        }
        throw new UpstreamFailure('id_token', idTokenReason(error));
      }
      try {
        await oauth.validateApplicationLevelSignature(as, response, {
          signal,
          [oauth.jwksCache]: this.jwks,
          [oauth.allowInsecureRequests]: this.options.config.allowInsecure,
        });
      } catch (error) {
        if (signal.aborted || isNetworkError(error)) throw error;
        throw new UpstreamFailure('id_token', error instanceof oauth.UnsupportedOperationError ? 'alg' : 'signature');
      }
      const claims = oauth.getValidatedIdTokenClaims(result)!;
      return { sub: claims.sub, claims: { ...claims } };
    });
  }

  private validateCallback(as: oauth.AuthorizationServer, callback: URLSearchParams, state: string): URLSearchParams {
    try {
      return oauth.validateAuthResponse(as, this.client, callback, state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) throw new UpstreamFailure('denied', errorCode(error.error));
      // RFC 9207 mix-up defence: a missing or foreign `iss` (oauth4webapi names the parameter in its message).
      const reason = (error as Error).message.includes('"iss"') ? 'iss' : 'malformed';
      throw new UpstreamFailure('callback', reason);
    }
  }

  /** Discovery, cached for the container's life; a failed attempt is forgotten so the next request retries. */
  private discover(signal: AbortSignal): Promise<oauth.AuthorizationServer> {
    if (!this.metadata) {
      const issuer = new URL(this.options.config.issuer);
      const discovery = oauth
        .discoveryRequest(issuer, { signal, [oauth.allowInsecureRequests]: this.options.config.allowInsecure })
        .then((response) => oauth.processDiscoveryResponse(issuer, response));
      this.metadata = discovery;
      discovery.catch(() => {
        if (this.metadata === discovery) this.metadata = undefined;
      });
    }
    return this.metadata;
  }

  /** Maps timeouts and transport failures to {@link UpstreamFailure}; upstream text never leaves here. */
  private async guard<T>(signal: AbortSignal, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    try {
      return await work(signal);
    } catch (error) {
      if (signal.aborted) throw new UpstreamFailure('timeout', 'timeout');
      if (error instanceof UpstreamFailure) throw error;
      throw new UpstreamFailure('unavailable', isNetworkError(error) ? 'network' : 'invalid_response');
    }
  }
}
