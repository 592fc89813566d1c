import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AuthorizationServerFunction } from '../functions';

/**
 * Security alarms from the handlers' audit events. Every handler writes one JSON line per security
 * decision to stdout (lambda/shared/audit.ts), so its function log group is the audit log: a metric
 * filter per event and log group publishes into one metric per event, and an alarm with actions watches it.
 */

/** The function log groups the audit events appear in. */
export type AuditSource = AuthorizationServerFunction;

export interface AuditAlarmDefinition {
  /** Construct id of the alarm (part of the public contract) and the key in `SecureMcpServer.alarms`. */
  readonly id: string;
  readonly metricName: string;
  readonly description: string;
  readonly filterPattern: logs.IFilterPattern;
  readonly sources: readonly AuditSource[];
  /** Sum over five minutes at or above which the alarm fires. */
  readonly threshold: number;
}

const event = (name: string) => logs.FilterPattern.stringValue('$.event', '=', name);

/**
 * The audited events worth waking someone for. A replayed code or a reused refresh token is an attack
 * on a live grant: one is enough. Spikes (registrations, authorizer denials) and user-facing failures
 * (CSRF, rejected callbacks) alarm above a level ordinary clients do not reach.
 */
export const AUDIT_ALARMS: readonly AuditAlarmDefinition[] = [
  {
    id: 'CodeReplayAlarm',
    metricName: 'CodeReplays',
    description: 'An authorization code was presented twice (security.code_replay): the grant was revoked; investigate the client.',
    filterPattern: event('security.code_replay'),
    sources: ['token'],
    threshold: 1,
  },
  {
    id: 'RefreshTokenReuseAlarm',
    metricName: 'RefreshTokenReuse',
    description: 'A rotated refresh token was reused (security.refresh_reuse): the token family was revoked; a refresh token may have leaked.',
    filterPattern: event('security.refresh_reuse'),
    sources: ['token'],
    threshold: 1,
  },
  {
    id: 'RegistrationSpikeAlarm',
    metricName: 'ClientRegistrations',
    description: 'Unusually many dynamic client registrations (register.created) in five minutes.',
    filterPattern: event('register.created'),
    sources: ['register'],
    threshold: 50,
  },
  {
    id: 'AuthorizerDenialSpikeAlarm',
    metricName: 'AuthorizerDenials',
    description: 'Unusually many requests to the MCP endpoint were denied by the authorizer (rs.denied) in five minutes.',
    filterPattern: event('rs.denied'),
    sources: ['authorizer'],
    threshold: 500,
  },
  {
    id: 'KmsFaultAlarm',
    metricName: 'KmsFaults',
    description: 'KMS calls failed (infra.fault, dependency kms): tokens cannot be signed or the JWKS cannot be published. Check the signing key state and KMS quotas.',
    filterPattern: logs.FilterPattern.all(event('infra.fault'), logs.FilterPattern.stringValue('$.dependency', '=', 'kms')),
    sources: ['token', 'metadata'],
    threshold: 1,
  },
  {
    id: 'ServerFaultAlarm',
    metricName: 'ServerFaults',
    description: 'The authorization server answered 5xx (infra.fault: DynamoDB, KMS, the upstream identity provider or an unexpected error).',
    filterPattern: event('infra.fault'),
    sources: ['token', 'register', 'authorize', 'metadata'],
    threshold: 5,
  },
  {
    id: 'ConsentCsrfAlarm',
    metricName: 'ConsentCsrfFailures',
    description: 'Consent form submissions failed the CSRF check (consent.csrf_failed).',
    filterPattern: event('consent.csrf_failed'),
    sources: ['authorize'],
    threshold: 5,
  },
  {
    id: 'UpstreamCallbackRejectedAlarm',
    metricName: 'UpstreamCallbackRejections',
    description: 'Sign-ins returning from the upstream identity provider were rejected (upstream.callback_rejected: state, nonce, issuer or ID token checks).',
    filterPattern: event('upstream.callback_rejected'),
    sources: ['authorize'],
    threshold: 5,
  },
];

/** Audit events counted for dashboards and consumers' own alarms, with no alarm of the construct's. */
export const AUDIT_METRICS: readonly Omit<AuditAlarmDefinition, 'id' | 'description' | 'threshold'>[] = [
  {
    // An authorization-code or client-credentials grant (token.issued) or a refresh (token.refreshed): each issues one access token.
    metricName: 'IssuedTokens',
    filterPattern: logs.FilterPattern.any(event('token.issued'), event('token.refreshed')),
    sources: ['token'],
  },
];

/** `CodeReplays` -> `codeReplays`: the key of an alarm's threshold in `AlarmThresholds`. */
export function thresholdKey(metricName: string): string {
  return metricName[0].toLowerCase() + metricName.slice(1);
}

/** The threshold key of the WAF alarm, which has no audit event. */
export const WAF_THRESHOLD_KEY = 'wafBlockedRequests';
export const WAF_DEFAULT_THRESHOLD = 1000;

export const ALARM_PERIOD = Duration.minutes(5);

/** One audit metric of an instance: the five-minute sum unless `props` says otherwise. */
export function auditMetric(namespace: string, metricName: string, props: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace, metricName, statistic: cloudwatch.Stats.SUM, period: ALARM_PERIOD, ...props });
}

export interface AuditAlarmOptions {
  readonly namespace: string;
  readonly logGroups: Readonly<Record<AuditSource, logs.ILogGroup>>;
  readonly topic: sns.ITopic;
  /** Thresholds by `thresholdKey(metricName)`; a missing one is the definition's. */
  readonly thresholds?: Readonly<Record<string, number | undefined>>;
}

function alarmOn(scope: Construct, id: string, metric: cloudwatch.IMetric, threshold: number, description: string, topic: sns.ITopic): cloudwatch.Alarm {
  const alarm = new cloudwatch.Alarm(scope, id, {
    metric,
    threshold,
    evaluationPeriods: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    // No audit line in a period means nothing happened, not that the data is missing.
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
  alarm.addAlarmAction(new actions.SnsAction(topic));
  return alarm;
}

function addMetricFilters(scope: Construct, options: AuditAlarmOptions, definition: Pick<AuditAlarmDefinition, 'metricName' | 'filterPattern' | 'sources'>): void {
  for (const source of definition.sources) {
    new logs.MetricFilter(scope, `${definition.metricName}${source[0].toUpperCase()}${source.slice(1)}Filter`, {
      logGroup: options.logGroups[source],
      filterPattern: definition.filterPattern,
      metricNamespace: options.namespace,
      metricName: definition.metricName,
      metricValue: '1',
    });
  }
}

export function createAuditAlarms(scope: Construct, options: AuditAlarmOptions): Record<string, cloudwatch.Alarm> {
  const alarms: Record<string, cloudwatch.Alarm> = {};
  for (const definition of AUDIT_ALARMS) {
    addMetricFilters(scope, options, definition);
    const metric = auditMetric(options.namespace, definition.metricName);
    const threshold = options.thresholds?.[thresholdKey(definition.metricName)] ?? definition.threshold;
    alarms[definition.id] = alarmOn(scope, definition.id, metric, threshold, definition.description, options.topic);
  }
  for (const definition of AUDIT_METRICS) addMetricFilters(scope, options, definition);
  return alarms;
}

/** Blocked requests on the construct's own web ACL (all rules). */
export function createWafAlarm(scope: Construct, webAclName: string, region: string, topic: sns.ITopic, threshold = WAF_DEFAULT_THRESHOLD): cloudwatch.Alarm {
  const metric = new cloudwatch.Metric({
    namespace: 'AWS/WAFV2',
    metricName: 'BlockedRequests',
    dimensionsMap: { WebACL: webAclName, Region: region, Rule: 'ALL' },
    statistic: cloudwatch.Stats.SUM,
    period: ALARM_PERIOD,
  });
  return alarmOn(scope, 'WafBlockedRequestsAlarm', metric, threshold, 'AWS WAF blocked unusually many requests in five minutes (rate limits or managed rules).', topic);
}

/**
 * The construct's own keys (signing and previous) being disabled or scheduled for deletion, from the
 * management events of a trail's log group. CloudTrail names the key in `resources[0].ARN` whatever
 * the caller passed (key id, ARN or alias).
 */
export function createKeyStateAlarm(scope: Construct, namespace: string, trailLogGroup: logs.ILogGroup, keyArns: readonly string[], topic: sns.ITopic): cloudwatch.Alarm {
  const ofTheseKeys = keyArns.map((arn) => logs.FilterPattern.stringValue('$.resources[0].ARN', '=', arn));
  new logs.MetricFilter(scope, 'KmsKeyStateChangeFilter', {
    logGroup: trailLogGroup,
    filterPattern: logs.FilterPattern.all(
      logs.FilterPattern.stringValue('$.eventSource', '=', 'kms.amazonaws.com'),
      logs.FilterPattern.any(
        logs.FilterPattern.stringValue('$.eventName', '=', 'DisableKey'),
        logs.FilterPattern.stringValue('$.eventName', '=', 'ScheduleKeyDeletion'),
      ),
      ofTheseKeys.length === 1 ? ofTheseKeys[0] : logs.FilterPattern.any(...ofTheseKeys),
    ),
    metricNamespace: namespace,
    metricName: 'KmsKeyStateChanges',
    metricValue: '1',
  });
  const metric = auditMetric(namespace, 'KmsKeyStateChanges');
  return alarmOn(
    scope,
    'KmsKeyStateChangeAlarm',
    metric,
    1,
    'The token signing key (or a previous signing key) was disabled or scheduled for deletion: every new token and the JWKS fail while the signing key is unusable.',
    topic,
  );
}
