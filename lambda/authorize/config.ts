import { ENV } from '../../lib/environment';
import { isHttpsOrLoopback } from '../../lib/loopback';
import { allowedRedirectHostsFrom, cimdEnabledFrom, type IssuerConfig } from '../shared/config';
import { environmentOf, integer, required, type Environment, type FunctionEnvironmentReader } from '../../lib/environment-reader';
import { issuerConfigFrom } from '../shared/resource-servers';

/** The upstream OpenID Connect provider the authorize handler is a relying party of. */
export interface UpstreamConfig {
  /** The provider's issuer identifier, e.g. `https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC`. */
  readonly issuer: string;
  readonly clientId: string;
  /** @default - a public client (PKCE only, no secret) */
  readonly clientSecretArn?: string;
  /** Always contains `openid`. */
  readonly scopes: string[];
  /** Budget in milliseconds for every upstream call of one request, well within API Gateway's 29 s. */
  readonly timeoutMs: number;
  /** Plain http is accepted for a loopback issuer only (local development and tests). */
  readonly allowInsecure: boolean;
}

/** What the authorize function (/authorize, /consent, /callback) works with. */
export interface AuthorizeConfig extends IssuerConfig {
  readonly tables: { readonly clients: string; readonly codes: string; readonly pending: string; readonly consents: string };
  readonly lifetimes: {
    /** Authorization codes live at most 60 s. */
    readonly authorizationCode: number;
    /** A pending authorization (consent page, upstream sign-in) lives at most 10 minutes. */
    readonly pendingAuthorization: number;
    /** Remembered consent; 0 means consent is asked every time. */
    readonly rememberedConsent: number;
    /** The longest a sign-in session lasts (capped by the upstream ID token's expiry); 0 means no sessions. */
    readonly signInSession: number;
  };
  readonly cimdEnabled: boolean;
  /** The hosts a metadata document's redirect URIs may name; any when undefined. */
  readonly allowedRedirectHosts?: string[];
  readonly upstream: UpstreamConfig;
}

function upstreamFrom(read: FunctionEnvironmentReader<'authorize'>): UpstreamConfig {
  const issuer = required(read, ENV.upstreamIssuer);
  const url = URL.parse(issuer);
  if (!url || url.search || url.hash) throw new Error(`${ENV.upstreamIssuer} must be an absolute URL, got ${JSON.stringify(issuer)}`);
  if (!isHttpsOrLoopback(url)) {
    throw new Error(`${ENV.upstreamIssuer} must use https (http only on loopback), got ${issuer}`);
  }
  const scopes = (read[ENV.upstreamScopes] ?? 'openid email profile').split(' ').filter((scope) => scope.length > 0);
  return {
    issuer,
    clientId: required(read, ENV.upstreamClientId),
    clientSecretArn: read[ENV.upstreamClientSecretArn] || undefined,
    scopes: scopes.includes('openid') ? scopes : ['openid', ...scopes],
    timeoutMs: integer(read, ENV.upstreamTimeout, 10, 1, 20) * 1000,
    allowInsecure: url.protocol === 'http:',
  };
}

/** Reads the authorize function's variables (and no other), once per container; throws on anything invalid. */
export function loadAuthorizeConfig(env: Environment): AuthorizeConfig {
  const read = environmentOf('authorize', env);
  const { issuer, servers } = issuerConfigFrom(read);
  return {
    issuer,
    servers,
    tables: {
      clients: required(read, ENV.clientsTable),
      codes: required(read, ENV.codesTable),
      pending: required(read, ENV.pendingTable),
      consents: required(read, ENV.consentsTable),
    },
    lifetimes: {
      authorizationCode: 60,
      pendingAuthorization: 600,
      rememberedConsent: integer(read, ENV.consentTtl, 30 * 86400, 0, 365 * 86400),
      signInSession: integer(read, ENV.signInSessionTtl, 3600, 0, 86400),
    },
    cimdEnabled: cimdEnabledFrom(read),
    allowedRedirectHosts: allowedRedirectHostsFrom(read),
    upstream: upstreamFrom(read),
  };
}
