import { App, PolicyValidationPluginReport, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks, HIPAASecurityChecks, NagPack, NIST80053R5Checks, PCIDSS321Checks, ServerlessChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { acknowledgedNagRules, AuditTrail, Firewall, IdentityProvider, LOG_ENCRYPTION_KEY_POLICY_WARNING, NAG_ACKNOWLEDGEMENTS, NagAcknowledgement, SecureMcpServer, SecureMcpServerProps } from '../../lib';
import { functionLogicalId, identityStatements, logicalIdOf, PolicyStatementJson, render, resourcesOfType, roleOf } from '../support/stack';

/**
 * The options security teams ask for (a customer-managed key for logs and the alarm topic,
 * X-Ray tracing, functions in a VPC) and the cdk-nag acknowledgements, which come from one table
 * (lib/acknowledgements.ts) with one reason per fact in every pack, and which consumers can see and withhold.
 */

const FUNCTIONS = ['Metadata', 'Register', 'Token', 'Authorize', 'Authorizer'];
const PACKS: (new () => NagPack)[] = [AwsSolutionsChecks, NIST80053R5Checks, HIPAASecurityChecks, PCIDSS321Checks, ServerlessChecks];

interface Built {
  readonly stack: Stack;
  readonly mcp: SecureMcpServer;
  readonly template: Template;
}

/** A stack whose props may refer to resources of the same stack (a VPC, a key). */
function build(props: (stack: Stack) => Partial<SecureMcpServerProps> = () => ({})): Built {
  const stack = new Stack(new App(), 'TestStack');
  const handler = new lambda.Function(stack, 'McpHandler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "{}" });'),
  });
  const clientSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'UpstreamSecret', 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/upstream-AbCdEf');
  const mcp = new SecureMcpServer(stack, 'Mcp', {
    handler,
    identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mcp-client', clientSecret }),
    ...props(stack),
  });
  return { stack, mcp, template: Template.fromStack(stack) };
}

function errorFor(props: (stack: Stack) => Partial<SecureMcpServerProps>): string {
  try {
    build(props);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the props to be refused');
}

/** `rule (path)` for every finding on the construct's own resources. */
function constructFindings(scope: IConstruct, packs = PACKS): string[] {
  const result = new Set<string>();
  for (const Pack of packs) {
    const report: PolicyValidationPluginReport = new Pack().validateScope(scope);
    for (const violation of report.violations) {
      for (const resource of violation.violatingResources) {
        if (resource.constructPath?.startsWith('TestStack/Mcp/')) result.add(`${violation.ruleName} ${resource.constructPath.replace(/\/Resource$/, '')}`);
      }
    }
  }
  return [...result].sort();
}

const rulesOf = (findings: string[]) => [...new Set(findings.map((finding) => finding.split(' ')[0]))].sort();

/** Every acknowledgement recorded on the construct's tree: construct path, rule id and reason. */
function acknowledgements(root: IConstruct): { path: string; id: string; reason: string }[] {
  const result: { path: string; id: string; reason: string }[] = [];
  for (const construct of root.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [qualified, reason] of Object.entries(entry.data as Record<string, string>)) {
        const id = qualified.replace(/^annotation::/i, '');
        if (/^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security|PCI\.DSS\.321|Serverless)-/.test(id)) result.push({ path: construct.node.path, id, reason });
      }
    }
  }
  return result;
}

function logGroupsOf(template: Template): Record<string, { Properties: Record<string, any> }> {
  return resourcesOfType(template, 'AWS::Logs::LogGroup');
}

describe('a customer-managed key for the log groups and the alarm topic', () => {
  const withKey = build((stack) => ({ logEncryptionKey: new kms.Key(stack, 'LogKey', { enableKeyRotation: true }) }));
  const keyId = logicalIdOf(withKey.stack, withKey.stack.node.findChild('LogKey'));
  const keyPolicy = () => withKey.template.toJSON().Resources[keyId].Properties.KeyPolicy.Statement as PolicyStatementJson[];

  it('encrypts every log group the construct creates (functions, access logs, WAF, trail) and the alarm topic with it', () => {
    const groups = logGroupsOf(withKey.template);
    expect(Object.keys(groups)).toHaveLength(FUNCTIONS.length + 3);
    for (const group of Object.values(groups)) expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    withKey.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
  });

  it("gives CloudWatch Logs the key for this account's log groups only, and CloudWatch alarms what publishing to the topic needs", () => {
    const logs = keyPolicy().find((statement) => statement.Sid === 'CloudWatchLogsEncryption')!;
    expect(render((logs.Principal as { Service: unknown }).Service)).toBe('logs.{AWS::Region}.amazonaws.com');
    expect(logs.Action).toEqual(['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*']);
    expect(render(logs.Condition!.ArnLike['kms:EncryptionContext:aws:logs:arn'])).toBe('arn:{AWS::Partition}:logs:{AWS::Region}:{AWS::AccountId}:log-group:*');
    const alarms = keyPolicy().find((statement) => statement.Sid === 'CloudWatchAlarmsPublishEncrypted')!;
    expect(alarms.Principal).toEqual({ Service: 'cloudwatch.amazonaws.com' });
    expect(alarms.Action).toEqual(['kms:Decrypt', 'kms:GenerateDataKey*']);
    expect(alarms.Condition).toEqual({ StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } });
  });

  it('resolves the log and topic encryption findings of the NIST, HIPAA and PCI packs', () => {
    const without = rulesOf(constructFindings(build().stack));
    const withIt = rulesOf(constructFindings(withKey.stack));
    for (const pack of ['NIST.800.53.R5', 'HIPAA.Security', 'PCI.DSS.321']) {
      for (const rule of ['CloudWatchLogGroupEncrypted', 'SNSEncryptedKMS']) {
        expect(without).toContain(`${pack}-${rule}`);
        expect(withIt).not.toContain(`${pack}-${rule}`);
      }
    }
  });

  it('keeps every log group logical id (existing deployments are updated in place)', () => {
    expect(Object.keys(logGroupsOf(withKey.template)).sort()).toEqual(Object.keys(logGroupsOf(build().template)).sort());
  });

  it('defaults to CloudWatch Logs encryption: no key, no KmsKeyId', () => {
    const { template } = build();
    expect(Object.keys(resourcesOfType(template, 'AWS::KMS::Key'))).toHaveLength(2); // the signing key and the trail key
    for (const group of Object.values(logGroupsOf(template))) expect(group.Properties.KmsKeyId).toBeUndefined();
    for (const topic of Object.values(resourcesOfType(template, 'AWS::SNS::Topic'))) expect(topic.Properties.KmsMasterKeyId).toBeUndefined();
  });

  it('leaves a brought alarm topic alone and grants CloudWatch nothing for it', () => {
    const { stack, template } = build((s) => ({ logEncryptionKey: new kms.Key(s, 'LogKey'), alarmTopic: new sns.Topic(s, 'Alarms') }));
    const statements = template.toJSON().Resources[logicalIdOf(stack, stack.node.findChild('LogKey'))].Properties.KeyPolicy.Statement as PolicyStatementJson[];
    expect(statements.map((statement) => statement.Sid)).toContain('CloudWatchLogsEncryption');
    expect(statements.map((statement) => statement.Sid)).not.toContain('CloudWatchAlarmsPublishEncrypted');
  });

  it('warns, with a documented id, that an imported key must already allow CloudWatch Logs and alarms (its policy cannot be extended)', () => {
    const { stack, template } = build((s) => ({ logEncryptionKey: kms.Key.fromKeyArn(s, 'Imported', 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab') }));
    Annotations.fromStack(stack).hasWarning('/TestStack/Mcp', Match.stringLikeRegexp(`logEncryptionKey is imported.*logs\\.<region>\\.amazonaws\\.com.*\\[ack: ${LOG_ENCRYPTION_KEY_POLICY_WARNING}\\]`));
    for (const group of Object.values(logGroupsOf(template))) expect(group.Properties.KmsKeyId).toBe('arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    Annotations.fromStack(withKey.stack).hasNoWarning('/TestStack/Mcp', Match.stringLikeRegexp('logEncryptionKey'));
  });

  it('refuses an asymmetric key, with what was given', () => {
    expect(errorFor((stack) => ({ logEncryptionKey: new kms.Key(stack, 'Rsa', { keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY }) }))).toContain(
      'logEncryptionKey must be a symmetric ENCRYPT_DECRYPT key (CloudWatch Logs and SNS accept no other), got SIGN_VERIFY RSA_2048',
    );
  });
});

describe('X-Ray tracing', () => {
  it('is off by default: no function tracing, stage tracing disabled', () => {
    const { stack, mcp, template } = build();
    const resources = template.toJSON().Resources;
    for (const name of FUNCTIONS) expect(resources[functionLogicalId(stack, mcp, name)].Properties.TracingConfig).toBeUndefined();
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: false });
  });

  it('turns on active tracing on the five functions and the stage, granting only the X-Ray writes', () => {
    const { stack, mcp, template } = build(() => ({ tracing: true }));
    const resources = template.toJSON().Resources;
    for (const name of FUNCTIONS) {
      const logicalId = functionLogicalId(stack, mcp, name);
      expect(resources[logicalId].Properties.TracingConfig).toEqual({ Mode: 'Active' });
      const xray = identityStatements(template).filter(({ roles, statement }) => roles.includes(roleOf(template, logicalId)) && JSON.stringify(statement.Action).includes('xray:'));
      expect(xray.map(({ statement }) => [statement.Action, statement.Resource])).toEqual([[['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], '*']]);
    }
    template.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
    const findings = rulesOf(constructFindings(stack));
    for (const rule of ['HIPAA.Security-APIGWXrayEnabled', 'Serverless-APIGWXrayEnabled', 'Serverless-LambdaTracing']) expect(findings).not.toContain(rule);
    expect(findings.filter((rule) => rule.startsWith('AwsSolutions-'))).toEqual([]);
  });
});

describe('functions in a VPC', () => {
  const inVpc = build((stack) => ({ vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }), createVpcEndpoints: true }));
  const resources = inVpc.template.toJSON().Resources;
  const groupId = logicalIdOf(inVpc.stack, inVpc.mcp.node.findChild('FunctionSecurityGroup'));

  it('places the five functions in the private subnets with one security group: HTTPS out, nothing in', () => {
    const privateSubnets = Object.entries(resources)
      .filter(([id, resource]: [string, any]) => resource.Type === 'AWS::EC2::Subnet' && id.includes('Private'))
      .map(([id]) => ({ Ref: id }));
    expect(privateSubnets).toHaveLength(2);
    for (const name of FUNCTIONS) {
      const fn = resources[functionLogicalId(inVpc.stack, inVpc.mcp, name)];
      expect(fn.Properties.VpcConfig).toEqual({ SecurityGroupIds: [{ 'Fn::GetAtt': [groupId, 'GroupId'] }], SubnetIds: privateSubnets });
      expect(JSON.stringify(resources[roleOf(inVpc.template, functionLogicalId(inVpc.stack, inVpc.mcp, name))].Properties.ManagedPolicyArns)).toContain('service-role/AWSLambdaVPCAccessExecutionRole');
    }
    const group = resources[groupId].Properties;
    expect(group.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: 'tcp', FromPort: 443, ToPort: 443 })]);
    expect(group.SecurityGroupIngress).toBeUndefined();
    expect(Object.values(resources).filter((resource: any) => resource.Type === 'AWS::EC2::SecurityGroupIngress' && JSON.stringify(resource.Properties.GroupId).includes(groupId))).toEqual([]);
  });

  it('creates the DynamoDB gateway endpoint and KMS and Secrets Manager interface endpoints, reachable from the functions only', () => {
    const endpoints = Object.values(resourcesOfType(inVpc.template, 'AWS::EC2::VPCEndpoint')).map((endpoint) => endpoint.Properties);
    expect(endpoints.map((endpoint) => [render(endpoint.ServiceName), endpoint.VpcEndpointType ?? 'Gateway']).sort()).toEqual([
      ['com.amazonaws.{AWS::Region}.dynamodb', 'Gateway'],
      ['com.amazonaws.{AWS::Region}.kms', 'Interface'],
      ['com.amazonaws.{AWS::Region}.secretsmanager', 'Interface'],
    ]);
    for (const endpoint of endpoints.filter((e) => e.VpcEndpointType === 'Interface')) {
      expect(endpoint.PrivateDnsEnabled).toBe(true);
      const [endpointGroup] = endpoint.SecurityGroupIds.map((ref: { 'Fn::GetAtt': string[] }) => ref['Fn::GetAtt'][0]);
      const ingress = Object.values(resources).filter((resource: any) => resource.Type === 'AWS::EC2::SecurityGroupIngress' && resource.Properties.GroupId['Fn::GetAtt'][0] === endpointGroup) as any[];
      expect(ingress.map((rule) => [rule.Properties.SourceSecurityGroupId, rule.Properties.FromPort, rule.Properties.ToPort])).toEqual([[{ 'Fn::GetAtt': [groupId, 'GroupId'] }, 443, 443]]);
    }
    expect(Object.keys(inVpc.mcp.vpcEndpoints).sort()).toEqual(['DynamoDbEndpoint', 'KmsEndpoint', 'SecretsManagerEndpoint']);
  });

  it('no longer acknowledges LambdaInsideVPC, and the packs have nothing to report about it', () => {
    const ids = acknowledgements(inVpc.mcp).map((ack) => ack.id);
    for (const rule of NAG_ACKNOWLEDGEMENTS.outsideVpc.rules) expect(ids).not.toContain(rule);
    const findings = rulesOf(constructFindings(inVpc.stack));
    expect(findings.filter((rule) => rule.endsWith('LambdaInsideVPC'))).toEqual([]);
    expect(findings.filter((rule) => rule.startsWith('AwsSolutions-'))).toEqual([]);
  });

  it('uses brought security groups and subnets as given, and creates no endpoint by default', () => {
    const { stack, mcp, template } = build((s) => {
      const vpc = new ec2.Vpc(s, 'Vpc', { maxAzs: 2, natGateways: 1 });
      return { vpc, vpcSubnets: { subnets: [vpc.privateSubnets[1]] }, securityGroups: [new ec2.SecurityGroup(s, 'Mine', { vpc })] };
    });
    const fn = template.toJSON().Resources[functionLogicalId(stack, mcp, 'Token')];
    expect(fn.Properties.VpcConfig.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [logicalIdOf(stack, stack.node.findChild('Mine')), 'GroupId'] }]);
    expect(fn.Properties.VpcConfig.SubnetIds).toEqual([{ Ref: logicalIdOf(stack, (stack.node.findChild('Vpc') as ec2.Vpc).privateSubnets[1] as unknown as IConstruct) }]);
    expect(mcp.node.tryFindChild('FunctionSecurityGroup')).toBeUndefined();
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  });

  it.each(['vpcSubnets', 'securityGroups', 'createVpcEndpoints'] as const)('refuses %s without vpc', (name) => {
    const value = { vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC }, securityGroups: [], createVpcEndpoints: true }[name];
    expect(errorFor(() => ({ [name]: value }))).toContain(`${name} needs vpc: the functions run outside any VPC without it, got ${name} set and no vpc`);
  });
});

describe('cdk-nag acknowledgements: one table, the same reason in every pack, visible and overridable', () => {
  const cognitoBuild = () =>
    (() => {
      const stack = new Stack(new App(), 'TestStack');
      const userPool = new cognito.UserPool(stack, 'Users');
      userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'secure-mcp-test' } });
      const handler = new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
      return { stack, mcp: new SecureMcpServer(stack, 'Mcp', { handler, identityProvider: IdentityProvider.cognito({ userPool }) }) };
    })();

  it('records every acknowledgement from the table, with the reason of its fact', () => {
    const entries: NagAcknowledgement[] = Object.values(NAG_ACKNOWLEDGEMENTS);
    for (const root of [build().mcp, build(() => ({ firewall: Firewall.disabled(), tracing: true })).mcp, cognitoBuild().mcp]) {
      const acks = acknowledgements(root);
      expect(acks.length).toBeGreaterThan(40);
      for (const ack of acks) {
        const fact = entries.find((entry) => entry.rules.includes(ack.id) && ack.reason.endsWith(entry.reason));
        expect({ ...ack, fact: fact !== undefined }).toEqual({ ...ack, fact: true });
      }
    }
  });

  it('gives one finding the same reason in every pack that reports it, on the same construct', () => {
    const byFinding = new Map<string, Set<string>>();
    for (const ack of acknowledgements(cognitoBuild().mcp)) {
      const finding = `${ack.path} ${ack.id.replace(/^[^-]+-/, '')}`;
      byFinding.set(finding, new Set([...(byFinding.get(finding) ?? []), ack.reason]));
    }
    const packsPerFinding = [...byFinding.values()];
    expect(packsPerFinding.length).toBeGreaterThan(0);
    for (const [finding, reasons] of byFinding) expect({ finding, reasons: reasons.size }).toEqual({ finding, reasons: 1 });
  });

  it('acknowledges only rules that some pack reports in some configuration (no stale entry)', () => {
    const reported = new Set<string>();
    const configurations = [
      build(() => ({ acknowledgeNagFindings: false })).stack,
      build(() => ({ acknowledgeNagFindings: false, firewall: Firewall.disabled(), auditTrail: AuditTrail.disabled() })).stack,
      build((stack) => ({ acknowledgeNagFindings: false, tracing: true, vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }) })).stack,
    ];
    const cognitoStack = cognitoBuild();
    for (const stack of configurations) for (const finding of constructFindings(stack)) reported.add(finding.split(' ')[0]);
    // The Cognito stack keeps its acknowledgements; what it acknowledges must be what an unacknowledged pack reports there.
    for (const ack of acknowledgements(cognitoStack.mcp).filter((entry) => entry.path.endsWith('UpstreamClientSecret'))) reported.add(ack.id);
    for (const rule of acknowledgedNagRules()) expect({ rule, reported: reported.has(rule) }).toEqual({ rule, reported: true });
  });

  it('acknowledges nothing with acknowledgeNagFindings: false, so every pack reports every design fact', () => {
    const { mcp, stack } = build(() => ({ acknowledgeNagFindings: false }));
    expect(acknowledgements(mcp)).toEqual([]);
    const findings = rulesOf(constructFindings(stack));
    for (const rule of [...NAG_ACKNOWLEDGEMENTS.outsideVpc.rules, ...NAG_ACKNOWLEDGEMENTS.synchronousInvocation.rules, 'AwsSolutions-APIG4']) expect(findings).toContain(rule);
  });

  it('withholds exactly the named rules', () => {
    const { mcp, stack } = build(() => ({ withheldNagAcknowledgements: ['NIST.800.53.R5-LambdaInsideVPC'] }));
    const ids = new Set(acknowledgements(mcp).map((ack) => ack.id));
    expect(ids.has('NIST.800.53.R5-LambdaInsideVPC')).toBe(false);
    expect(ids.has('HIPAA.Security-LambdaInsideVPC')).toBe(true);
    const nist = constructFindings(stack, [NIST80053R5Checks]).filter((finding) => finding.startsWith('NIST.800.53.R5-LambdaInsideVPC'));
    expect(nist.map((finding) => finding.split(' ')[1]).sort()).toEqual(FUNCTIONS.map((name) => `TestStack/Mcp/${name}/Function`).sort());
  });

  it('refuses a rule id it does not acknowledge, listing those it does', () => {
    const message = errorFor(() => ({ withheldNagAcknowledgements: ['NIST.800.53.R5-LambdaInVPC'] }));
    expect(message).toContain('withheldNagAcknowledgements must hold rule ids the construct acknowledges (NAG_ACKNOWLEDGEMENTS: ');
    expect(message).toContain('NIST.800.53.R5-LambdaInsideVPC');
    expect(message).toContain('got "NIST.800.53.R5-LambdaInVPC"');
  });

  it('leaves in the HIPAA and PCI packs only the organisation choices the README lists', () => {
    const { stack } = build();
    const choices = (prefix: string) => rulesOf(constructFindings(stack)).filter((rule) => rule.startsWith(prefix));
    expect(choices('HIPAA.Security-')).toEqual([
      'HIPAA.Security-APIGWXrayEnabled',
      'HIPAA.Security-CloudWatchLogGroupEncrypted',
      'HIPAA.Security-DynamoDBInBackupPlan',
      'HIPAA.Security-IAMNoInlinePolicy',
      'HIPAA.Security-LambdaConcurrency',
      'HIPAA.Security-S3BucketReplicationEnabled',
      'HIPAA.Security-S3DefaultEncryptionKMS',
      'HIPAA.Security-SNSEncryptedKMS',
    ]);
    expect(choices('PCI.DSS.321-')).toEqual([
      'PCI.DSS.321-CloudWatchLogGroupEncrypted',
      'PCI.DSS.321-IAMNoInlinePolicy',
      'PCI.DSS.321-S3BucketReplicationEnabled',
      'PCI.DSS.321-S3DefaultEncryptionKMS',
      'PCI.DSS.321-SNSEncryptedKMS',
    ]);
  });
});
