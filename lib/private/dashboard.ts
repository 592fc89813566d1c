import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';

export interface DashboardOptions {
  readonly title: string;
  /** Audit metrics, by widget title. */
  readonly auditMetrics: Readonly<Record<string, cloudwatch.IMetric[]>>;
  /** The functions, by name. */
  readonly functions: Readonly<Record<string, lambda.IFunction>>;
  readonly apiMetrics: readonly cloudwatch.IMetric[];
  readonly alarms: readonly cloudwatch.IAlarm[];
}

/**
 * One dashboard for the instance: the alarm states first (what needs attention), then the audit
 * metrics (tokens issued, registrations, denials, replays, faults), the functions and the API.
 */
export function createDashboard(scope: Construct, options: DashboardOptions): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard');
  dashboard.addWidgets(new cloudwatch.TextWidget({ markdown: `# ${options.title}`, width: 24, height: 1 }));
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Security alarms', alarms: [...options.alarms], width: 24 }));
  dashboard.addWidgets(
    ...Object.entries(options.auditMetrics).map(([title, metrics]) => new cloudwatch.GraphWidget({ title, left: metrics, width: 8, statistic: cloudwatch.Stats.SUM })),
  );
  dashboard.addWidgets(
    new cloudwatch.GraphWidget({ title: 'Function errors', left: Object.entries(options.functions).map(([label, fn]) => fn.metricErrors({ label })), width: 8 }),
    new cloudwatch.GraphWidget({ title: 'Function throttles', left: Object.entries(options.functions).map(([label, fn]) => fn.metricThrottles({ label })), width: 8 }),
    new cloudwatch.GraphWidget({ title: 'API requests and errors', left: [...options.apiMetrics], width: 8 }),
  );
  return dashboard;
}
