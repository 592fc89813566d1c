import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { _setNagAcknowledgementPolicy, acknowledgedNagRules } from '../../acknowledgements';
import { AuditTrail, isBuiltInAuditTrail } from '../../audit-trail';
import { Firewall, isBuiltInFirewall } from '../../firewall';
import type { McpAuthorizationServerProps } from '../../mcp-authorization-server';
import { SigningAlgorithm } from '../../signing-algorithm';
import { type TableName, TABLES } from '../../tables';
import { AUDIT_ALARMS, thresholdKey, WAF_THRESHOLD_KEY } from '../audit';
import { checkMachineClients } from '../machine-clients';
import { checkLogEncryptionKey } from '../log-encryption';
import { checkBroughtTable } from '../storage';
import { isHostName, Problems } from '../validation';

/**
 * Step 1 of building an authorization server: every prop checked (all problems reported at once, before
 * any resource exists) and every default applied, so that the later steps read one resolved value each.
 */

/** The lifetimes, with their defaults. */
export interface Lifetimes {
  readonly accessToken: Duration;
  readonly refreshToken: Duration;
  readonly refreshTokenIdle: Duration;
  readonly unusedClient: Duration;
  readonly rememberConsent: Duration;
  readonly signInSession: Duration;
}

export interface ResolvedProps {
  readonly props: McpAuthorizationServerProps;
  /** The construct's name in messages (`McpAuthorizationServer`, `SecureMcpServer`). */
  readonly kind: string;
  readonly lifetimes: Lifetimes;
  /** The stage's literal name: the issuer is built from it. */
  readonly stageName: string;
  readonly basePath?: string;
  readonly algorithm: SigningAlgorithm;
  readonly firewall: Firewall;
  readonly auditTrail: AuditTrail;
  readonly removalPolicy: RemovalPolicy;
  readonly logRetention: logs.RetentionDays;
  /** Reserve concurrency for the token and register functions. */
  readonly reserveConcurrency: boolean;
}

/** The prop that brings each table. */
const TABLE_PROPS: Readonly<Record<TableName, keyof McpAuthorizationServerProps>> = {
  clients: 'clientsTable',
  codes: 'codesTable',
  grants: 'grantsTable',
  pending: 'pendingTable',
  consents: 'consentsTable',
};

/** The table a prop brings, if any. */
export function broughtTable(props: McpAuthorizationServerProps, name: TableName): dynamodb.ITable | undefined {
  return props[TABLE_PROPS[name]] as dynamodb.ITable | undefined;
}

const STAGE_NAME = /^[A-Za-z0-9_-]{1,128}$/;
const BASE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const PRIVATE_USE_SCHEME = /^[a-z][a-z0-9+-]*$/;

/** Checks and resolves the props of `construct`; throws one error listing every problem. */
export function resolveProps(construct: Construct, props: McpAuthorizationServerProps, kind: string): ResolvedProps {
  const stack = Stack.of(construct);
  const problems = new Problems();
  const lifetimes: Lifetimes = {
    accessToken: props.accessTokenTtl ?? Duration.minutes(10),
    refreshToken: props.refreshTokenTtl ?? Duration.days(30),
    refreshTokenIdle: props.refreshTokenIdleTtl ?? Duration.days(7),
    unusedClient: props.unusedClientTtl ?? Duration.days(1),
    rememberConsent: props.rememberConsentFor ?? Duration.days(30),
    signInSession: props.signInSessionTtl ?? Duration.hours(1),
  };
  problems.duration('accessTokenTtl', lifetimes.accessToken, Duration.minutes(5), Duration.minutes(30), '5 and 30 minutes');
  problems.duration('refreshTokenTtl', lifetimes.refreshToken, Duration.hours(1), Duration.days(365), '1 hour and 365 days');
  problems.duration('refreshTokenIdleTtl', lifetimes.refreshTokenIdle, Duration.minutes(10), Duration.days(365), '10 minutes and 365 days');
  if (exceeds(lifetimes.refreshTokenIdle, lifetimes.refreshToken)) {
    problems.add(`refreshTokenIdleTtl must not exceed refreshTokenTtl (${lifetimes.refreshToken.toHumanString()}), got ${lifetimes.refreshTokenIdle.toHumanString()}`);
  }
  problems.duration('unusedClientTtl', lifetimes.unusedClient, Duration.minutes(10), Duration.days(365), '10 minutes and 365 days');
  problems.duration('rememberConsentFor', lifetimes.rememberConsent, Duration.seconds(0), Duration.days(365), '0 seconds and 365 days');
  problems.duration('signInSessionTtl', lifetimes.signInSession, Duration.seconds(0), Duration.days(1), '0 seconds and 1 day');
  // Stage.stageName is a token; the issuer needs the literal name the stage was created with.
  const stageName = props.restApi ? (props.restApi.deploymentStage?.node.defaultChild as apigateway.CfnStage | undefined)?.stageName : (props.stageName ?? 'prod');
  if (props.restApi && props.stageName !== undefined) problems.add(`stageName must not be set with restApi: the stage is restApi.deploymentStage ("${stageName}"), got "${props.stageName}"`);
  if (props.restApi && props.cloudWatchRole !== undefined) {
    problems.add(`cloudWatchRole has no effect with restApi: the API Gateway account setting belongs to the API's owner, got ${props.cloudWatchRole}`);
  }
  if (props.restApi && Stack.of(props.restApi) !== stack) {
    problems.add(
      `restApi must be in the stack of the ${kind} (${stack.node.path}), got one of ${Stack.of(props.restApi).node.path}: its routes would be created in the API's stack and call this stack's functions, whose issuer names the API, so each stack would depend on the other. Create the ${kind} in the API's stack (bring tables and the signing key from a stateful stack)`,
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
  if (foreignKeys.length > 0) construct.node.addValidation({ validate: () => foreignKeys.flatMap(({ prop, key, actions }) => uncoveredKeyActions(prop, key, actions)) });
  for (const definition of TABLES) {
    const brought = broughtTable(props, definition.name);
    if (brought) checkBroughtTable(TABLE_PROPS[definition.name], brought, definition).forEach((problem) => problems.add(problem));
  }
  const firewall = props.firewall ?? Firewall.managed();
  if (isBuiltInFirewall(firewall)) firewall._problems().forEach((problem) => problems.add(problem));
  else problems.add('firewall must come from Firewall.managed(), Firewall.fromWebAclArn() or Firewall.disabled(), got an object of another class');
  if (props.auditTrail && !isBuiltInAuditTrail(props.auditTrail)) {
    problems.add('auditTrail must come from AuditTrail.create(), AuditTrail.existing() or AuditTrail.disabled(), got an object of another class');
  }
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
  problems.throwIfAny(construct.node.path, `${kind} props`);
  _setNagAcknowledgementPolicy(construct, { enabled: props.acknowledgeNagFindings ?? true, withheldRules: new Set(props.withheldNagAcknowledgements ?? []) });

  return {
    props,
    kind,
    lifetimes,
    // Defined once the problems above are none: a brought API without a stage is refused.
    stageName: stageName!,
    basePath,
    algorithm,
    firewall,
    auditTrail: props.auditTrail ?? AuditTrail.create(),
    removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    logRetention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
    reserveConcurrency: props.reserveConcurrency ?? true,
  };
}

/** True when both durations are known at synth time and the first is longer. */
export function exceeds(duration: Duration, limit: Duration): boolean {
  const value = duration.toSeconds({ integral: false });
  const bound = limit.toSeconds({ integral: false });
  return !Token.isUnresolved(value) && !Token.isUnresolved(bound) && value > bound;
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
