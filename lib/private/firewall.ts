import { ArnFormat, Aws, Fn, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

/** Requests per client IP in each five-minute window, per rate-limited path. */
export interface RateLimits {
  readonly register: number;
  readonly token: number;
  readonly authorize: number;
}

export interface WebAclOptions {
  /** What precedes the manifest paths in the request URIs WAF sees: `/<stage>`, `/<basePath>` or nothing (one per reachable URL). */
  readonly pathPrefixes: readonly string[];
  readonly rateLimits: RateLimits;
  readonly logRetention: logs.RetentionDays;
  readonly removalPolicy: RemovalPolicy;
  /** @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
}

export interface CreatedWebAcl {
  readonly webAcl: wafv2.CfnWebACL;
  readonly webAclName: string;
  readonly logGroup: logs.LogGroup;
}

/** The last 12 hex digits of the UUID in `AWS::StackId` (`arn:…:stack/<name>/<uuid>`): new with each creation of the stack. */
function stackCreationSuffix(): string {
  return Fn.select(4, Fn.split('-', Fn.select(2, Fn.split('/', Aws.STACK_ID))));
}

/** WAF's evaluation window for the rate-based rules: long enough to absorb bursts, short enough to recover quickly. */
const RATE_WINDOW_SECONDS = 300;

function pathStartsWith(path: string): wafv2.CfnWebACL.StatementProperty {
  return {
    byteMatchStatement: {
      fieldToMatch: { uriPath: {} },
      positionalConstraint: 'STARTS_WITH',
      // Decode and lower-case first, so `%2Fregister` or `/REGISTER` cannot step around the limit.
      searchString: path.toLowerCase(),
      textTransformations: [
        { priority: 0, type: 'URL_DECODE' },
        { priority: 1, type: 'LOWERCASE' },
      ],
    },
  };
}

function rateLimitRule(name: string, priority: number, paths: readonly string[], limit: number): wafv2.CfnWebACL.RuleProperty {
  const matches = paths.map(pathStartsWith);
  return {
    name,
    priority,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        limit,
        evaluationWindowSec: RATE_WINDOW_SECONDS,
        aggregateKeyType: 'IP',
        scopeDownStatement: matches.length === 1 ? matches[0] : { orStatement: { statements: matches } },
      },
    },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  };
}

/**
 * Rules of the Common rule group that match what OAuth requests legitimately carry: a loopback redirect
 * URI (`redirect_uri=http://127.0.0.1:<port>/callback` on /authorize and /token, `redirect_uris` in a
 * registration) reads to them as remote file inclusion or an SSRF attempt on the instance metadata
 * service, and MCP clients are blocked at their first step. Each rule name with the label it adds.
 */
export const OAUTH_CONFLICTING_COMMON_RULES: ReadonlyArray<readonly [rule: string, label: string]> = [
  ['GenericRFI_QUERYARGUMENTS', 'GenericRFI_QueryArguments'],
  ['GenericRFI_BODY', 'GenericRFI_Body'],
  ['EC2MetaDataSSRF_BODY', 'EC2MetaDataSSRF_Body'],
  ['EC2MetaDataSSRF_QUERYARGUMENTS', 'EC2MetaDataSSRF_QueryArguments'],
  ['EC2MetaDataSSRF_COOKIE', 'EC2MetaDataSSRF_Cookie'],
  ['EC2MetaDataSSRF_URIPATH', 'EC2MetaDataSSRF_URIPath'],
];
const COMMON_RULE_SET_LABELS = 'awswaf:managed:aws:core-rule-set:';

/** The endpoints whose query, body or cookies carry redirect URIs and the flow's own state (paths of lib/routes.ts; /register covers /register/{client_id}). */
export const OAUTH_FLOW_PATHS = ['/authorize', '/callback', '/consent', '/register', '/token'] as const;

/**
 * What keeps an MCP endpoint at `mcpPath` from being protected as `/mcp` is: WAF matches the OAuth flow
 * paths (the rate-limited ones among them) as prefixes, so that `/register` covers `/register/{client_id}`;
 * a path such as `/tokens/mcp` would share the token endpoint's rate limit and lose the re-block below.
 */
export function firewallPathProblem(mcpPath: string): string | undefined {
  const shadowing = OAUTH_FLOW_PATHS.find((flowPath) => mcpPath.startsWith(flowPath));
  if (shadowing === undefined) return undefined;
  return `path must not start with ${shadowing} with Firewall.managed(): the web ACL matches ${shadowing} as a prefix, so ${mcpPath} would get that OAuth endpoint's rate limit and not the Common rule group's full protection; got ${JSON.stringify(mcpPath)}`;
}

/** Blocks what the counted rules labelled, everywhere but the OAuth flow endpoints: /mcp and the metadata keep the group's full protection. */
function conflictingRulesOutsideOAuthPaths(priority: number, pathPrefixes: readonly string[]): wafv2.CfnWebACL.RuleProperty {
  const name = 'CommonRuleSetOutsideOAuthPaths';
  const oauthPaths = pathPrefixes.flatMap((prefix) => OAUTH_FLOW_PATHS.map((path) => pathStartsWith(`${prefix}${path}`)));
  return {
    name,
    priority,
    action: { block: {} },
    statement: {
      andStatement: {
        statements: [
          { orStatement: { statements: OAUTH_CONFLICTING_COMMON_RULES.map(([, label]) => ({ labelMatchStatement: { scope: 'LABEL', key: `${COMMON_RULE_SET_LABELS}${label}` } })) } },
          { notStatement: { statement: { orStatement: { statements: oauthPaths } } } },
        ],
      },
    },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  };
}

function managedRuleGroup(name: string, priority: number, ruleActionOverrides?: wafv2.CfnWebACL.RuleActionOverrideProperty[]): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name, ruleActionOverrides } },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  };
}

/**
 * A regional web ACL for the stage: per-IP rate limits on registration, token and authorization
 * endpoints, and the AWS managed Common and KnownBadInputs rule groups. Logged to CloudWatch with the
 * Authorization and Cookie headers and the query string redacted (bearer tokens, PKCE values and
 * upstream codes must not reach any log).
 */
export function createWebAcl(scope: Construct, options: WebAclOptions): CreatedWebAcl {
  // Names are required by WAF; derived from the construct path so synth stays deterministic and unique per instance.
  const webAclName = Names.uniqueResourceName(scope, { maxLength: 128, separator: '-' });
  const webAcl = new wafv2.CfnWebACL(scope, 'WebAcl', {
    name: webAclName,
    description: `Protects the authorization server and MCP endpoint of ${scope.node.path}`,
    scope: 'REGIONAL',
    defaultAction: { allow: {} },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: webAclName, sampledRequestsEnabled: true },
    rules: [
      rateLimitRule('RegisterRateLimit', 1, options.pathPrefixes.map((prefix) => `${prefix}/register`), options.rateLimits.register),
      rateLimitRule('TokenRateLimit', 2, options.pathPrefixes.map((prefix) => `${prefix}/token`), options.rateLimits.token),
      rateLimitRule('AuthorizeRateLimit', 3, options.pathPrefixes.map((prefix) => `${prefix}/authorize`), options.rateLimits.authorize),
      managedRuleGroup('AWSManagedRulesCommonRuleSet', 10, [
        // MCP JSON-RPC bodies legitimately exceed the group's 8 KB body limit; API Gateway and the runtime guard cap sizes instead.
        { name: 'SizeRestrictions_BODY', actionToUse: { count: {} } },
        // Counted here and blocked by label in the next rule, except on the OAuth flow endpoints.
        ...OAUTH_CONFLICTING_COMMON_RULES.map(([rule]) => ({ name: rule, actionToUse: { count: {} } })),
      ]),
      conflictingRulesOutsideOAuthPaths(11, options.pathPrefixes),
      managedRuleGroup('AWSManagedRulesKnownBadInputsRuleSet', 20),
    ],
  });
  const logGroup = new logs.LogGroup(scope, 'WebAclLogGroup', {
    // WAF only delivers to log groups whose name starts with aws-waf-logs-, so CloudFormation cannot
    // generate the name. The last group of the stack id's UUID makes it unique per stack creation: a
    // retained group of a deleted stack does not block the next deployment of the same stack.
    logGroupName: `aws-waf-logs-${Names.uniqueResourceName(scope, { maxLength: 400, separator: '-' })}-${stackCreationSuffix()}`,
    retention: options.logRetention,
    removalPolicy: options.removalPolicy,
    encryptionKey: options.logEncryptionKey,
  });
  new wafv2.CfnLoggingConfiguration(scope, 'WebAclLogging', {
    resourceArn: webAcl.attrArn,
    // WAF wants the log group ARN without the trailing `:*` that LogGroup.logGroupArn carries.
    logDestinationConfigs: [
      Stack.of(scope).formatArn({ service: 'logs', resource: 'log-group', resourceName: logGroup.logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
    ],
    redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }, { queryString: {} }],
  });
  return { webAcl, webAclName, logGroup };
}

/** A regional WAFv2 web ACL ARN: what `Firewall.fromWebAclArn` accepts. */
export const REGIONAL_WEB_ACL_ARN = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[^/]+\/[^/]+$/;
