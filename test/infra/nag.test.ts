import { App, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { configureExampleApp, SecureMcpExampleStack } from '../../bin/example-stack';
import { AuditTrail, Firewall } from '../../lib';
import { buildStack } from '../support/stack';

// The example app (bin/) is what `npx cdk synth` checks; it holds the construct with its defaults
// plus a Cognito user pool, so one tree covers both.
const app = new App();
const example: SecureMcpExampleStack = new SecureMcpExampleStack(app, 'SecureMcpExample');
const findings = (report: PolicyValidationPluginReport) => report.violations.map((violation) => `${violation.ruleName} (${violation.severity})`).sort();
/** Findings on the construct's own resources (the test stacks' stand-in MCP function is not the construct's). */
const constructFindings = (report: PolicyValidationPluginReport) =>
  report.violations
    .filter((violation) => violation.violatingResources.some((resource) => resource.constructPath?.startsWith('TestStack/Mcp/')))
    .map((violation) => `${violation.ruleName} (${violation.severity})`)
    .sort();
const NAG_RULE = /^(AwsSolutions|NIST\.800\.53\.R5|Serverless)-/;

/**
 * NIST 800-53 rev 5 and Serverless findings the construct leaves to the organisation deploying it
 * (encryption keys for logs and topics, backup plans, replication, reserved concurrency everywhere):
 * README.md (section cdk-nag) explains each and how to meet it. They are pinned here so a new one is noticed.
 */
const ORGANISATION_CHOICES = [
  'NIST.800.53.R5-CloudWatchLogGroupEncrypted (error)',
  'NIST.800.53.R5-DynamoDBInBackupPlan (error)',
  'NIST.800.53.R5-IAMNoInlinePolicy (error)',
  'NIST.800.53.R5-LambdaConcurrency (error)',
  'NIST.800.53.R5-S3BucketReplicationEnabled (error)',
  'NIST.800.53.R5-S3DefaultEncryptionKMS (error)',
  'NIST.800.53.R5-SNSEncryptedKMS (error)',
  'NIST.800.53.R5-SecretsManagerUsingKMSKey (error)',
];

function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const result: { path: string; id: string; reason: string }[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
        // CDK records its own acknowledgements (CloudFormation-Validate::...) in the same metadata.
        const id = qualified.replace(/^annotation::/i, '');
        if (NAG_RULE.test(id)) result.push({ path: construct.node.path, id, reason });
      }
    }
  }
  return result;
}

describe('INFRA-01 cdk-nag', () => {
  it('finds nothing unacknowledged in the AwsSolutions pack, errors or warnings', () => {
    expect(findings(new AwsSolutionsChecks().validateScope(example))).toEqual([]);
  });

  it('leaves in the NIST 800-53 rev 5 and Serverless packs only the documented organisation choices and warnings', () => {
    const nist = findings(new NIST80053R5Checks().validateScope(example));
    const serverless = findings(new ServerlessChecks().validateScope(example));
    expect(nist).toEqual(ORGANISATION_CHOICES);
    expect(serverless.filter((finding) => finding.endsWith('(error)'))).toEqual([]);
    // Expected suppressions of the catalogue: public OAuth routes, no caching, no VPC.
    const ids = new Set(acknowledgements(example).map((ack) => ack.id));
    for (const id of ['AwsSolutions-APIG4', 'NIST.800.53.R5-APIGWCacheEnabledAndEncrypted', 'NIST.800.53.R5-LambdaInsideVPC']) expect(ids).toContain(id);
  });

  it('gives every acknowledgement a specific reason', () => {
    const acks = acknowledgements(example);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.id).toMatch(/^(AwsSolutions|NIST\.800\.53\.R5|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
      expect(ack.reason.length).toBeGreaterThanOrEqual(40);
    }
  });

  it('acknowledges the public-route finding per method, so an unauthenticated method added later is still caught', () => {
    const { stack, mcp } = buildStack();
    mcp.restApi.root.addResource('debug').addMethod('GET', new apigateway.MockIntegration({ integrationResponses: [{ statusCode: '200' }] }), {
      authorizationType: apigateway.AuthorizationType.NONE,
      methodResponses: [{ statusCode: '200' }],
    });
    const violations = new AwsSolutionsChecks().validateScope(stack).violations.filter((violation) => violation.violatingResources.some((resource) => resource.constructPath?.startsWith('TestStack/Mcp/')));
    expect(violations.map((violation) => violation.ruleName).sort()).toEqual(['AwsSolutions-APIG4', 'AwsSolutions-COG4']);
    for (const violation of violations) expect(violation.violatingResources.map((resource) => resource.constructPath)).toEqual(['TestStack/Mcp/Api/Default/debug/GET/Resource']);
  });

  it('flags a stage without a web ACL unless the firewall was disabled on purpose, and then only that', () => {
    const { stack } = buildStack({ firewall: Firewall.disabled(), auditTrail: AuditTrail.disabled() });
    expect(constructFindings(new AwsSolutionsChecks().validateScope(stack))).toEqual([]);
    const ack = acknowledgements(stack).find((entry) => entry.id === 'AwsSolutions-APIG3');
    expect(ack?.path).toBe('TestStack/Mcp/Api/DeploymentStage.prod');
    // The same stage with the acknowledgement removed is a finding: the check itself is live.
    const bare = new Stack(new App(), 'Bare');
    new apigateway.RestApi(bare, 'Api').root.addMethod('GET', new apigateway.MockIntegration());
    expect(new AwsSolutionsChecks().validateScope(bare).violations.map((violation) => violation.ruleName)).toContain('AwsSolutions-APIG3');
  });

  it('fails the synth of the app bin/app.ts builds on any unacknowledged finding', () => {
    const pluginApp = new App();
    configureExampleApp(pluginApp);
    new apigateway.RestApi(new Stack(pluginApp, 'Unprotected'), 'Api').root.addMethod('GET', new apigateway.MockIntegration());
    const report = jest.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      expect(() => pluginApp.synth()).toThrow(/AwsSolutions-APIG4/);
    } finally {
      report.mockRestore();
    }
  });
});
