import { Annotations, Duration, Lazy, Names, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { authorizerCaching, authorizerGatewayResponses, MAX_AUTHORIZER_CACHE_TTL_SECONDS, perServerGatewayResponses } from './authorizer-gateway';
import { AUTHORIZER_ENV, GUARD_ENV } from './environment';
import { _acknowledge, _setNagAcknowledgementPolicy, acknowledgedNagRules } from './acknowledgements';
import { IdentityProvider } from './identity-provider';
import { AUDIT_ALARMS, AuditSource, createAuditAlarms, createKeyStateAlarm, createWafAlarm, thresholdKey, WAF_THRESHOLD_KEY } from './private/audit';
import { createDashboard } from './private/dashboard';
import { HANDLER_ENV } from './private/environment';
import { claim, ownerOf } from './private/environment-owner';
import { createWebAcl, firewallPathProblem, REGIONAL_WEB_ACL_ARN } from './private/firewall';
import { checkEnvironmentSize, HandlerFunction } from './private/handler-function';
import {
  accessLogFormat,
  addAuthorizationServerRoutes,
  addChallengeResponses,
  addGenericResponses,
  addMcpServerRoutes,
  addRequestValidator,
  CHALLENGE_RESPONSE_TYPES,
  DEFAULT_MCP_THROTTLING,
  DEFAULT_THROTTLING,
  HANDLER_THROTTLING,
  Integrations,
  MethodSettings,
} from './private/rest-api';
import { checkMachineClients, createMachineClients, machineClientCeilingProblems, machineClientServerProblems } from './private/machine-clients';
import type { BuiltServer, ProtectedServer, ServerNaming } from './private/protected-server';
import { checkSecretReadable, secretId } from './private/secrets';
import { createSigningKey, grantGetPublicKey, grantPublicKeyRead, grantSign } from './private/signing-key';
import { checkLogEncryptionKey, grantLogEncryption } from './private/log-encryption';
import { createNetwork } from './private/network';
import { checkBroughtTable, createTable } from './private/storage';
import { CreatedTrail, createTrail } from './private/trail';
import { isHostName, isOrigin, Problems } from './private/validation';
import { allScopeNames, ChallengeMode, compressProtectedResources, DEFAULT_MCP_PATH, mcpPathProblem, protectedResourceMetadataPath, protectedResourcesProblems, ProtectedResourcesSpec } from './protected-resources';
import { routesFor } from './routes';
import { DEFAULT_SCOPE_MODEL, defaultScopes, ScopeModel, validateScopeModel } from './scopes';
import { CLIENT_USED_MARK_ATTRIBUTES, TableName, TABLES } from './tables';
import { SigningAlgorithm } from './signing-algorithm';
import { Firewall } from './firewall';
import { AuditTrail } from './audit-trail';
import { McpServer, type McpServerBaseOptions, type McpServerOptions } from './mcp-server';

/** What an authorization server shares between the MCP servers it serves (`McpAuthorizationServer`, `SecureMcpServer`). */
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
   * them, with SSRF protections, from the internet.
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
 * The id of the warning the construct adds when it cannot set the runtime guard's environment on the
 * MCP handler itself; acknowledge it with `Annotations.of(mcp).acknowledgeWarning(id, reason)` once you
 * set `mcpFunctionEnvironment` on the function yourself.
 */
export const MCP_GUARD_ENVIRONMENT_WARNING = 'cdk-secure-mcp-server:mcpGuardEnvironment';

/** The id of the warning for an imported `logEncryptionKey`, whose key policy the construct cannot extend. */
export const LOG_ENCRYPTION_KEY_POLICY_WARNING = 'cdk-secure-mcp-server:logEncryptionKeyPolicy';

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

/** The trail that records the management events of an account and Region for the app. */
type ManagementTrail = Pick<CreatedTrail, 'trail' | 'logGroup' | 'addTables'>;

/** Every table of the construct, by its name in lib/tables.ts. */
export type SecureMcpServerTables = Readonly<Record<TableName, dynamodb.ITable>>;

const TABLE_PROPS: Readonly<Record<TableName, keyof McpAuthorizationServerProps>> = {
  clients: 'clientsTable',
  codes: 'codesTable',
  grants: 'grantsTable',
  pending: 'pendingTable',
  consents: 'consentsTable',
};

/** Half the burst API Gateway lets through to POST /token (lib/private/rest-api.ts). */
const DEFAULT_TOKEN_RESERVED_CONCURRENCY = HANDLER_THROTTLING.token.burstLimit / 2;
/** The burst of POST /register: registration never runs wider than API Gateway lets it. */
const DEFAULT_REGISTER_RESERVED_CONCURRENCY = HANDLER_THROTTLING.register.burstLimit;

const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const BASE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*$/;

/**
 * The id of the synth warning for an issuer with a path (the default execute-api stage URL, or a custom
 * domain with a base path). Acknowledge it with `Annotations.of(mcp).acknowledgeWarning(ISSUER_PATH_WARNING)`
 * once you have decided that clients needing root well-known URLs do not matter to you.
 */
export const ISSUER_PATH_WARNING = 'cdk-secure-mcp-server:issuerHasPath';

/** What `_protect` needs of the construction of the authorization server. */
interface SharedContext {
  readonly identityProvider: IdentityProvider;
  readonly accessTokenTtl: Duration;
  /** The issuer is a literal (a custom domain): a handler of another stack can be given it. */
  readonly domainName: boolean;
  readonly managedFirewall: boolean;
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
    const stack = Stack.of(this);
    this.challenges = this._challengeMode();
    const subject = `${this._kind()} props`;

    // ---- Validate every prop before creating any resource.
    const problems = new Problems();
    const accessTokenTtl = props.accessTokenTtl ?? Duration.minutes(10);
    const refreshTokenTtl = props.refreshTokenTtl ?? Duration.days(30);
    const refreshTokenIdleTtl = props.refreshTokenIdleTtl ?? Duration.days(7);
    const unusedClientTtl = props.unusedClientTtl ?? Duration.days(1);
    const rememberConsentFor = props.rememberConsentFor ?? Duration.days(30);
    const signInSessionTtl = props.signInSessionTtl ?? Duration.hours(1);
    problems.duration('accessTokenTtl', accessTokenTtl, Duration.minutes(5), Duration.minutes(30), '5 and 30 minutes');
    problems.duration('refreshTokenTtl', refreshTokenTtl, Duration.hours(1), Duration.days(365), '1 hour and 365 days');
    problems.duration('refreshTokenIdleTtl', refreshTokenIdleTtl, Duration.minutes(10), Duration.days(365), '10 minutes and 365 days');
    if (exceeds(refreshTokenIdleTtl, refreshTokenTtl)) {
      problems.add(`refreshTokenIdleTtl must not exceed refreshTokenTtl (${refreshTokenTtl.toHumanString()}), got ${refreshTokenIdleTtl.toHumanString()}`);
    }
    problems.duration('unusedClientTtl', unusedClientTtl, Duration.minutes(10), Duration.days(365), '10 minutes and 365 days');
    problems.duration('rememberConsentFor', rememberConsentFor, Duration.seconds(0), Duration.days(365), '0 seconds and 365 days');
    problems.duration('signInSessionTtl', signInSessionTtl, Duration.seconds(0), Duration.days(1), '0 seconds and 1 day');
    // Stage.stageName is a token; the issuer needs the literal name the stage was created with.
    const stageName = props.restApi ? (props.restApi.deploymentStage?.node.defaultChild as apigateway.CfnStage | undefined)?.stageName : (props.stageName ?? 'prod');
    if (props.restApi && props.stageName !== undefined) problems.add(`stageName must not be set with restApi: the stage is restApi.deploymentStage ("${stageName}"), got "${props.stageName}"`);
    if (props.restApi && props.cloudWatchRole !== undefined) {
      problems.add(`cloudWatchRole has no effect with restApi: the API Gateway account setting belongs to the API's owner, got ${props.cloudWatchRole}`);
    }
    if (props.restApi && Stack.of(props.restApi) !== stack) {
      problems.add(
        `restApi must be in the stack of the ${this._kind()} (${stack.node.path}), got one of ${Stack.of(props.restApi).node.path}: its routes would be created in the API's stack and call this stack's functions, whose issuer names the API, so each stack would depend on the other. Create the ${this._kind()} in the API's stack (bring tables and the signing key from a stateful stack)`,
      );
    }
    if (props.restApi?.root.defaultCorsPreflightOptions) {
      problems.add(
        'restApi must not have defaultCorsPreflightOptions: they add an OPTIONS method to every route the construct creates, which answers its own preflights (MCP headers allowed, WWW-Authenticate exposed). Call addCorsPreflight on your own resources instead',
      );
    }
    if (props.restApi && !props.restApi.deploymentStage) problems.add('restApi must have a deployment stage (create it with deploy: true, the default)');
    if (stageName !== undefined && (Token.isUnresolved(stageName) || !STAGE_NAME.test(stageName))) {
      problems.add(`stageName must be 1 to 128 letters, digits, hyphens or underscores, got ${JSON.stringify(stageName)}`);
    }
    const basePath = props.domainName?.basePath;
    if (basePath !== undefined && (Token.isUnresolved(basePath) || !BASE_PATH.test(basePath))) {
      problems.add(`domainName.basePath must be path segments of letters, digits, '.', '_' or '-' without leading or trailing '/', got ${JSON.stringify(basePath)}`);
    }
    if (props.domainName?.securityPolicy === apigateway.SecurityPolicy.TLS_1_0) problems.add('domainName.securityPolicy must be TLS 1.2 or later, got TLS_1_0');
    for (const host of props.allowedRedirectHosts ?? []) {
      if (!Token.isUnresolved(host) && !isHostName(host)) problems.add(`allowedRedirectHosts must hold lower-case host names like app.example.com, got ${JSON.stringify(host)}`);
    }
    for (const scheme of props.extraRedirectSchemes ?? []) {
      if (!Token.isUnresolved(scheme) && !PRIVATE_USE_SCHEME.test(scheme)) problems.add(`extraRedirectSchemes must hold dotless lower-case URI schemes like cursor, got ${JSON.stringify(scheme)}`);
    }
    problems.integer('maxRegistrationsPerDay', props.maxRegistrationsPerDay, 1, 10_000_000);
    problems.integer('tokenReservedConcurrency', props.tokenReservedConcurrency, 1, 1000);
    problems.integer('registerReservedConcurrency', props.registerReservedConcurrency, 1, 1000);
    if (props.reserveConcurrency === false) {
      for (const name of ['tokenReservedConcurrency', 'registerReservedConcurrency'] as const) {
        if (props[name] !== undefined) problems.add(`${name} has no effect with reserveConcurrency: false, got ${props[name]}`);
      }
    }
    const algorithm = props.signingAlgorithm ?? SigningAlgorithm.RS256;
    if (props.signingKey && props.signingKeyAdmins !== undefined) {
      problems.add('signingKeyAdmins applies only to the key the construct creates: a brought signingKey keeps its own policy (give it the statements docs/SECURITY.md, section 2.9, lists), got both');
    }
    if (props.signingKey) checkBroughtSigningKey(props.signingKey, algorithm, problems);
    // Checked at synth: statements are often added to a key policy after the key is passed on.
    const foreignKeys = [
      ...(props.signingKey ? [{ prop: 'signingKey', key: props.signingKey, actions: ['kms:Sign', 'kms:GetPublicKey'] }] : []),
      ...(props.previousSigningKeys ?? []).map((key) => ({ prop: 'previousSigningKeys', key, actions: ['kms:GetPublicKey'] })),
    ].filter(({ key }) => Stack.of(key) !== stack);
    if (foreignKeys.length > 0) this.node.addValidation({ validate: () => foreignKeys.flatMap(({ prop, key, actions }) => uncoveredKeyActions(prop, key, actions)) });
    for (const definition of TABLES) {
      const brought = props[TABLE_PROPS[definition.name]] as dynamodb.ITable | undefined;
      if (brought) checkBroughtTable(TABLE_PROPS[definition.name], brought, definition).forEach((problem) => problems.add(problem));
    }
    const firewall = props.firewall ?? Firewall.managed();
    if (firewall._mode === 'existing' && !Token.isUnresolved(firewall._webAclArn) && !REGIONAL_WEB_ACL_ARN.test(firewall._webAclArn!)) {
      problems.add(`Firewall.fromWebAclArn needs a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>), got ${JSON.stringify(firewall._webAclArn)}`);
    }
    const firewallOptions = firewall._options;
    const rateLimits = {
      register: firewallOptions.registrationRateLimit ?? 20,
      token: firewallOptions.tokenRateLimit ?? 1000,
      authorize: firewallOptions.authorizationRateLimit ?? 300,
    };
    // WAF accepts rate limits from 10 to 2,000,000,000 per evaluation window.
    problems.integer('Firewall.managed registrationRateLimit', rateLimits.register, 10, 2_000_000_000);
    problems.integer('Firewall.managed tokenRateLimit', rateLimits.token, 10, 2_000_000_000);
    problems.integer('Firewall.managed authorizationRateLimit', rateLimits.authorize, 10, 2_000_000_000);
    checkMachineClients(props.machineClients ?? [], stack, problems);
    if (!props.vpc) {
      for (const name of ['vpcSubnets', 'securityGroups', 'createVpcEndpoints'] as const) {
        if (props[name] !== undefined) problems.add(`${name} needs vpc: the functions run outside any VPC without it, got ${name} set and no vpc`);
      }
    }
    const logKeyProblem = props.logEncryptionKey ? checkLogEncryptionKey(props.logEncryptionKey) : undefined;
    if (logKeyProblem) problems.add(logKeyProblem);
    const knownRules = acknowledgedNagRules();
    for (const rule of props.withheldNagAcknowledgements ?? []) {
      if (!knownRules.includes(rule)) problems.add(`withheldNagAcknowledgements must hold rule ids the construct acknowledges (NAG_ACKNOWLEDGEMENTS: ${knownRules.join(', ')}), got ${JSON.stringify(rule)}`);
    }
    const thresholdNames = [...AUDIT_ALARMS.map((definition) => thresholdKey(definition.metricName)), WAF_THRESHOLD_KEY];
    for (const [name, value] of Object.entries(props.alarmThresholds ?? {})) {
      if (!thresholdNames.includes(name)) problems.add(`alarmThresholds has no alarm ${JSON.stringify(name)}: use ${thresholdNames.join(', ')}`);
      else problems.integer(`alarmThresholds.${name}`, value as number | undefined, 1, 1_000_000_000);
    }
    problems.throwIfAny(this.node.path, subject);
    _setNagAcknowledgementPolicy(this, { enabled: props.acknowledgeNagFindings ?? true, withheldRules: new Set(props.withheldNagAcknowledgements ?? []) });

    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;
    const reserve = props.reserveConcurrency ?? true;
    this.signingAlgorithm = algorithm;

    // ---- The REST API first: the issuer is built from its id (never from the Stage, which would
    // make every function depend on the deployment, and the deployment on the functions).
    // The API Gateway account setting is one per account and Region: the first instance of an
    // environment in the app creates it (unless told not to), later ones deploy after it.
    const accountRoleOwner = ownerOf<apigateway.RestApi>(this, 'accountRole');
    const createAccountRole = !props.restApi && (props.cloudWatchRole ?? accountRoleOwner === undefined);
    if (props.restApi) {
      this.restApi = props.restApi;
    } else {
      this.accessLogGroup = new logs.LogGroup(this, 'AccessLogs', { retention: logRetention, removalPolicy, encryptionKey: props.logEncryptionKey });
      this.restApi = new apigateway.RestApi(this, 'Api', {
        restApiName: Names.uniqueResourceName(this, { maxLength: 255, separator: '-' }),
        description: this.challenges === 'gateway' ? `MCP server with its OAuth 2.1 authorization server (${this.node.path})` : `OAuth 2.1 authorization server and its MCP servers (${this.node.path})`,
        endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
        // With a custom domain the issuer is the domain: a second URL would serve metadata naming the wrong issuer.
        disableExecuteApiEndpoint: props.domainName !== undefined,
        // Retained by RestApi's default (a removal policy is refused for a role it does not create):
        // the account setting outlives the stack, as other APIs of the account rely on it.
        cloudWatchRole: createAccountRole,
        deployOptions: {
          stageName,
          accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
          accessLogFormat: accessLogFormat(),
          loggingLevel: apigateway.MethodLoggingLevel.ERROR,
          // Full request/response logging would write tokens, codes and client secrets to CloudWatch.
          dataTraceEnabled: false,
          metricsEnabled: true,
          cachingEnabled: false,
          tracingEnabled: props.tracing ?? false,
          throttlingRateLimit: DEFAULT_THROTTLING.rateLimit,
          throttlingBurstLimit: DEFAULT_THROTTLING.burstLimit,
        },
      });
      _acknowledge(this.restApi.deploymentStage, 'noResponseCache');
      _acknowledge(this.restApi.deploymentStage, 'lambdaIntegrationsOnly');
      // RestApi adds an `Endpoint` stack output; the stack's outputs are its owner's to choose, and with a
      // custom domain that URL is disabled anyway. `mcpUrl` and `issuer` are the URLs to publish.
      this.restApi.node.tryRemoveChild('Endpoint');
      const accountRole = this.restApi.node.tryFindChild('CloudWatchRole');
      if (accountRole) _acknowledge(accountRole, 'apiGatewayAccountRole');
    }
    this.stage = this.restApi.deploymentStage;
    if (createAccountRole) {
      claim(this, 'accountRole', this.restApi);
    } else if (!props.restApi && props.cloudWatchRole === undefined && accountRoleOwner) {
      // Execution logging fails the stage deployment until the account has its CloudWatch role.
      this.stage.node.addDependency(accountRoleOwner.node.findChild('Account'));
      Annotations.of(this).addInfo(`The API Gateway account CloudWatch role of this account and Region is created by ${accountRoleOwner.node.path}; this stage deploys after it.`);
    }
    if (props.domainName) {
      // Explicit TLS 1.2: without it the template leaves the policy to API Gateway's default.
      this.domain = new apigateway.DomainName(this, 'CustomDomain', {
        ...props.domainName,
        securityPolicy: props.domainName.securityPolicy ?? apigateway.SecurityPolicy.TLS_1_2,
        mapping: this.restApi,
      });
    }
    const region = Stack.of(this.restApi).region;
    const stageUrl = `https://${this.restApi.restApiId}.execute-api.${region}.${Stack.of(this.restApi).urlSuffix}/${stageName}`;
    this.issuer = props.domainName ? `https://${props.domainName.domainName}${basePath ? `/${basePath}` : ''}` : stageUrl;
    if (!props.domainName || basePath) {
      // RFC 8414 §3.1 / RFC 9728 §3.1 put the well-known URLs at the host root, which only a custom domain without a base path serves.
      Annotations.of(this).addWarningV2(
        ISSUER_PATH_WARNING,
        `The issuer ${props.domainName ? `https://${props.domainName.domainName}/${basePath}` : `(the execute-api stage URL, …/${stageName})`} has a path, so the RFC 8414/9728 well-known URLs at the host root are not served: clients that only try those (Claude Code's \`claude mcp login\`, Gemini CLI when it cannot read the 401 challenge) cannot sign in. Set domainName without basePath (see the README, "Quick start").`,
      );
    }
    this.callbackUrl = `${this.issuer}/callback`;

    // ---- Keys, tables and the upstream identity provider.
    this.signingKey = props.signingKey ?? createSigningKey(this, 'SigningKey', { keySpec: algorithm.keySpec, removalPolicy, administrators: props.signingKeyAdmins });
    const previousKeys = props.previousSigningKeys ?? [];
    this.previousSigningKeys = previousKeys;
    const tables = {} as Record<TableName, dynamodb.ITable>;
    for (const definition of TABLES) {
      tables[definition.name] = (props[TABLE_PROPS[definition.name]] as dynamodb.ITable | undefined) ?? createTable(this, definition, removalPolicy);
    }
    this.tables = tables;
    this.clientsTable = tables.clients;
    this.codesTable = tables.codes;
    this.grantsTable = tables.grants;
    this.pendingTable = tables.pending;
    this.consentsTable = tables.consents;
    const upstream = props.identityProvider.bind(this, { callbackUrl: this.callbackUrl });
    this.upstreamClientSecret = upstream.clientSecret;
    const machineClients = createMachineClients(this, props.machineClients ?? []);
    this.machineClients = machineClients.clients;
    const secretProblem = checkSecretReadable(upstream.clientSecret, stack, 'the upstream client secret');
    if (secretProblem) problems.add(secretProblem);
    problems.throwIfAny(this.node.path, subject);

    // ---- Function configuration: each function gets exactly the variables (and tables) it uses. The
    // MCP servers are added after the functions exist, so their list is written at synth.
    const protectedResources = Lazy.string({ produce: () => this.writtenProtectedResources() });
    const common = { [HANDLER_ENV.issuer]: this.issuer, [HANDLER_ENV.protectedResources]: protectedResources };
    const signing = {
      [HANDLER_ENV.signingKeyArn]: this.signingKey.keyArn,
      [HANDLER_ENV.signingAlgorithm]: algorithm.jwsAlgorithm,
      ...(previousKeys.length > 0 ? { [HANDLER_ENV.previousSigningKeyArns]: previousKeys.map((key) => key.keyArn).join(',') } : {}),
    };
    const redirectPolicy = {
      ...(props.allowedRedirectHosts?.length ? { [HANDLER_ENV.allowedRedirectHosts]: props.allowedRedirectHosts.join(',') } : {}),
    };
    const cimd = { [HANDLER_ENV.cimdEnabled]: String(props.clientIdMetadataDocuments ?? true) };
    const machineClientEnvironment: Record<string, string> = machineClients.config.length > 0 ? { [HANDLER_ENV.machineClients]: JSON.stringify(machineClients.config) } : {};
    const environments = {
      // The metadata function advertises client_credentials only when machine clients exist.
      metadata: { ...common, ...signing, ...cimd, ...machineClientEnvironment },
      register: {
        ...common,
        [HANDLER_ENV.clientsTable]: tables.clients.tableName,
        [HANDLER_ENV.unusedClientTtl]: String(unusedClientTtl.toSeconds()),
        ...redirectPolicy,
        ...(props.extraRedirectSchemes?.length ? { [HANDLER_ENV.extraRedirectSchemes]: props.extraRedirectSchemes.join(',') } : {}),
        ...(props.maxRegistrationsPerDay !== undefined ? { [HANDLER_ENV.maxRegistrationsPerDay]: String(props.maxRegistrationsPerDay) } : {}),
      },
      token: {
        ...common,
        ...signing,
        [HANDLER_ENV.accessTokenTtl]: String(accessTokenTtl.toSeconds()),
        [HANDLER_ENV.refreshTokenTtl]: String(refreshTokenTtl.toSeconds()),
        [HANDLER_ENV.refreshTokenIdleTtl]: String(refreshTokenIdleTtl.toSeconds()),
        [HANDLER_ENV.clientsTable]: tables.clients.tableName,
        [HANDLER_ENV.codesTable]: tables.codes.tableName,
        [HANDLER_ENV.grantsTable]: tables.grants.tableName,
        ...machineClientEnvironment,
      },
      authorize: {
        ...common,
        ...cimd,
        ...redirectPolicy,
        [HANDLER_ENV.clientsTable]: tables.clients.tableName,
        [HANDLER_ENV.codesTable]: tables.codes.tableName,
        [HANDLER_ENV.pendingTable]: tables.pending.tableName,
        [HANDLER_ENV.consentsTable]: tables.consents.tableName,
        [HANDLER_ENV.consentTtl]: String(rememberConsentFor.toSeconds()),
        [HANDLER_ENV.signInSessionTtl]: String(signInSessionTtl.toSeconds()),
        [HANDLER_ENV.upstreamIssuer]: upstream.issuerUrl,
        [HANDLER_ENV.upstreamClientId]: upstream.clientId,
        // The ARN (or the name, see secretId), never the value: the function reads the secret at run time.
        [HANDLER_ENV.upstreamClientSecretArn]: secretId(upstream.clientSecret),
        [HANDLER_ENV.upstreamScopes]: upstream.scopes.join(' '),
      },
      authorizer: {
        ...common,
        ...signing,
        // Fetched once per container; the authorizer makes no AWS call at all. It does not read the key
        // ARNs above: they are there so that a change of the published key set (a rotation, a removed
        // previous key) changes its configuration, and every container reloads the JWKS (JWT-20).
        [AUTHORIZER_ENV.jwksUri]: `${this.issuer}/jwks.json`,
      },
    } satisfies Record<string, Record<string, string>>;

    let network: ReturnType<typeof createNetwork> | undefined;
    if (props.vpc) {
      network = createNetwork(this, { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups, createEndpoints: props.createVpcEndpoints ?? false });
      this.securityGroups = network.securityGroups;
      this.vpcEndpoints = network.endpoints;
    }
    const handlerFunction = (functionId: keyof typeof environments, description: string, memorySize: number, timeout: Duration, reservedConcurrentExecutions?: number) =>
      new HandlerFunction(this, functionId[0].toUpperCase() + functionId.slice(1), {
        bundle: functionId,
        description,
        memorySize,
        timeout,
        environment: environments[functionId],
        logRetention,
        removalPolicy,
        reservedConcurrentExecutions,
        logEncryptionKey: props.logEncryptionKey,
        tracing: props.tracing,
        network,
      });
    const metadata = handlerFunction('metadata', 'OAuth/OIDC discovery documents, protected resource metadata and the JWKS', 256, Duration.seconds(10));
    const register = handlerFunction(
      'register',
      'Dynamic client registration (RFC 7591) and client management (RFC 7592)',
      256,
      Duration.seconds(10),
      reserve ? (props.registerReservedConcurrency ?? DEFAULT_REGISTER_RESERVED_CONCURRENCY) : undefined,
    );
    // Register: a ceiling, its route's burst. Token: a guaranteed share (half its route's burst), reserved
    // once per account and Region of the app by default; later instances draw on unreserved concurrency.
    const tokenReservation = props.tokenReservedConcurrency ?? (ownerOf(this, 'tokenReservation') ? undefined : DEFAULT_TOKEN_RESERVED_CONCURRENCY);
    if (reserve && tokenReservation !== undefined) claim(this, 'tokenReservation', this);
    const token = handlerFunction('token', 'Token, revocation and introspection endpoints; signs access tokens with KMS', 512, Duration.seconds(10), reserve ? tokenReservation : undefined);
    // Upstream calls are budgeted well inside API Gateway's 29-second integration timeout.
    const authorize = handlerFunction('authorize', 'Authorization endpoint, upstream OpenID Connect sign-in and consent', 512, Duration.seconds(25));
    const authorizer = handlerFunction('authorizer', 'Lambda REQUEST authorizer of the MCP endpoint: verifies access tokens locally', 512, Duration.seconds(10));
    this.metadataFunction = metadata.function;
    this.registerFunction = register.function;
    this.tokenFunction = token.function;
    this.authorizeFunction = authorize.function;
    this.authorizerFunction = authorizer.function;

    // ---- Least privilege: exactly the KMS, DynamoDB and Secrets Manager actions each handler calls.
    grantSign(this.signingKey, token.role, algorithm.kmsSigningAlgorithm, props.signingKey === undefined);
    grantGetPublicKey([this.signingKey, ...previousKeys], token.role, 'TokenFunctionPublicKeyRead');
    grantGetPublicKey([this.signingKey, ...previousKeys], metadata.role, 'MetadataFunctionPublicKeyRead');
    tables.clients.grant(token.role, 'dynamodb:GetItem', 'dynamodb:BatchGetItem');
    tables.codes.grant(token.role, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    tables.grants.grant(token.role, 'dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    tables.clients.grant(register.role, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem');
    tables.clients.grant(authorize.role, 'dynamodb:GetItem');
    authorize.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'MarkClientUsedOnly',
        actions: ['dynamodb:UpdateItem'],
        resources: [tables.clients.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...CLIENT_USED_MARK_ATTRIBUTES] },
          StringEqualsIfExists: { 'dynamodb:ReturnValues': 'NONE' },
        },
      }),
    );
    tables.codes.grant(authorize.role, 'dynamodb:PutItem');
    tables.pending.grant(authorize.role, 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem');
    tables.consents.grant(authorize.role, 'dynamodb:GetItem', 'dynamodb:PutItem');
    upstream.clientSecret.grantRead(authorize.role);
    for (const client of this.machineClients) client.secret.grantRead(token.role);

    // ---- The authorization server's routes and API-wide answers; each MCP server adds its own routes.
    const integrations = new Integrations();
    this.methods = this.allMethods;
    const asMethods = addAuthorizationServerRoutes({
      api: this.restApi,
      functions: { metadata: this.metadataFunction, register: this.registerFunction, token: this.tokenFunction, authorize: this.authorizeFunction },
      integrations,
      validator: addRequestValidator(this.restApi),
    });
    asMethods.forEach((method, key) => this.allMethods.set(key, method));
    // On a brought API the construct touches its own routes and only the two API-wide answers MCP
    // discovery cannot do without; execution logging and every other gateway response stay the owner's.
    if (!props.restApi) addGenericResponses(this.restApi);
    const challengeResponses: apigateway.GatewayResponse[] = [];
    // With several servers the answers name no server: the authorizer's Deny carries each one's challenge.
    if (this.challenges === 'authorizer') challengeResponses.push(...addChallengeResponses(this.restApi, perServerGatewayResponses()));
    const methodSettings = new MethodSettings(this.stage, props.restApi ? undefined : apigateway.MethodLoggingLevel.ERROR);
    methodSettings.update(routesFor([]), new Map());
    if (props.restApi) {
      const api = props.restApi;
      this.node.addValidation({ validate: () => conflictingChallenges(api, new Set(challengeResponses.map((response) => response.node.defaultChild)), this._kind()) });
    }
    this.shared = {
      identityProvider: props.identityProvider,
      accessTokenTtl,
      domainName: props.domainName !== undefined,
      managedFirewall: firewall._mode === 'managed',
      integrations,
      methodSettings,
      challengeResponses,
      machineClients: props.machineClients ?? [],
      environments,
    };
    this.node.addValidation({ validate: () => this._serverProblems() });

    // ---- Firewall.
    const pathPrefixes = [
      ...(props.domainName ? [basePath ? `/${basePath}` : ''] : []),
      ...(!props.domainName || props.restApi ? [`/${stageName}`] : []),
    ];
    let webAclName: string | undefined;
    if (firewall._mode === 'managed') {
      const created = createWebAcl(this, { pathPrefixes, rateLimits, logRetention, removalPolicy, logEncryptionKey: props.logEncryptionKey });
      this.webAcl = created.webAcl;
      webAclName = created.webAclName;
      this.webAclLogGroup = created.logGroup;
      this.webAclArn = created.webAcl.attrArn;
    } else if (firewall._mode === 'existing') {
      this.webAclArn = firewall._webAclArn;
    } else {
      _acknowledge(this.stage, 'firewallDisabled');
    }
    if (this.webAclArn) {
      new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', { resourceArn: this.stage.stageArn, webAclArn: this.webAclArn });
    }

    // ---- Audit: alarms on the audit events, the WAF and (with a trail) key state changes.
    this.alarmTopic =
      props.alarmTopic ?? new sns.Topic(this, 'AlarmTopic', { displayName: `Security alarms of ${this.node.path}`, enforceSSL: true, masterKey: props.logEncryptionKey });
    if (props.logEncryptionKey && !grantLogEncryption(this, props.logEncryptionKey, { topic: !props.alarmTopic })) {
      Annotations.of(this).addWarningV2(
        LOG_ENCRYPTION_KEY_POLICY_WARNING,
        'logEncryptionKey is imported, so the construct cannot add to its key policy: it must let logs.<region>.amazonaws.com use it for this account\'s log groups (kms:EncryptionContext:aws:logs:arn) and cloudwatch.amazonaws.com call kms:Decrypt and kms:GenerateDataKey* for the alarm topic, or the log groups and the topic fail to deploy (README, Security options).',
      );
    }
    // The alarms' metrics live here (a deployed contract): one prefix for every kind of authorization server.
    this.metricNamespace = `SecureMcpServer/${Names.uniqueResourceName(this, { maxLength: 200, separator: '-' })}`;
    const logGroups: Record<AuditSource, logs.ILogGroup> = {
      token: token.logGroup,
      register: register.logGroup,
      authorize: authorize.logGroup,
      metadata: metadata.logGroup,
      authorizer: authorizer.logGroup,
    };
    const thresholds: Record<string, number | undefined> = { ...props.alarmThresholds };
    const alarms = createAuditAlarms(this, { namespace: this.metricNamespace, logGroups, topic: this.alarmTopic, thresholds });
    if (webAclName) alarms.WafBlockedRequestsAlarm = createWafAlarm(this, webAclName, region, this.alarmTopic, thresholds[WAF_THRESHOLD_KEY]);

    // Management events are recorded once per account and Region of the app: by default, a later
    // instance adds its tables to the trail of an earlier one in its stack, or (in another stack)
    // creates a trail of its tables' data events only. AuditTrail.create() always creates a full trail.
    const auditTrail = props.auditTrail ?? AuditTrail.create();
    const ownTableArns = Object.values(tables);
    const keyArns = [this.signingKey, ...previousKeys].map((key) => key.keyArn);
    const earlierTrail = props.auditTrail === undefined ? ownerOf<ManagementTrail>(this, 'managementTrail') : undefined;
    if (auditTrail._mode === 'create' && earlierTrail && Stack.of(earlierTrail.trail) === stack) {
      earlierTrail.addTables(ownTableArns);
      this.existingTrail = earlierTrail.trail.node.defaultChild as cloudtrail.CfnTrail;
      alarms.KmsKeyStateChangeAlarm = createKeyStateAlarm(this, this.metricNamespace, earlierTrail.logGroup, keyArns, this.alarmTopic);
    } else if (auditTrail._mode === 'create') {
      const created = createTrail(this, { tables: ownTableArns, managementEvents: earlierTrail === undefined, logRetention, removalPolicy, logEncryptionKey: props.logEncryptionKey });
      this.trail = created.trail;
      this.trailBucket = created.bucket;
      this.trailAccessLogsBucket = created.accessLogsBucket;
      this.trailKey = created.key;
      this.trailLogGroup = created.logGroup;
      if (!earlierTrail) claim<ManagementTrail>(this, 'managementTrail', created);
      alarms.KmsKeyStateChangeAlarm = createKeyStateAlarm(this, this.metricNamespace, (earlierTrail ?? created).logGroup, keyArns, this.alarmTopic);
    } else if (auditTrail._mode === 'existing') {
      this.existingTrail = auditTrail._trail;
    }
    this.alarms = alarms;

    if (props.dashboard ?? true) {
      this.dashboard = createDashboard(this, {
        title: this.challenges === 'gateway' ? `MCP server ${this.node.path}` : `MCP authorization server ${this.node.path}`,
        auditMetrics: {
          'Tokens issued and clients registered': [this.metricIssuedTokens(), this.metricClientRegistrations()],
          'Authorizer denials': [this.metricAuthorizerDenials()],
          'Replays, reuse and faults': [this.metricCodeReplays(), this.metricRefreshTokenReuse(), this.metricKmsFaults(), this.metricServerFaults()],
        },
        functions: { metadata: metadata.function, register: register.function, token: token.function, authorize: authorize.function, authorizer: authorizer.function },
        apiMetrics: [this.restApi.metricCount(), this.restApi.metricClientError(), this.restApi.metricServerError()],
        alarms: Object.values(alarms),
      });
    }
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
    const stack = Stack.of(this);
    const shared = this.shared;
    this.refuseSecondServer();
    const problems = new Problems();
    const path = options.path ?? DEFAULT_MCP_PATH;
    const pathProblem = mcpPathProblem(path);
    if (pathProblem) problems.add(pathProblem);
    else if (shared.managedFirewall) {
      const shadowed = firewallPathProblem(path);
      if (shadowed) problems.add(shadowed);
    }
    const taken = this.protectedServers.find((server) => server.path === path);
    if (taken) problems.add(`path ${path} is served by ${taken.owner.node.path} already: every MCP server needs a path of its own`);
    const sameHandler = this.protectedServers.find((server) => server.handler === options.handler);
    if (sameHandler) {
      problems.add(`handler serves ${sameHandler.owner.node.path} already: its runtime guard accepts the tokens of one MCP server (MCP_RESOURCE_PATH, SCOPE_MODEL), so give each server a function of its own`);
    }
    const earlierDefault = this.protectedServers.find((server) => server.defaultResource);
    if (options.defaultResource && earlierDefault) {
      problems.add(`defaultResource is set on ${earlierDefault.owner.node.path} already: a request without resource can mean only one MCP server`);
    }
    const scopeModel = resolveScopeModel(options, shared.identityProvider, problems);
    const authorizerCacheTtl = options.authorizerCacheTtl ?? Duration.seconds(0);
    problems.duration('authorizerCacheTtl', authorizerCacheTtl, Duration.seconds(0), Duration.seconds(MAX_AUTHORIZER_CACHE_TTL_SECONDS), `0 and ${MAX_AUTHORIZER_CACHE_TTL_SECONDS} seconds`);
    if (exceeds(authorizerCacheTtl, shared.accessTokenTtl)) {
      problems.add(`authorizerCacheTtl must not exceed accessTokenTtl (${shared.accessTokenTtl.toHumanString()}), got ${authorizerCacheTtl.toHumanString()}`);
    }
    const throttling = { ...DEFAULT_MCP_THROTTLING, ...options.throttling };
    problems.integer(`${naming.throttlingProp}.burstLimit`, throttling.burstLimit, 1, 5000);
    if (!Token.isUnresolved(throttling.rateLimit) && !(throttling.rateLimit > 0 && throttling.rateLimit <= 10000)) {
      problems.add(`${naming.throttlingProp}.rateLimit must be above 0 and at most 10000 requests per second, got ${throttling.rateLimit}`);
    }
    for (const origin of options.allowedOrigins ?? []) {
      if (!Token.isUnresolved(origin) && !isOrigin(origin)) problems.add(`allowedOrigins must hold origins like https://app.example.com (no path, no trailing slash, lower case), got ${JSON.stringify(origin)}`);
    }
    const handlerStack = Stack.of(options.handler);
    if (handlerStack !== stack && !shared.domainName) {
      problems.add(
        `handler is a function of ${handlerStack.node.path}, and the issuer the runtime guard needs (${naming.kind}.mcpFunctionEnvironment) names the REST API of ${stack.node.path}: setting it there would make each stack depend on the other. Create the MCP function in ${stack.node.path}, or set domainName on the ${this._kind()}, so that the issuer is known at synth`,
      );
    }
    problems.throwIfAny(owner.node.path, `${naming.kind} props`);

    const mcpUrl = `${this.issuer}${path}`;
    const protectedResourceMetadataUrl = `${this.issuer}${protectedResourceMetadataPath(path)}`;
    const ttlSeconds = authorizerCacheTtl.toSeconds();
    const authorizer = this.authorizerFor(owner, ttlSeconds);
    // A function of another stack is integrated through a reference of this stack, so that its invoke
    // permission (which names this API) is created here and that stack does not depend on this one.
    const handler =
      handlerStack === stack ? options.handler : lambda.Function.fromFunctionAttributes(owner, naming.handlerReferenceId, { functionArn: options.handler.functionArn, sameEnvironment: true });
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
      [HANDLER_ENV.issuer]: this.issuer,
      [HANDLER_ENV.scopeModel]: JSON.stringify(scopeModel),
      // The guard's default is /mcp, the one server of a SecureMcpServer.
      ...(this.challenges === 'authorizer' ? { [GUARD_ENV.resourcePath]: path } : {}),
      ...(options.allowedOrigins?.length ? { [GUARD_ENV.allowedOrigins]: options.allowedOrigins.join(',') } : {}),
    };
    // In another stack only literal values can be set without that stack depending on this one.
    const settable = handlerStack === stack || Object.values(mcpFunctionEnvironment).every((value) => !Token.isUnresolved(value));
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
    const fits = Object.entries(this.shared.environments).every(([name, environment]) => checkEnvironmentSize(name, { ...environment, [HANDLER_ENV.protectedResources]: json }) === undefined);
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
      const problem = checkEnvironmentSize(name, { ...environment, [HANDLER_ENV.protectedResources]: written }, remedy);
      if (problem) problems.push(problem);
    }
    return problems;
  }

  /**
   * One audit metric of this instance (`IssuedTokens`, `AuthorizerDenials`, `CodeReplays`, ...: the
   * metric names of the README's alarm table): the five-minute sum unless `props` says otherwise.
   */
  public metric(metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({ namespace: this.metricNamespace, metricName, statistic: cloudwatch.Stats.SUM, period: Duration.minutes(5), ...props });
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

/** True when both durations are known at synth time and the first is longer. */
function exceeds(duration: Duration, limit: Duration): boolean {
  const value = duration.toSeconds({ integral: false });
  const bound = limit.toSeconds({ integral: false });
  return !Token.isUnresolved(value) && !Token.isUnresolved(bound) && value > bound;
}

function resolveScopeModel(props: McpServerBaseOptions, identityProvider: IdentityProvider, problems: Problems): ScopeModel {
  const model: ScopeModel =
    props.scopes === undefined
      ? {
          scopes: DEFAULT_SCOPE_MODEL.scopes,
          toolScopes: props.toolScopes ?? DEFAULT_SCOPE_MODEL.toolScopes,
          // The default entitlement reads the groups claim of the provider actually used (Cognito: cognito:groups).
          entitlements: props.entitlements ?? DEFAULT_SCOPE_MODEL.entitlements.map((entitlement) => ({ ...entitlement, claim: identityProvider.groupsClaim })),
        }
      : { scopes: props.scopes, toolScopes: props.toolScopes ?? {}, entitlements: props.entitlements ?? [] };
  for (const problem of validateScopeModel(model)) problems.add(`the scope model is invalid: ${problem}`);
  return model;
}

/** Gateway responses of the authorizer challenge types that someone else defined on the API: CloudFormation would keep one of each. */
function conflictingChallenges(api: apigateway.RestApi, ours: ReadonlySet<unknown>, kind: string): string[] {
  return Stack.of(api)
    .node.findAll()
    .filter((c): c is apigateway.CfnGatewayResponse => c instanceof apigateway.CfnGatewayResponse && c.restApiId === api.restApiId && !ours.has(c))
    .filter((response) => (CHALLENGE_RESPONSE_TYPES as readonly string[]).includes(response.responseType))
    .map(
      (response) =>
        `restApi already has a ${response.responseType} gateway response (${response.node.scope?.node.path}): the construct answers ${response.responseType} with the MCP challenge (the 401 names the protected resource metadata), API-wide. Remove yours, or give the ${kind} an API of its own`,
    );
}

/**
 * For a key of another stack, whose policy the construct leaves alone: the actions its policy does not
 * let IAM policies of the account grant (a statement allowing the account root, unconditioned).
 */
function uncoveredKeyActions(prop: string, key: kms.IKey, actions: readonly string[]): string[] {
  const cfn = key.node.defaultChild;
  if (!(cfn instanceof kms.CfnKey)) return [];
  const keyStack = Stack.of(key);
  const accountRoot = JSON.stringify(keyStack.resolve(new iam.AccountRootPrincipal().arn));
  const statements = ((keyStack.resolve(cfn.keyPolicy) as { Statement?: Record<string, unknown>[] } | undefined)?.Statement ?? []).filter(
    (statement) => statement.Effect === 'Allow' && statement.Condition === undefined && [(statement.Principal as { AWS?: unknown })?.AWS].flat().some((p) => JSON.stringify(p) === accountRoot),
  );
  const allows = (action: string) =>
    statements.some((statement) => [statement.Action].flat().some((pattern) => typeof pattern === 'string' && (pattern === action || (pattern.endsWith('*') && action.startsWith(pattern.slice(0, -1))))));
  const missing = actions.filter((action) => !allows(action));
  if (missing.length === 0) return [];
  return [
    `${prop} holds ${key.node.path}, a key of ${keyStack.node.path} whose policy does not let IAM policies grant ${missing.join(' and ')}, and the construct cannot add its roles there without each stack depending on the other. ` +
      `Allow the account in the key policy: key.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ${JSON.stringify(missing)}, resources: ['*'] })), as kms.Key's default policy does`,
  ];
}

function checkBroughtSigningKey(key: kms.IKey, algorithm: SigningAlgorithm, problems: Problems): void {
  const cfn = key.node.defaultChild;
  if (!(cfn instanceof kms.CfnKey)) return;
  if (cfn.keySpec !== algorithm.keySpec || cfn.keyUsage !== kms.KeyUsage.SIGN_VERIFY) {
    problems.add(
      `signingKey must be a SIGN_VERIFY key with key spec ${algorithm.keySpec} for ${algorithm.jwsAlgorithm}, got ${String(cfn.keyUsage ?? 'ENCRYPT_DECRYPT')} ${String(cfn.keySpec ?? 'SYMMETRIC_DEFAULT')}`,
    );
  }
}
