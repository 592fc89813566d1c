import { ArnFormat, Names, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
      // MCP JSON-RPC bodies legitimately exceed the group's 8 KB body limit; API Gateway and the runtime guard cap sizes instead.
      managedRuleGroup('AWSManagedRulesCommonRuleSet', 10, [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }]),
      managedRuleGroup('AWSManagedRulesKnownBadInputsRuleSet', 20),
    ],
  });
  const logGroup = new logs.LogGroup(scope, 'WebAclLogGroup', {
    // WAF only delivers to log groups whose name starts with aws-waf-logs-.
    logGroupName: `aws-waf-logs-${Names.uniqueResourceName(scope, { maxLength: 400, separator: '-' })}`,
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
