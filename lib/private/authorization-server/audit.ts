import { Annotations, Names } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { AUTHORIZATION_SERVER_FUNCTIONS, type AuthorizationServerFunction } from '../../functions';
import type { ChallengeMode } from '../../protected-resources';
import { LOG_ENCRYPTION_KEY_POLICY_WARNING } from '../../warnings';
import { createAuditAlarms, createKeyStateAlarm, createWafAlarm, WAF_THRESHOLD_KEY } from '../audit';
import { createDashboard } from '../dashboard';
import type { HandlerFunction } from '../handler-function';
import { grantLogEncryption } from '../log-encryption';
import type { ResolvedProps } from './props';

/**
 * Step 7 (after the firewall): the alarms on the audit events, the WAF and key state changes, the trail
 * that records key use and table access, and the dashboard. Metric names, the namespace and alarm ids
 * are a deployed contract: alarms and the operators' own filters read them.
 */

export interface Audit {
  readonly alarmTopic: sns.ITopic;
  readonly alarms: Record<string, cloudwatch.Alarm>;
  readonly trail?: cloudtrail.Trail;
  readonly existingTrail?: cloudtrail.ITrailRef;
  readonly trailBucket?: s3.Bucket;
  readonly trailAccessLogsBucket?: s3.Bucket;
  readonly trailKey?: kms.Key;
  readonly trailLogGroup?: logs.LogGroup;
  readonly dashboard?: cloudwatch.Dashboard;
}

/** The namespace of an instance's audit metrics (a deployed contract): one prefix for every kind of authorization server. */
export function auditMetricNamespace(construct: Construct): string {
  return `SecureMcpServer/${Names.uniqueResourceName(construct, { maxLength: 200, separator: '-' })}`;
}

export interface AuditedParts {
  readonly functions: Readonly<Record<AuthorizationServerFunction, HandlerFunction>>;
  readonly restApi: apigateway.RestApi;
  readonly region: string;
  readonly tables: readonly dynamodb.ITable[];
  /** The signing key and the previous keys: their state changes alarm. */
  readonly keyArns: readonly string[];
  /** The construct's own web ACL, whose blocked requests alarm. */
  readonly webAclName?: string;
  readonly challenges: ChallengeMode;
  readonly metricNamespace: string;
  /** The dashboard's audit graphs, by title: the construct's public metrics (`metricIssuedTokens`, ...). */
  readonly dashboardMetrics: Readonly<Record<string, cloudwatch.IMetric[]>>;
}

export function createAudit(construct: Construct, resolved: ResolvedProps, parts: AuditedParts): Audit {
  const { props } = resolved;
  const alarmTopic = props.alarmTopic ?? new sns.Topic(construct, 'AlarmTopic', { displayName: `Security alarms of ${construct.node.path}`, enforceSSL: true, masterKey: props.logEncryptionKey });
  if (props.logEncryptionKey && !grantLogEncryption(construct, props.logEncryptionKey, { topic: !props.alarmTopic })) {
    Annotations.of(construct).addWarningV2(
      LOG_ENCRYPTION_KEY_POLICY_WARNING,
      'logEncryptionKey is imported, so the construct cannot add to its key policy: it must let logs.<region>.amazonaws.com use it for this account\'s log groups (kms:EncryptionContext:aws:logs:arn) and cloudwatch.amazonaws.com call kms:Decrypt and kms:GenerateDataKey* for the alarm topic, or the log groups and the topic fail to deploy (README, Security options).',
    );
  }
  const { functions, metricNamespace } = parts;
  const logGroups = {} as Record<AuthorizationServerFunction, logs.ILogGroup>;
  for (const name of AUTHORIZATION_SERVER_FUNCTIONS) logGroups[name] = functions[name].logGroup;
  const thresholds: Record<string, number | undefined> = { ...props.alarmThresholds };
  const alarms = createAuditAlarms(construct, { namespace: metricNamespace, logGroups, topic: alarmTopic, thresholds });
  if (parts.webAclName) alarms.WafBlockedRequestsAlarm = createWafAlarm(construct, parts.webAclName, parts.region, alarmTopic, thresholds[WAF_THRESHOLD_KEY]);

  const trail = resolved.auditTrail._bind(construct, {
    tables: parts.tables,
    shareEarlierTrail: props.auditTrail === undefined,
    logRetention: resolved.logRetention,
    removalPolicy: resolved.removalPolicy,
    logEncryptionKey: props.logEncryptionKey,
  });
  if (trail.managementEventsLogGroup) alarms.KmsKeyStateChangeAlarm = createKeyStateAlarm(construct, metricNamespace, trail.managementEventsLogGroup, parts.keyArns, alarmTopic);

  let dashboard: cloudwatch.Dashboard | undefined;
  if (props.dashboard ?? true) {
    dashboard = createDashboard(construct, {
      title: parts.challenges === 'gateway' ? `MCP server ${construct.node.path}` : `MCP authorization server ${construct.node.path}`,
      auditMetrics: parts.dashboardMetrics,
      functions: Object.fromEntries(Object.entries(functions).map(([name, fn]) => [name, fn.function])),
      apiMetrics: [parts.restApi.metricCount(), parts.restApi.metricClientError(), parts.restApi.metricServerError()],
      alarms: Object.values(alarms),
    });
  }
  return {
    alarmTopic,
    alarms,
    trail: trail.created?.trail,
    existingTrail: trail.existingTrail,
    trailBucket: trail.created?.bucket,
    trailAccessLogsBucket: trail.created?.accessLogsBucket,
    trailKey: trail.created?.key,
    trailLogGroup: trail.created?.logGroup,
    dashboard,
  };
}
