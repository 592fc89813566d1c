import { Annotations, Duration, Lazy, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { authorizerCaching, authorizerGatewayResponses } from './authorizer-gateway';
import { ENV, GUARD_ENV } from './environment';
import { IdentityProvider } from './identity-provider';
import { auditMetric } from './private/audit';
import { auditMetricNamespace, createAudit } from './private/authorization-server/audit';
import { createApiAndIssuer } from './private/authorization-server/api';
import { createFunctions, functionEnvironments, grantHandlerPermissions } from './private/authorization-server/functions';
import { createKeysAndTables } from './private/authorization-server/keys-and-tables';
import { type McpServerCheckContext, resolveMcpServerOptions } from './private/authorization-server/mcp-server-options';
import { resolveProps } from './private/authorization-server/props';
import { addAuthorizationServerApi } from './private/authorization-server/routes';
import { checkEnvironmentSize } from './private/handler-function';
import { addChallengeResponses, addMcpServerRoutes, Integrations, MethodSettings } from './private/rest-api';
import { machineClientCeilingProblems, machineClientServerProblems } from './private/machine-clients';
import type { BuiltServer, ProtectedServer, ServerNaming } from './private/protected-server';
import { grantPublicKeyRead } from './private/signing-key';
import { allScopeNames, ChallengeMode, compressProtectedResources, protectedResourceMetadataPath, protectedResourcesProblems, ProtectedResourcesSpec } from './protected-resources';
import { routesFor } from './routes';
import { defaultScopes } from './scopes';
import type { TableName } from './tables';
import type { SigningAlgorithm } from './signing-algorithm';
import type { Firewall } from './firewall';
import type { AuditTrail } from './audit-trail';
import { MCP_GUARD_ENVIRONMENT_WARNING } from './warnings';
import { McpServer, type McpServerOptions } from './mcp-server';

export interface McpAuthorizationServerProps {
  /** Where users sign in: `IdentityProvider.oidc(...)` or `IdentityProvider.cognito(...)`. */
  readonly identityProvider: IdentityProvider;

  /**
   * Lifetime of access tokens: 5 to 30 minutes.
   * @default Duration.minutes(10)
   */
  readonly accessTokenTtl?: Duration;

  /**
   * Absolute lifetime of a refresh-token family: 1 hour to 365 days.
   * @default Duration.days(30)
   */
  readonly refreshTokenTtl?: Duration;

  /**
   * A refresh-token family unused for this long expires: 10 minutes to `refreshTokenTtl`.
   * @default Duration.days(7)
   */
  readonly refreshTokenIdleTtl?: Duration;

  /**
   * A registered client that completes no authorization within this long is deleted: 10 minutes to 365 days.
   * @default Duration.days(1)
   */
  readonly unusedClientTtl?: Duration;

  /**
   * How long a user's consent to a client, redirect URI and scope set is remembered; `Duration.seconds(0)` asks every time. Up to 365 days.
   * @default Duration.days(30)
   */
  readonly rememberConsentFor?: Duration;

  /**
   * How long a user who signed in at the identity provider is not sent there again, for any MCP server
   * of this authorization server (each server still asks its own consent). Never longer than the ID
   * token's own lifetime; `Duration.seconds(0)` sends the user to the identity provider for every
   * authorization (choose it where browsers are shared: a sign-out at the provider does not end the
   * session). Up to 1 day.
   * @default Duration.hours(1)
   */
  readonly signInSessionTtl?: Duration;

  /**
   * The access-token signature algorithm.
   * @default SigningAlgorithm.RS256
   */
  readonly signingAlgorithm?: SigningAlgorithm;

  /**
   * An existing asymmetric SIGN_VERIFY key matching `signingAlgorithm`. Its key policy must let IAM
   * policies in the account grant `kms:Sign` and `kms:GetPublicKey`; a key of this stack also gets
   * statements for the token and metadata roles, a key of another stack is left as it is.
   * @default - a new key (RSA_2048 or ECC_NIST_P256), retained on stack deletion, whose key policy grants signing to the token function only
   */
  readonly signingKey?: kms.IKey;

  /**
   * Keys whose public halves stay in the JWKS after a key rotation, so tokens they signed keep verifying until they expire.
   * @default - none
   */
  readonly previousSigningKeys?: kms.IKey[];

  /**
   * Accept Client ID Metadata Documents (https URLs as `client_id`). The authorize function then fetches
   * them, with SSRF protections, from the internet. With `false`, /authorize and /token refuse such
   * client ids, so refresh tokens issued to them before stop working.
   * @default true
   */
  readonly clientIdMetadataDocuments?: boolean;

  /**
   * Host names that https redirect URIs of registered and CIMD clients must use (loopback URIs stay allowed).
   * @default - any host
   */
  readonly allowedRedirectHosts?: string[];

  /**
   * Dotless private-use URI schemes accepted as redirect URIs besides reverse-domain ones, e.g. `cursor`.
   * @default - none
   */
  readonly extraRedirectSchemes?: string[];

  /**
   * Caps dynamic client registrations per UTC day.
   * @default - no daily cap (WAF and API Gateway throttling still limit the rate)
   */
  readonly maxRegistrationsPerDay?: number;

  /**
   * The REST API stage name; it is part of the issuer on the execute-api URL.
   * @default 'prod'
   */
  readonly stageName?: string;

  /**
   * A custom domain (with an ACM certificate in the same Region) and optional base path. The issuer
   * becomes `https://<domain>/<basePath>`, the execute-api endpoint is disabled, and the root
   * well-known URLs become reachable. Create the DNS record for `domain` yourself.
   * @default - the execute-api stage URL is the issuer
   */
  readonly domainName?: apigateway.DomainNameOptions;

  /**
   * An existing REST API of this stack, without `defaultCorsPreflightOptions`, to add the routes to, at
   * its root, on its deployment stage. Its stage settings (access logging, execution logging, default
   * throttling) and its 404/429/4XX/5XX gateway responses stay yours; the construct adds its methods
   * with their throttling (at the stage's own logging level), the authorizer, the UNAUTHORIZED and
   * ACCESS_DENIED gateway responses (API-wide) and (unless disabled) the WAF association.
   * @default - a new regional REST API
   */
  readonly restApi?: apigateway.RestApi;

  /**
   * Create the account-level IAM role API Gateway needs for execution logging, and the account setting
   * naming it (one per account and Region, shared by all APIs). Set false when something else manages
   * it; set true on instances in environment-agnostic stacks that deploy to different accounts. Not
   * allowed with `restApi`.
   * @default - true for the first authorization server (SecureMcpServer or McpAuthorizationServer) of the app in each account and Region; later ones
   * deploy after it
   */
  readonly cloudWatchRole?: boolean;

  /** @default - a new table: on-demand, TTL, point-in-time recovery, encrypted, deletion-protected and retained */
  readonly clientsTable?: dynamodb.ITable;
  /** @default - a new table: on-demand, TTL, point-in-time recovery, encrypted, deletion-protected and retained */
  readonly codesTable?: dynamodb.ITable;
  /** @default - a new table: on-demand, TTL, point-in-time recovery, encrypted, deletion-protected and retained */
  readonly grantsTable?: dynamodb.ITable;
  /** @default - a new table: on-demand, TTL, point-in-time recovery, encrypted, deletion-protected and retained */
  readonly pendingTable?: dynamodb.ITable;
  /** @default - a new table: on-demand, TTL, point-in-time recovery, encrypted, deletion-protected and retained */
  readonly consentsTable?: dynamodb.ITable;

  /**
   * The AWS WAF web ACL of the stage.
   * @default Firewall.managed()
   */
  readonly firewall?: Firewall;

  /**
   * The CloudTrail trail recording KMS and DynamoDB activity.
   * @default - `AuditTrail.create()` for the first authorization server (SecureMcpServer or McpAuthorizationServer) of the app in an account and Region.
   * A later one of the same stack adds its tables to that trail; a later one in another stack creates
   * a trail of its tables' data events only, the management events being recorded once.
   */
  readonly auditTrail?: AuditTrail;

  /**
   * Where security alarms are sent.
   * @default - a new SNS topic (SSL-only); subscribe to `alarmTopic`
   */
  readonly alarmTopic?: sns.ITopic;

  /**
   * Retention of every log group the construct creates (functions, access logs, WAF, trail).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * What happens to the tables, the signing key and the log groups when they leave the stack. With
   * DESTROY, deletion protection is off too. The trail bucket and its key are always retained.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * Reserve concurrency for the token and register functions: a guaranteed share for token issuance
   * and a hard ceiling for registration. Lambda keeps at least 100 executions of an account unreserved,
   * so an account needs a concurrency quota of 100 + everything reserved (new accounts can start at 10:
   * there, set false).
   * @default true
   */
  readonly reserveConcurrency?: boolean;

  /**
   * Reserved concurrency of the token function (a floor, and a ceiling too).
   * @default - 50 (half the burst of POST /token) for the first authorization server (SecureMcpServer or McpAuthorizationServer) of the app in an
   * account and Region; none for later ones, which use the account's unreserved concurrency
   */
  readonly tokenReservedConcurrency?: number;

  /**
   * Reserved concurrency of the register function (a ceiling).
   * @default 5 - the burst of POST /register
   */
  readonly registerReservedConcurrency?: number;

  /**
   * Who may change the created signing key's policy (`kms:PutKeyPolicy`); include the role that deploys
   * the stack (for the CDK bootstrap, its CloudFormation execution role). Nobody may sign tokens but the
   * token function, and nobody may create grants on the key, whoever administers it.
   * @default - principals of this account whose IAM policies allow kms:PutKeyPolicy (deployment roles,
   * administrators): they could replace the policy to sign, which CloudTrail records
   */
  readonly signingKeyAdmins?: iam.IPrincipal[];

  /**
   * The clients that may use the client_credentials grant (tokens without a user), each with its scope
   * ceiling. Open registration never creates such a client.
   * @default - none: every token has a signed-in user behind it
   */
  readonly machineClients?: MachineClientOptions[];
  /**
   * A customer-managed symmetric KMS key for every log group the construct creates (functions, access
   * logs, WAF, trail) and for the alarm topic it creates. A `kms.Key` of the app gets the key-policy
   * statements CloudWatch Logs (`logs.<region>.amazonaws.com`, for this account's log groups) and
   * CloudWatch alarms (publishing to the topic) need; a key imported by ARN must already allow them.
   * @default - log groups use CloudWatch Logs' own encryption; the created alarm topic has no KMS key
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * X-Ray active tracing on the five functions and on the stage the construct creates (a brought
   * `restApi` keeps its own stage settings). Off by default: API Gateway trace segments record request
   * URLs, and the query strings of /authorize and /callback carry PKCE challenges, `state` and the
   * upstream authorization code.
   * @default false
   */
  readonly tracing?: boolean;

  /**
   * Runs the five functions in this VPC. Every call they make is HTTPS: DynamoDB, KMS and Secrets
   * Manager (through VPC endpoints or NAT), and the upstream identity provider, Client ID Metadata
   * Documents and the JWKS at the issuer (through NAT): the subnets need a route to the internet.
   * @default - the functions run outside any VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Where the functions' network interfaces go; only with `vpc`.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Security groups of the functions; only with `vpc`.
   * @default - one new security group allowing TCP 443 out and nothing in
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Create a DynamoDB gateway endpoint and KMS and Secrets Manager interface endpoints (private DNS,
   * reachable from the functions' security groups only) in `vpc`. A VPC holds one private-DNS endpoint
   * per service: leave false when it already has them.
   * @default false
   */
  readonly createVpcEndpoints?: boolean;

  /**
   * Acknowledge the cdk-nag findings that are facts of the design (`NAG_ACKNOWLEDGEMENTS`, the same
   * reason in every pack). With false the construct acknowledges nothing and your packs report everything.
   * @default true
   */
  readonly acknowledgeNagFindings?: boolean;

  /**
   * Rule ids of `NAG_ACKNOWLEDGEMENTS` (for example `NIST.800.53.R5-LambdaInsideVPC`) the construct
   * must not acknowledge, so your packs report them.
   * @default - none
   */
  readonly withheldNagAcknowledgements?: string[];

  /**
   * Create a CloudWatch dashboard with the alarm states, the audit metrics, function errors and API traffic.
   * @default true
   */
  readonly dashboard?: boolean;

  /**
   * Alarm thresholds (sums per five minutes at or above which an alarm fires).
   * @default - the values in the README's alarm table
   */
  readonly alarmThresholds?: AlarmThresholds;
}

/** Sums per five minutes at or above which each alarm fires. */
export interface AlarmThresholds {
  /** `CodeReplayAlarm`. @default 1 */
  readonly codeReplays?: number;
  /** `RefreshTokenReuseAlarm`. @default 1 */
  readonly refreshTokenReuse?: number;
  /** `RegistrationSpikeAlarm`. @default 50 */
  readonly clientRegistrations?: number;
  /** `AuthorizerDenialSpikeAlarm`. @default 500 */
  readonly authorizerDenials?: number;
  /** `KmsFaultAlarm`. @default 1 */
  readonly kmsFaults?: number;
  /** `ServerFaultAlarm`. @default 5 */
  readonly serverFaults?: number;
  /** `ConsentCsrfAlarm`. @default 5 */
  readonly consentCsrfFailures?: number;
  /** `UpstreamCallbackRejectedAlarm`. @default 5 */
  readonly upstreamCallbackRejections?: number;
  /** `WafBlockedRequestsAlarm`. @default 1000 */
  readonly wafBlockedRequests?: number;
}

/**
 * A client that obtains tokens without a user (the client_credentials grant): a batch job, another
 * service. Only the operator creates these; open registration never does.
 */
export interface MachineClientOptions {
  /** Lower-case letters, digits and '-'; the client id is `machine.<name>`. */
  readonly name: string;
  /**
   * The scope ceiling: every token this client obtains carries only scopes from this list. Scopes
   * restricted by entitlements (for users) reach a machine token only when listed here.
   */
  readonly scopes: string[];
  /**
   * The secret whose SecretString is the client secret.
   * @default - a new secret with a generated 48-character value (read it with `aws secretsmanager get-secret-value`)
   */
  readonly secret?: secretsmanager.ISecret;
  /**
   * May introspect (RFC 7662) every token this server issued, as a resource server would. Without it,
   * a client learns about its own tokens only.
   * @default false
   */
  readonly introspection?: boolean;
  /**
   * The paths of the MCP servers this client may obtain tokens for, e.g. `['/search/mcp']`. Required
   * when the authorization server serves more than one: a batch job declared for one team's server
   * must not get tokens for every other server that happens to declare the same scope names.
   * @default - the one MCP server (only with a single server)
   */
  readonly mcpServers?: string[];
}

/** A machine client the construct configured: its client id and where its secret lives. */
export interface MachineClient {
  readonly name: string;
  /** `machine.<name>`: what the client sends as its client_id (client_secret_basic or client_secret_post). */
  readonly clientId: string;
  readonly secret: secretsmanager.ISecret;
}

/** Every table of the construct, by its name in lib/tables.ts. */
export type SecureMcpServerTables = Readonly<Record<TableName, dynamodb.ITable>>;

/** What `_protect` needs of the construction of the authorization server. */
interface SharedContext extends Pick<McpServerCheckContext, 'identityProvider' | 'accessTokenTtl' | 'domainName' | 'firewall'> {
  readonly integrations: Integrations;
  readonly methodSettings: MethodSettings;
  /** The UNAUTHORIZED and ACCESS_DENIED answers (created with the one server in `gateway` mode). */
  readonly challengeResponses: apigateway.GatewayResponse[];
  readonly machineClients: readonly MachineClientOptions[];
  /** Each function's environment, `PROTECTED_RESOURCES` still to be written. */
  readonly environments: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/**
 * One OAuth 2.1 authorization server, with one Lambda authorizer, in front of many MCP servers on Lambda
 * (a fleet): one API, sign-in, registration, tables, signing key, firewall and trail for all of them.
 * Each server added with `addMcpServer` is its own protected resource: its own URL (the token audience),
 * metadata, challenge and scopes.
 *
 * ```ts
 * const auth = new McpAuthorizationServer(this, 'Auth', {
 *   identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'abc', clientSecret: secret }),
 *   domainName: { domainName: 'mcp.example.com', certificate },
 * });
 * const search = auth.addMcpServer('Search', { handler: searchFunction, path: '/search/mcp' });
 * new CfnOutput(this, 'SearchUrl', { value: search.mcpUrl });
 * ```
 */
export class McpAuthorizationServer extends Construct {
  /** The authorization server's issuer: the base URL, no trailing slash (the stage URL or `https://<domain>/<basePath>`). */
  public readonly issuer: string;
  /** The redirect URI to register at the upstream identity provider: `issuer + /callback`. */
  public readonly callbackUrl: string;

  public readonly restApi: apigateway.RestApi;
  public readonly stage: apigateway.Stage;
  /** The custom domain, when `domainName` is set: point a DNS alias at it. */
  public readonly domain?: apigateway.DomainName;
  /** The stage's JSON access log, when the construct created the REST API. */
  public readonly accessLogGroup?: logs.LogGroup;
  /** Every method built from the routes manifest, keyed `METHOD /path`: the authorization server's and every MCP server's. */
  public readonly methods: ReadonlyMap<string, apigateway.Method>;

  public readonly metadataFunction: lambda.Function;
  public readonly registerFunction: lambda.Function;
  public readonly tokenFunction: lambda.Function;
  public readonly authorizeFunction: lambda.Function;
  public readonly authorizerFunction: lambda.Function;

  public readonly signingKey: kms.IKey;
  /** Keys still published in the JWKS after a rotation (`previousSigningKeys`). */
  public readonly previousSigningKeys: readonly kms.IKey[];
  public readonly signingAlgorithm: SigningAlgorithm;
  public readonly tables: SecureMcpServerTables;
  public readonly clientsTable: dynamodb.ITable;
  public readonly codesTable: dynamodb.ITable;
  public readonly grantsTable: dynamodb.ITable;
  public readonly pendingTable: dynamodb.ITable;
  public readonly consentsTable: dynamodb.ITable;
  /** The upstream client secret, readable by the authorize function only. */
  public readonly upstreamClientSecret: secretsmanager.ISecret;
  /** The machine clients from `machineClients`, with their client ids and secrets. */
  public readonly machineClients: MachineClient[];

  /** The ARN of the web ACL associated with the stage, unless the firewall is disabled. */
  public readonly webAclArn?: string;
  /** The web ACL, when the construct created it. */
  public readonly webAcl?: wafv2.CfnWebACL;
  public readonly webAclLogGroup?: logs.LogGroup;

  /** The trail the construct created (`AuditTrail.create()`). */
  public readonly trail?: cloudtrail.Trail;
  /** The trail that records this instance without being its own: the one passed to `AuditTrail.existing()`, or the trail of an earlier instance of this stack it shares. */
  public readonly existingTrail?: cloudtrail.ITrailRef;
  public readonly trailBucket?: s3.Bucket;
  public readonly trailAccessLogsBucket?: s3.Bucket;
  public readonly trailKey?: kms.Key;
  public readonly trailLogGroup?: logs.LogGroup;

  public readonly alarmTopic: sns.ITopic;
  /** The CloudWatch namespace of the audit-event metrics. */
  public readonly metricNamespace: string;
  /** Every security alarm, keyed by construct id (`CodeReplayAlarm`, `KmsFaultAlarm`, ...). */
  public readonly alarms: Readonly<Record<string, cloudwatch.Alarm>>;
  /** The CloudWatch dashboard, unless `dashboard: false`. */
  public readonly dashboard?: cloudwatch.Dashboard;
  /** The functions' security groups, with `vpc`. */
  public readonly securityGroups?: readonly ec2.ISecurityGroup[];
  /** The VPC endpoints created with `createVpcEndpoints` (`DynamoDbEndpoint`, `KmsEndpoint`, `SecretsManagerEndpoint`). */
  public readonly vpcEndpoints: Readonly<Record<string, ec2.IVpcEndpoint>> = {};

  /** The MCP servers, in the order they were added. */
  private readonly protectedServers: ProtectedServer[] = [];
  private readonly allMethods = new Map<string, apigateway.Method>();
  private readonly challenges: ChallengeMode;
  private readonly shared: SharedContext;
  private sharedAuthorizer?: apigateway.RequestAuthorizer;

  constructor(scope: Construct, id: string, props: McpAuthorizationServerProps) {
    super(scope, id);
    this.challenges = this._challengeMode();
    // Each step lives in lib/private/authorization-server/, in this order; the MCP servers come later (_protect).
    // 1. Every prop checked at once, defaults applied.
    const resolved = resolveProps(this, props, this._kind());
    this.signingAlgorithm = resolved.algorithm;

    // 2. The API and the issuer.
    const api = createApiAndIssuer(this, resolved, this.challenges);
    this.restApi = api.restApi;
    this.stage = api.stage;
    this.domain = api.domain;
    this.accessLogGroup = api.accessLogGroup;
    this.issuer = api.issuer;
    this.callbackUrl = `${this.issuer}/callback`;

    // 3. Keys, tables, the upstream identity provider and the machine clients.
    const state = createKeysAndTables(this, resolved, this.callbackUrl);
    this.signingKey = state.signingKey;
    this.previousSigningKeys = state.previousSigningKeys;
    this.tables = state.tables;
    this.clientsTable = state.tables.clients;
    this.codesTable = state.tables.codes;
    this.grantsTable = state.tables.grants;
    this.pendingTable = state.tables.pending;
    this.consentsTable = state.tables.consents;
    this.upstreamClientSecret = state.upstream.clientSecret;
    this.machineClients = state.machineClients;

    // 4. The functions, their environment and their permissions. The MCP servers are added after the
    // functions exist, so their list (PROTECTED_RESOURCES) is written at synth.
    const environments = functionEnvironments(resolved, this.issuer, state, Lazy.string({ produce: () => this.writtenProtectedResources() }));
    const built = createFunctions(this, resolved, environments);
    grantHandlerPermissions(resolved, state, built.functions);
    const { metadata, register, token, authorize, authorizer } = built.functions;
    this.metadataFunction = metadata.function;
    this.registerFunction = register.function;
    this.tokenFunction = token.function;
    this.authorizeFunction = authorize.function;
    this.authorizerFunction = authorizer.function;
    this.securityGroups = built.securityGroups;
    this.vpcEndpoints = built.vpcEndpoints;

    // 5. The authorization server's routes and API-wide answers.
    const routes = addAuthorizationServerApi(
      this,
      resolved,
      api,
      { metadata: metadata.function, register: register.function, token: token.function, authorize: authorize.function },
      this.challenges,
    );
    routes.methods.forEach((method, key) => this.allMethods.set(key, method));
    this.methods = this.allMethods;
    this.shared = {
      identityProvider: props.identityProvider,
      accessTokenTtl: resolved.lifetimes.accessToken,
      domainName: props.domainName !== undefined,
      firewall: resolved.firewall,
      integrations: routes.integrations,
      methodSettings: routes.methodSettings,
      challengeResponses: routes.challengeResponses,
      machineClients: props.machineClients ?? [],
      environments,
    };
    this.node.addValidation({ validate: () => this._serverProblems() });

    // 6. The firewall.
    const firewall = resolved.firewall._bind(this, {
      stage: this.stage,
      pathPrefixes: api.pathPrefixes,
      logRetention: resolved.logRetention,
      removalPolicy: resolved.removalPolicy,
      logEncryptionKey: props.logEncryptionKey,
    });
    this.webAcl = firewall.webAcl;
    this.webAclLogGroup = firewall.logGroup;
    this.webAclArn = firewall.webAclArn;

    // 7. Audit: alarms, the trail, the dashboard (of the public metrics below).
    this.metricNamespace = auditMetricNamespace(this);
    const audit = createAudit(this, resolved, {
      metricNamespace: this.metricNamespace,
      dashboardMetrics: {
        'Tokens issued and clients registered': [this.metricIssuedTokens(), this.metricClientRegistrations()],
        'Authorizer denials': [this.metricAuthorizerDenials()],
        'Replays, reuse and faults': [this.metricCodeReplays(), this.metricRefreshTokenReuse(), this.metricKmsFaults(), this.metricServerFaults()],
      },
      functions: built.functions,
      restApi: this.restApi,
      region: api.region,
      tables: Object.values(state.tables),
      keyArns: [this.signingKey, ...this.previousSigningKeys].map((key) => key.keyArn),
      webAclName: firewall.webAclName,
      challenges: this.challenges,
    });
    this.alarmTopic = audit.alarmTopic;
    this.alarms = audit.alarms;
    this.trail = audit.trail;
    this.existingTrail = audit.existingTrail;
    this.trailBucket = audit.trailBucket;
    this.trailAccessLogsBucket = audit.trailAccessLogsBucket;
    this.trailKey = audit.trailKey;
    this.trailLogGroup = audit.trailLogGroup;
    this.dashboard = audit.dashboard;
  }

  /**
   * Protects one more MCP server with this authorization server: its protected resource metadata and
   * its endpoint (POST, and the GET/HEAD discovery probes) at `path`, behind the one authorizer
   * function. Nothing stateful is created: tokens, grants and consent for it live in the shared tables,
   * bound to its URL. The handler may be a function of another stack when `domainName` is set.
   */
  public addMcpServer(id: string, options: McpServerOptions): McpServer {
    // Refused before the McpServer joins the construct tree.
    this.refuseSecondServer();
    return new McpServer(this, id, options);
  }

  /** The MCP servers as the handlers read them (`PROTECTED_RESOURCES`). */
  public get protectedResources(): ProtectedResourcesSpec {
    return this.protectedResourcesSpec();
  }

  /** @internal `authorizer` (per-server challenges) unless a subclass serves exactly one MCP server. */
  protected _challengeMode(): ChallengeMode {
    return 'authorizer';
  }

  /** @internal The construct's name in messages. */
  protected _kind(): string {
    return 'McpAuthorizationServer';
  }

  /**
   * @internal Creates the routes, authorizer and permissions of one MCP server. `owner` holds what is
   * its own (a handler reference, an authorizer with a result cache) and its warnings.
   */
  public _protect(owner: Construct, options: McpServerOptions, naming: ServerNaming): BuiltServer {
    const shared = this.shared;
    this.refuseSecondServer();
    const { path, scopeModel, authorizerCacheTtlSeconds: ttlSeconds, throttling, handlerInStack } = resolveMcpServerOptions(owner, options, naming, {
      ...shared,
      authorizationServer: this,
      kind: this._kind(),
      servers: this.protectedServers,
    });

    const mcpUrl = `${this.issuer}${path}`;
    const protectedResourceMetadataUrl = `${this.issuer}${protectedResourceMetadataPath(path)}`;
    const authorizer = this.authorizerFor(owner, ttlSeconds);
    // A function of another stack is integrated through a reference of this stack, so that its invoke
    // permission (which names this API) is created here and that stack does not depend on this one.
    const handler =
      handlerInStack ? options.handler : lambda.Function.fromFunctionAttributes(owner, naming.handlerReferenceId, { functionArn: options.handler.functionArn, sameEnvironment: true });
    const methods = addMcpServerRoutes({ api: this.restApi, functions: { metadata: this.metadataFunction, mcp: handler }, integrations: shared.integrations, authorizer }, path);
    methods.forEach((method, key) => this.allMethods.set(key, method));
    if (this.challenges === 'gateway') shared.challengeResponses.push(...addChallengeResponses(this.restApi, authorizerGatewayResponses(protectedResourceMetadataUrl, defaultScopes(scopeModel))));
    const server: ProtectedServer = { owner, path, scopeModel, authorizerCacheTtlSeconds: ttlSeconds, throttling, defaultResource: options.defaultResource ?? false, handler: options.handler };
    this.protectedServers.push(server);
    shared.methodSettings.update(
      routesFor(this.protectedServers.map((entry) => entry.path)),
      new Map(this.protectedServers.map((entry) => [entry.path, entry.throttling])),
    );

    // ---- The MCP function: what the runtime guard reads.
    const mcpFunctionEnvironment: Record<string, string> = {
      [ENV.issuer]: this.issuer,
      [ENV.scopeModel]: JSON.stringify(scopeModel),
      // The guard's default is /mcp, the one server of a SecureMcpServer.
      ...(this.challenges === 'authorizer' ? { [GUARD_ENV.resourcePath]: path } : {}),
      ...(options.allowedOrigins?.length ? { [GUARD_ENV.allowedOrigins]: options.allowedOrigins.join(',') } : {}),
    };
    // In another stack only literal values can be set without that stack depending on this one.
    const settable = handlerInStack || Object.values(mcpFunctionEnvironment).every((value) => !Token.isUnresolved(value));
    if (options.handler instanceof lambda.Function && settable) {
      for (const [name, value] of Object.entries(mcpFunctionEnvironment)) options.handler.addEnvironment(name, value);
    } else {
      Annotations.of(owner).addWarningV2(
        MCP_GUARD_ENVIRONMENT_WARNING,
        `The MCP handler is not a lambda.Function in this stack: set ${Object.keys(mcpFunctionEnvironment).join(', ')} on it from ${naming.kind}.mcpFunctionEnvironment for the runtime guard.`,
      );
    }
    return { ...server, mcpUrl, protectedResourceMetadataUrl, mcpFunctionEnvironment, authorizer, methods, handler };
  }

  private refuseSecondServer(): void {
    if (this.challenges !== 'gateway' || this.protectedServers.length === 0) return;
    throw new Error(
      `${this.node.path} is a ${this._kind()}: it serves exactly one MCP server (its handler, at ${this.protectedServers[0].path}), because API Gateway has one UNAUTHORIZED answer per API and it names that server. Use McpAuthorizationServer and addMcpServer to serve several MCP servers from one authorization server`,
    );
  }

  /**
   * The authorizer of a server's routes, all backed by the one authorizer function. API Gateway caches
   * a decision per authorizer and Authorization header, and a cached policy names one method: servers
   * that cache get an authorizer each, so a token of one is never answered from another's cache.
   */
  private authorizerFor(owner: Construct, ttlSeconds: number): apigateway.RequestAuthorizer {
    if (this.challenges === 'authorizer' && ttlSeconds === 0 && this.sharedAuthorizer) return this.sharedAuthorizer;
    const caching = authorizerCaching(ttlSeconds);
    const scope = this.challenges === 'gateway' || ttlSeconds === 0 ? this : owner;
    const authorizer = new apigateway.RequestAuthorizer(scope, 'RequestAuthorizer', {
      handler: this.authorizerFunction,
      identitySources: [...caching.identitySources],
      resultsCacheTtl: Duration.seconds(caching.resultsCacheTtlSeconds),
    });
    if (caching.identitySources.length === 0) {
      // Without caching, no identity source is required: a request without a token still reaches the
      // authorizer (and is audited as rs.denied) instead of being refused by API Gateway unseen.
      (authorizer.node.defaultChild as apigateway.CfnAuthorizer).addPropertyDeletionOverride('IdentitySource');
      if (this.challenges === 'authorizer') this.sharedAuthorizer = authorizer;
    }
    return authorizer;
  }

  /**
   * `PROTECTED_RESOURCES` as written: the plain JSON, readable in the template, while every function's
   * environment holds it; else its compressed form (lib/protected-resources.ts).
   */
  private writtenProtectedResources(): string {
    const json = JSON.stringify(this.protectedResourcesSpec());
    const fits = Object.entries(this.shared.environments).every(([name, environment]) => checkEnvironmentSize(name, { ...environment, [ENV.protectedResources]: json }) === undefined);
    return fits ? json : compressProtectedResources(json);
  }

  private protectedResourcesSpec(): ProtectedResourcesSpec {
    const defaultServer = this.protectedServers.find((server) => server.defaultResource);
    return {
      servers: this.protectedServers.map((server) => ({ path: server.path, scopeModel: server.scopeModel, authorizerCacheTtlSeconds: server.authorizerCacheTtlSeconds })),
      ...(defaultServer ? { defaultPath: defaultServer.path } : {}),
      challenges: this.challenges,
    };
  }

  /** @internal What only the complete list of MCP servers can tell: checked at synth (and by SecureMcpServer once its server exists). */
  protected _serverProblems(): string[] {
    if (this.protectedServers.length === 0) {
      return [`${this._kind()} ${this.node.path} serves no MCP server: add one with addMcpServer(id, { handler, path })`];
    }
    const spec = this.protectedResourcesSpec();
    const problems = [
      ...protectedResourcesProblems(spec),
      ...machineClientCeilingProblems(this.shared.machineClients, allScopeNames(spec)),
      ...machineClientServerProblems(this.shared.machineClients, spec.servers.map((server) => server.path)),
    ];
    const written = this.writtenProtectedResources();
    // Every function carries every server's scope model; past the plain JSON's room it is compressed.
    const remedy =
      spec.servers.length > 1
        ? `shorten the scope models of the ${spec.servers.length} MCP servers (scope descriptions, tool names), or split them over two authorization servers`
        : undefined;
    for (const [name, environment] of Object.entries(this.shared.environments)) {
      const problem = checkEnvironmentSize(name, { ...environment, [ENV.protectedResources]: written }, remedy);
      if (problem) problems.push(problem);
    }
    return problems;
  }

  /**
   * One audit metric of this instance (`IssuedTokens`, `AuthorizerDenials`, `CodeReplays`, ...: the
   * metric names of the README's alarm table): the five-minute sum unless `props` says otherwise.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return auditMetric(this.metricNamespace, metricName, props);
  }

  /** Access tokens issued: authorization-code and client-credentials grants and refreshes (`token.issued`, `token.refreshed`). */
  public metricIssuedTokens(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('IssuedTokens', props);
  }

  /** Dynamic client registrations (`register.created`). */
  public metricClientRegistrations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ClientRegistrations', props);
  }

  /** Requests to the MCP endpoint the authorizer denied (`rs.denied`: no, invalid or expired token, or a missing scope). */
  public metricAuthorizerDenials(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('AuthorizerDenials', props);
  }

  /** Authorization codes presented twice (`security.code_replay`); each revoked its grant. */
  public metricCodeReplays(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('CodeReplays', props);
  }

  /** Rotated refresh tokens presented again (`security.refresh_reuse`); each revoked its token family. */
  public metricRefreshTokenReuse(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('RefreshTokenReuse', props);
  }

  /** 5xx answers of the authorization server (`infra.fault`, any dependency). */
  public metricServerFaults(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('ServerFaults', props);
  }

  /** Failed KMS calls (`infra.fault` with `dependency: kms`): tokens cannot be signed or the JWKS published. */
  public metricKmsFaults(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.metric('KmsFaults', props);
  }

  /**
   * Lets `grantee` read the public keys of the signing key (and previous keys) from KMS, e.g. a
   * service that verifies the access tokens without fetching the JWKS.
   */
  public grantReadPublicKeys(grantee: iam.IGrantable): iam.Grant {
    // The signing key's policy names every principal that may read it (see private/signing-key.ts), so
    // the grant goes into the key policy as well as the grantee's own policy.
    return grantPublicKeyRead([this.signingKey, ...this.previousSigningKeys], grantee);
  }

  /** Lets `grantee` read the registered clients (for example an admin dashboard); secrets are stored only as hashes. */
  public grantReadRegisteredClients(grantee: iam.IGrantable): iam.Grant {
    return this.clientsTable.grant(grantee, 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan', 'dynamodb:DescribeTable');
  }
}

