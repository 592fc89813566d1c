import { Annotations as CoreAnnotations, App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AuditTrail, Firewall, IdentityProvider, MCP_GUARD_ENVIRONMENT_WARNING, SecureMcpServer } from '../../lib';
import { AUDIT_ALARMS } from '../../lib/private/audit';
import { buildStack, logicalIdOf, PolicyStatementJson, resourcesOfType } from '../support/stack';

/**
 * Consumers measure and watch an instance: `metricXxx()` for the audit metrics (each
 * backed by the metric filters that publish it), a dashboard (opt-out), alarm thresholds as props,
 * `grantReadPublicKeys` returning an `iam.Grant`, and the guard-environment note as an acknowledgeable warning.
 */

describe('audit metrics', () => {
  const { stack, mcp } = buildStack();
  const template = Template.fromStack(stack);
  const filters = Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter')).map((filter) => filter.Properties);
  const methods: [string, (props?: cloudwatch.MetricOptions) => cloudwatch.Metric, string[]][] = [
    ['IssuedTokens', (p) => mcp.metricIssuedTokens(p), ['Token']],
    ['ClientRegistrations', (p) => mcp.metricClientRegistrations(p), ['Register']],
    ['AuthorizerDenials', (p) => mcp.metricAuthorizerDenials(p), ['Authorizer']],
    ['CodeReplays', (p) => mcp.metricCodeReplays(p), ['Token']],
    ['RefreshTokenReuse', (p) => mcp.metricRefreshTokenReuse(p), ['Token']],
    ['ServerFaults', (p) => mcp.metricServerFaults(p), ['Token', 'Register', 'Authorize', 'Metadata']],
    ['KmsFaults', (p) => mcp.metricKmsFaults(p), ['Token', 'Metadata']],
  ];

  it.each(methods)('metric %s is a five-minute sum in the instance namespace, published by filters on the right log groups', (metricName, method, sources) => {
    const metric = method();
    expect([metric.namespace, metric.metricName, metric.statistic, metric.period.toSeconds()]).toEqual([mcp.metricNamespace, metricName, 'Sum', 300]);
    const publishing = filters.filter((filter) => filter.MetricTransformations[0].MetricName === metricName);
    expect(publishing.every((filter) => filter.MetricTransformations[0].MetricNamespace === mcp.metricNamespace && filter.MetricTransformations[0].MetricValue === '1')).toBe(true);
    const groups = sources.map((name) => ({ Ref: logicalIdOf(stack, mcp.node.findChild(name).node.findChild('LogGroup')) }));
    expect(publishing.map((filter) => filter.LogGroupName)).toEqual(groups);
  });

  it('counts every issued access token: authorization-code and client-credentials grants (token.issued) and refreshes (token.refreshed)', () => {
    const [issued] = filters.filter((filter) => filter.MetricTransformations[0].MetricName === 'IssuedTokens');
    expect(issued.FilterPattern).toBe('{ ($.event = "token.issued") || ($.event = "token.refreshed") }');
  });

  it('takes the caller’s period, statistic and label', () => {
    const metric = mcp.metricAuthorizerDenials({ statistic: 'Maximum', label: 'denied' });
    expect([metric.statistic, metric.label, metric.period.toSeconds()]).toEqual(['Maximum', 'denied', 300]);
  });
});

describe('dashboard', () => {
  it('is created by default with the alarm states, the audit metrics and the functions', () => {
    const { stack, mcp } = buildStack();
    const template = Template.fromStack(stack);
    const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const metricName of ['IssuedTokens', 'ClientRegistrations', 'AuthorizerDenials', 'CodeReplays', 'RefreshTokenReuse', 'KmsFaults', 'ServerFaults']) expect(body).toContain(`\\"${metricName}\\"`);
    for (const alarm of Object.values(mcp.alarms)) expect(body).toContain(logicalIdOf(stack, alarm));
    for (const name of ['Metadata', 'Register', 'Token', 'Authorize', 'Authorizer']) expect(body).toContain(logicalIdOf(stack, mcp.node.findChild(name).node.findChild('Function')));
    expect(mcp.dashboard).toBeDefined();
  });

  it('is not created with dashboard: false', () => {
    const { stack, mcp } = buildStack({ dashboard: false });
    Template.fromStack(stack).resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(mcp.dashboard).toBeUndefined();
  });
});

describe('alarm thresholds', () => {
  const thresholdOf = (template: Template, stack: Stack, mcp: SecureMcpServer, id: string) => template.toJSON().Resources[logicalIdOf(stack, mcp.alarms[id])].Properties.Threshold;

  it('default to the documented values', () => {
    const { stack, mcp } = buildStack();
    const template = Template.fromStack(stack);
    for (const definition of AUDIT_ALARMS) expect([definition.id, thresholdOf(template, stack, mcp, definition.id)]).toEqual([definition.id, definition.threshold]);
    expect(thresholdOf(template, stack, mcp, 'WafBlockedRequestsAlarm')).toBe(1000);
  });

  it('take the props, alarm by alarm', () => {
    const { stack, mcp } = buildStack({ alarmThresholds: { authorizerDenials: 2000, clientRegistrations: 10, wafBlockedRequests: 5000 } });
    const template = Template.fromStack(stack);
    expect(thresholdOf(template, stack, mcp, 'AuthorizerDenialSpikeAlarm')).toBe(2000);
    expect(thresholdOf(template, stack, mcp, 'RegistrationSpikeAlarm')).toBe(10);
    expect(thresholdOf(template, stack, mcp, 'WafBlockedRequestsAlarm')).toBe(5000);
    expect(thresholdOf(template, stack, mcp, 'CodeReplayAlarm')).toBe(1);
  });

  it('refuse a threshold below 1, naming it', () => {
    expect(() => buildStack({ alarmThresholds: { codeReplays: 0 } })).toThrow('alarmThresholds.codeReplays must be a whole number between 1 and 1000000000, got 0');
  });

  it('refuse a name that is no alarm (a JavaScript caller has no type check), listing the names', () => {
    expect(() => buildStack({ alarmThresholds: { codeReplay: 2 } as never })).toThrow(
      'alarmThresholds has no alarm "codeReplay": use codeReplays, refreshTokenReuse, clientRegistrations, authorizerDenials, kmsFaults, serverFaults, consentCsrfFailures, upstreamCallbackRejections, wafBlockedRequests',
    );
  });

  it('cover every alarm of the construct but the key-state alarm, under the documented names', () => {
    const { mcp } = buildStack();
    const documented = ['codeReplays', 'refreshTokenReuse', 'clientRegistrations', 'authorizerDenials', 'kmsFaults', 'serverFaults', 'consentCsrfFailures', 'upstreamCallbackRejections', 'wafBlockedRequests'];
    expect(Object.keys(mcp.alarms).filter((id) => id !== 'KmsKeyStateChangeAlarm')).toHaveLength(documented.length);
  });
});

describe('grants and warnings', () => {
  it('grantReadPublicKeys returns the grant: GetPublicKey on the signing key, in the grantee policy and the key policy', () => {
    const { stack, mcp } = buildStack();
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    const grant = mcp.grantReadPublicKeys(reader);
    expect(grant).toBeInstanceOf(iam.Grant);
    expect(grant.success).toBe(true);
    expect(grant.principalStatements.map((statement) => statement.actions)).toEqual([['kms:GetPublicKey']]);
    const template = Template.fromStack(stack);
    const keyId = logicalIdOf(stack, mcp.signingKey);
    const statements = template.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as PolicyStatementJson[];
    const readerArn = { 'Fn::GetAtt': [logicalIdOf(stack, reader), 'Arn'] };
    expect(statements.filter((statement) => JSON.stringify(statement.Condition ?? {}).includes(JSON.stringify(readerArn))).map((statement) => statement.Action)).toEqual(['kms:GetPublicKey']);
    // The grant can be depended on, like any aws-cdk-lib grant.
    const consumer = new lambda.Function(stack, 'Consumer', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('x') });
    grant.applyBefore(consumer);
  });

  describe('the MCP handler the construct cannot configure', () => {
    const build = () => {
      const stack = new Stack(new App(), 'TestStack');
      const handler = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:team-mcp');
      const clientSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'UpstreamSecret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/upstream-AbCdEf');
      const mcp = new SecureMcpServer(stack, 'Mcp', {
        handler,
        identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'c', clientSecret }),
        firewall: Firewall.disabled(),
        auditTrail: AuditTrail.disabled(),
      });
      return { stack, mcp };
    };

    it(`is a warning with the documented id ${MCP_GUARD_ENVIRONMENT_WARNING}`, () => {
      const { stack } = build();
      Annotations.fromStack(stack).hasWarning('/TestStack/Mcp', Match.stringLikeRegexp(`set ISSUER, SCOPE_MODEL on it from SecureMcpServer.mcpFunctionEnvironment.*\\[ack: ${MCP_GUARD_ENVIRONMENT_WARNING}\\]`));
    });

    it('goes away once acknowledged', () => {
      const { stack, mcp } = build();
      CoreAnnotations.of(mcp).acknowledgeWarning(MCP_GUARD_ENVIRONMENT_WARNING, 'The team sets the guard environment in its own stack');
      Annotations.fromStack(stack).hasNoWarning('/TestStack/Mcp', Match.stringLikeRegexp('mcpFunctionEnvironment'));
    });
  });
});
