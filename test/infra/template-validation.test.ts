import { RegoEngine, StandardDiagnostic, TemplateFile } from '@aws/cloudformation-validate';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecureMcpExampleStack } from '../../bin/example-stack';
import { IdentityProvider, SecureMcpServer, SecureMcpServerProps } from '../../lib';

/**
 * The synthesized templates against the real CloudFormation resource schemas and cfn-lint's
 * rules (@aws/cloudformation-validate, offline, bundled schemas), and against the Control Tower proactive
 * controls (@cdklabs/cdk-validator-cfnguard, cfn-guard bundled). Zero errors; every warning and control
 * finding is pinned here and triaged in the README (section "Template validation"), so a new one is noticed.
 */

const out = mkdtempSync(join(tmpdir(), 'secure-mcp-validate-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function stackWith(props: (stack: Stack) => Partial<SecureMcpServerProps>): Stack {
  const stack = new Stack(new App(), 'TestStack');
  const given = props(stack);
  const handler = new lambda.Function(stack, 'McpHandler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "{}" });'),
    vpc: given.vpc,
  });
  const clientSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'UpstreamSecret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/upstream-AbCdEf');
  new SecureMcpServer(stack, 'Mcp', { handler, identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mcp-client', clientSecret }), ...given });
  return stack;
}

function templateFile(name: string, stack: Stack): string {
  const path = join(out, `${name}.template.json`);
  const assembly = (stack.node.root as App).synth();
  writeFileSync(path, JSON.stringify(assembly.getStackByName(stack.stackName).template, null, 1));
  return path;
}

/** A log key as the README recommends: rotating, and no grants but for AWS services (CT.KMS.PR.3). */
function logKey(stack: Stack): kms.Key {
  const key = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
  return key;
}

const TEMPLATES: Record<string, () => string> = {
  default: () => templateFile('default', stackWith(() => ({}))),
  hardened: () =>
    templateFile(
      'hardened',
      stackWith((stack) => ({
        logEncryptionKey: logKey(stack),
        tracing: true,
        // The test's own VPC: public subnets (for the NAT gateway) that assign no public IPs (CT.EC2.PR.11).
        vpc: new ec2.Vpc(stack, 'Vpc', {
          maxAzs: 2,
          natGateways: 1,
          subnetConfiguration: [
            { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, mapPublicIpOnLaunch: false },
            { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
          ],
        }),
        createVpcEndpoints: true,
      })),
    ),
  example: () => {
    const app = new App();
    return templateFile('example', new SecureMcpExampleStack(app, 'SecureMcpExample'));
  },
};
const paths = Object.fromEntries(Object.entries(TEMPLATES).map(([name, make]) => [name, make()]));

describe('CloudFormation resource schemas and cfn-lint rules (@aws/cloudformation-validate)', () => {
  const engine = new RegoEngine();
  afterAll(() => engine.free());
  const validate = (path: string): StandardDiagnostic[] => {
    const report = engine.validateStandard(new TemplateFile(path));
    expect(report.status).toBe('OK');
    return report.diagnostics;
  };
  const finding = (diagnostic: StandardDiagnostic) => `${diagnostic.ruleId} ${diagnostic.entity?.resourceType ?? diagnostic.entity?.logicalId}`;

  /** Warnings the README triages (rule, resource type); INFO-level suggestions (tags, Fn::Sub style) are not pinned. */
  const TRIAGED_WARNINGS = [
    // DependsOn that a Ref/GetAtt already implies: CDK writes them for roles, the construct for log groups it creates first.
    'W3005 AWS::CloudTrail::Trail',
    'W3005 AWS::Lambda::Function',
    // The trail access-log bucket's LogDeliveryWrite ACL, which CDK sets unless the app has the feature flag
    // @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy (cdk init sets it); then a bucket policy replaces it.
    'W3045 AWS::S3::Bucket',
  ];

  it.each(Object.keys(TEMPLATES))('the %s template has no schema or lint error, and only the triaged warnings', (name) => {
    const diagnostics = validate(paths[name]);
    const errors = diagnostics.filter((diagnostic) => diagnostic.severity === 'ERROR' || diagnostic.severity === 'FATAL');
    expect(errors.map((diagnostic) => `${finding(diagnostic)}: ${diagnostic.message}`)).toEqual([]);
    const warnings = [...new Set(diagnostics.filter((diagnostic) => diagnostic.severity === 'WARN').map(finding))].sort();
    for (const warning of warnings) expect(TRIAGED_WARNINGS).toContain(warning);
  });

  it('reports a template that breaks a resource schema (the check is live)', () => {
    const template = JSON.parse(readFileSync(paths.default, 'utf8'));
    const [groupId] = Object.entries(template.Resources).find(([, resource]: [string, any]) => resource.Type === 'AWS::Logs::LogGroup')!;
    template.Resources[groupId].Properties.RetentionInDays = 'a year';
    template.Resources[groupId].Properties.Unknown = true;
    const broken = join(out, 'broken.template.json');
    writeFileSync(broken, JSON.stringify(template));
    const errors = validate(broken).filter((diagnostic) => (diagnostic.severity === 'ERROR' || diagnostic.severity === 'FATAL') && diagnostic.entity?.logicalId === groupId);
    expect(errors.map((diagnostic) => diagnostic.propertyPath).sort()).toEqual(expect.arrayContaining([expect.stringContaining('RetentionInDays'), expect.stringContaining('Unknown')]));
  });
});

describe('Control Tower proactive controls (@cdklabs/cdk-validator-cfnguard)', () => {
  const validator = new CfnGuardValidator({ maxBuffer: 64 * 1024 * 1024 });
  const controls = (path: string) => {
    const report = validator.validate({ templatePaths: [path], appConstruct: new App() });
    return [...new Set(report.violations.map((violation) => /^\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/.exec(violation.description ?? '')?.[1] ?? violation.ruleName))].sort();
  };

  /** Each triaged in the README: resolved by a prop, or why it stays. */
  const DEFAULT_FINDINGS = [
    'CT.APIGATEWAY.PR.2', // X-Ray on the stage: tracing: true (off by default, see the prop)
    'CT.CLOUDWATCH.PR.3', // log groups with a customer-managed key: logEncryptionKey
    'CT.LAMBDA.PR.2', // false positive: every permission has SourceArn (an Fn::Join of this API's execute-api ARN)
    'CT.LAMBDA.PR.3', // functions in a VPC: vpc
    'CT.S3.PR.10', // trail buckets with SSE-S3: the log files are KMS-encrypted by CloudTrail; access-log targets support SSE-S3 only
    'CT.S3.PR.2', // server access logging on the access-log bucket itself: it would log to itself
    'CT.S3.PR.3', // lifecycle rules on the trail buckets: the retention of audit evidence is the organisation's
    'CT.S3.PR.4', // event notifications on the trail buckets: nothing consumes them
    'CT.S3.PR.5', // the access-log bucket's ACL: CDK's feature flag @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy
    'CT.S3.PR.6', // lifecycle rules, as CT.S3.PR.3
    'CT.S3.PR.9', // S3 Object Lock: only at bucket creation, so existing deployments would replace their buckets
  ];

  it(
    'reports on the default template only the triaged controls (CT.KMS.PR.3 is fixed: no grants on the keys but for AWS services)',
    () => {
      expect(controls(paths.default)).toEqual(DEFAULT_FINDINGS);
    },
    120_000,
  );

  it(
    'resolves the tracing, log-key and VPC controls with the options set',
    () => {
      const resolved = ['CT.APIGATEWAY.PR.2', 'CT.CLOUDWATCH.PR.3', 'CT.LAMBDA.PR.3'];
      expect(controls(paths.hardened)).toEqual(DEFAULT_FINDINGS.filter((control) => !resolved.includes(control)));
    },
    120_000,
  );
});
