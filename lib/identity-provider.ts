import { Duration, SecretValue, Stack, Token } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { isScopeToken } from './scopes';
import { _acknowledge } from './acknowledgements';

/** What the authorization server needs to sign users in at the upstream OpenID Connect provider. */
export interface IdentityProviderConfig {
  /** The provider's issuer identifier, compared byte for byte with the `iss` of its discovery document and ID tokens. */
  readonly issuerUrl: string;
  readonly clientId: string;
  /** Read by the authorize function at run time; only its ARN is put into the function configuration. */
  readonly clientSecret: secretsmanager.ISecret;
  /** Requested upstream; always contains `openid`. */
  readonly scopes: string[];
}

export interface IdentityProviderBindOptions {
  /** The redirect URI the provider sends users back to: `<issuer>/callback`. */
  readonly callbackUrl: string;
}

export interface OidcIdentityProviderProps {
  /**
   * The provider's issuer identifier, exactly as its discovery document states it (some providers end
   * it with a slash, e.g. Auth0). Must be https.
   */
  readonly issuerUrl: string;
  /** The client id of the app registered at the provider, with `<issuer>/callback` (`SecureMcpServer.callbackUrl`) as redirect URI. */
  readonly clientId: string;
  /** The client secret of that app, as a Secrets Manager secret holding the plain secret string. */
  readonly clientSecret: secretsmanager.ISecret;
  /**
   * Scopes requested from the provider. `openid` is always added.
   * @default ['openid', 'email', 'profile']
   */
  readonly scopes?: string[];
  /**
   * The ID token claim listing the user's groups, which the default entitlement reads (`admins` may
   * hold `mcp:admin`). Okta, Entra ID and Keycloak use `groups`; Auth0 a namespaced custom claim.
   * @default 'groups'
   */
  readonly groupsClaim?: string;
}

export interface CognitoIdentityProviderProps {
  /**
   * The user pool users sign in with. It needs a domain (`userPool.addDomain(...)`): Cognito publishes
   * its authorization endpoint in the discovery document only when one exists, so a pool of this app
   * without one fails the synth (an imported pool is trusted to have one).
   */
  readonly userPool: cognito.IUserPool;
  /**
   * Scopes requested from the user pool.
   * @default [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE]
   */
  readonly scopes?: cognito.OAuthScope[];
  /**
   * Identity providers users may choose on the sign-in page.
   * @default - Cognito's own user directory plus every identity provider registered on `userPool` at synth time
   */
  readonly supportedIdentityProviders?: cognito.UserPoolClientIdentityProvider[];
}

const DEFAULT_UPSTREAM_SCOPES = ['openid', 'email', 'profile'];
const DEFAULT_GROUPS_CLAIM = 'groups';
/** Cognito puts a user's groups into every ID token, in this claim. */
const COGNITO_GROUPS_CLAIM = 'cognito:groups';

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function withOpenId(scopes: readonly string[]): string[] {
  return scopes.includes('openid') ? [...scopes] : ['openid', ...scopes];
}

/**
 * The OpenID Connect provider users sign in at (the authorize handler is a relying party of the
 * platform's existing IdP). Create one with {@link IdentityProvider.oidc} or {@link IdentityProvider.cognito}.
 */
export abstract class IdentityProvider {
  /** Any OpenID Connect provider (Okta, Entra ID, Auth0, Google, Keycloak, ...) with a confidential client you registered. */
  public static oidc(props: OidcIdentityProviderProps): IdentityProvider {
    return new OidcIdentityProvider(props);
  }

  /**
   * A Cognito user pool. The construct creates the pool's app client (authorization code flow,
   * `<issuer>/callback` as its only callback URL, a generated secret) and stores the secret in
   * Secrets Manager.
   */
  public static cognito(props: CognitoIdentityProviderProps): IdentityProvider {
    return new CognitoIdentityProvider(props);
  }

  /** The ID token claim listing the user's groups: what the default entitlement (`admins` may hold `mcp:admin`) reads. */
  public get groupsClaim(): string {
    return DEFAULT_GROUPS_CLAIM;
  }

  /** Called once by `SecureMcpServer`; creates any resources the provider needs inside `scope`. */
  public abstract bind(scope: Construct, options: IdentityProviderBindOptions): IdentityProviderConfig;
}

class OidcIdentityProvider extends IdentityProvider {
  constructor(private readonly props: OidcIdentityProviderProps) {
    super();
    const problems: string[] = [];
    if (!Token.isUnresolved(props.issuerUrl)) {
      const url = parseUrl(props.issuerUrl);
      if (!url || url.protocol !== 'https:' || url.search || url.hash) {
        problems.push(`issuerUrl must be an https URL without query or fragment, got ${JSON.stringify(props.issuerUrl)}`);
      }
    }
    if (!Token.isUnresolved(props.clientId) && props.clientId.trim() === '') problems.push('clientId must not be empty');
    if (props.groupsClaim !== undefined && props.groupsClaim.trim() === '') problems.push('groupsClaim must not be empty');
    for (const scope of props.scopes ?? []) {
      if (!isScopeToken(scope)) problems.push(`scopes must be OAuth scope tokens, got ${JSON.stringify(scope)}`);
    }
    if (problems.length > 0) throw new Error(`Invalid IdentityProvider.oidc props: ${problems.join('; ')}`);
  }

  public override get groupsClaim(): string {
    return this.props.groupsClaim ?? DEFAULT_GROUPS_CLAIM;
  }

  public bind(): IdentityProviderConfig {
    return {
      issuerUrl: this.props.issuerUrl,
      clientId: this.props.clientId,
      clientSecret: this.props.clientSecret,
      scopes: withOpenId(this.props.scopes ?? DEFAULT_UPSTREAM_SCOPES),
    };
  }
}

class CognitoIdentityProvider extends IdentityProvider {
  constructor(private readonly props: CognitoIdentityProviderProps) {
    super();
  }

  public override get groupsClaim(): string {
    return COGNITO_GROUPS_CLAIM;
  }

  public bind(scope: Construct, options: IdentityProviderBindOptions): IdentityProviderConfig {
    // At synth, not here: the domain is often added after the construct is created.
    const userPool = this.props.userPool;
    scope.node.addValidation({ validate: () => (hasNoDomain(userPool) ? [noDomainMessage(userPool)] : []) });
    const scopes = this.props.scopes ?? [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE];
    const scopeNames = withOpenId(scopes.map((scope) => scope.scopeName));
    const client = new cognito.UserPoolClient(scope, 'UpstreamClient', {
      userPool: this.props.userPool,
      generateSecret: true,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: scopeNames.map((name) => cognito.OAuthScope.custom(name)),
        callbackUrls: [options.callbackUrl],
      },
      // Users sign in on the hosted pages only; no password or SRP flows against the client itself.
      authFlows: { userPassword: false, userSrp: false, custom: false, adminUserPassword: false },
      supportedIdentityProviders: this.props.supportedIdentityProviders,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      // The authorize function reads the ID token once, right after sign-in; upstream tokens are never reused.
      idTokenValidity: Duration.minutes(5),
      accessTokenValidity: Duration.minutes(5),
      refreshTokenValidity: Duration.hours(1),
    });
    // CloudFormation returns the generated secret as an attribute: it goes from the app client into
    // Secrets Manager without appearing in the template, and without a custom resource.
    const secret = new secretsmanager.Secret(scope, 'UpstreamClientSecret', {
      description: `Client secret of the Cognito app client that ${scope.node.path} signs users in with`,
      secretStringValue: SecretValue.resourceAttribute((client.node.defaultChild as cognito.CfnUserPoolClient).attrClientSecret),
    });
    _acknowledge(secret, 'cognitoGeneratedSecret');
    const { region, urlSuffix } = Stack.of(this.props.userPool);
    return {
      issuerUrl: `https://cognito-idp.${region}.${urlSuffix}/${this.props.userPool.userPoolId}`,
      clientId: client.userPoolClientId,
      clientSecret: secret,
      scopes: scopeNames,
    };
  }
}

/** True for a user pool of this app that no user pool domain (Cognito prefix or custom) belongs to. */
function hasNoDomain(userPool: cognito.IUserPool): boolean {
  if (!(userPool.node.defaultChild instanceof cognito.CfnUserPool)) return false;
  return !userPool.node.root.node
    .findAll()
    .some((construct) => construct instanceof cognito.CfnUserPoolDomain && construct.userPoolId === userPool.userPoolId);
}

function noDomainMessage(userPool: cognito.IUserPool): string {
  return (
    `IdentityProvider.cognito: the user pool ${userPool.node.path} has no domain, and Cognito publishes no authorization endpoint without one, ` +
    "so every sign-in would fail. Add one: userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: '<unique prefix>' } }) or a custom domain"
  );
}
