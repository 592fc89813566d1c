import { App, Aws, CfnOutput, Duration, RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { Construct } from 'constructs';
import { join } from 'node:path';
import { IdentityProvider, NAG_ACKNOWLEDGEMENTS, nagAcknowledgementsFor, SecureMcpServer } from '../lib';

/**
 * The example deployment: the example MCP server (lambda/example-mcp, prebuilt into assets/example-mcp)
 * behind SecureMcpServer, with a Cognito user pool as the identity provider. It is the README quick
 * start grown up, and synthesizes offline: no context lookups, no account or Region needed.
 */
export class SecureMcpExampleStack extends Stack {
  public readonly mcp: SecureMcpServer;
  public readonly userPool: cognito.UserPool;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, { description: 'Example MCP server behind cdk-secure-mcp-server (OAuth 2.1, Cognito sign-in)', ...props });

    this.userPool = new cognito.UserPool(this, 'Users', {
      // Administrators invite users; nobody signs themselves up to an example.
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      // An example should leave nothing behind on `cdk destroy`.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    Validations.of(this.userPool).acknowledge({
      id: 'AwsSolutions-COG8',
      reason: 'The example uses the Essentials feature plan to stay free for small tests; production pools should weigh the Plus plan\'s threat protection',
    });
    // Cognito publishes an authorization endpoint only for pools with a domain. The account id keeps the prefix unique.
    this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: `secure-mcp-example-${Aws.ACCOUNT_ID}` } });
    // Members of this group may hold mcp:admin: the default entitlement reads Cognito's `cognito:groups` claim.
    new cognito.CfnUserPoolGroup(this, 'AdminsGroup', { userPoolId: this.userPool.userPoolId, groupName: 'admins', description: 'May use the admin_stats tool' });

    const mcpLogGroup = new logs.LogGroup(this, 'ExampleMcpLogGroup', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const mcpRole = new iam.Role(this, 'ExampleMcpRole', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    mcpLogGroup.grantWrite(mcpRole);
    const mcpFunction = new lambda.Function(this, 'ExampleMcpFunction', {
      description: 'Example MCP server (stateless Streamable HTTP) behind the runtime guard',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      code: lambda.Code.fromAsset(join(__dirname, '..', 'assets', 'example-mcp')),
      handler: 'index.handler',
      memorySize: 512,
      timeout: Duration.seconds(10),
      role: mcpRole,
      logGroup: mcpLogGroup,
    });
    // The same facts as the construct's own functions, with the same reasons in every pack (lib/acknowledgements.ts).
    Validations.of(mcpFunction).acknowledge(
      ...nagAcknowledgementsFor('synchronousInvocation'),
      ...NAG_ACKNOWLEDGEMENTS.outsideVpc.rules.map((id) => ({ id, reason: 'The example MCP server calls no private resource; a VPC would add NAT cost and no isolation' })),
    );

    this.mcp = new SecureMcpServer(this, 'Mcp', {
      handler: mcpFunction,
      identityProvider: IdentityProvider.cognito({ userPool: this.userPool }),
      // The example is meant to be torn down: tables, key and logs go with the stack.
      removalPolicy: RemovalPolicy.DESTROY,
      logRetention: logs.RetentionDays.ONE_MONTH,
      // A service account (client_credentials) for smoke checks and batch jobs: mcp:tools only.
      machineClients: [{ name: 'smoke', scopes: ['mcp:tools'] }],
    });

    new CfnOutput(this, 'McpUrl', { value: this.mcp.mcpUrl, description: 'Add this URL to your MCP client' });
    new CfnOutput(this, 'Issuer', { value: this.mcp.issuer });
    new CfnOutput(this, 'UserPoolId', { value: this.userPool.userPoolId, description: 'Invite users here (and add admins to the admins group)' });
    new CfnOutput(this, 'MachineClientSecretArn', { value: this.mcp.machineClients[0].secret.secretArn, description: 'The client secret of machine.smoke' });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.mcp.alarmTopic.topicArn, description: 'Subscribe to receive security alarms' });
  }
}

/**
 * The example app as `npx cdk synth` runs it (bin/app.ts): the stack, plus cdk-nag's AwsSolutions pack
 * as a Validations plugin, which fails the synth on any unacknowledged finding.
 */
export function configureExampleApp(app: App): SecureMcpExampleStack {
  const stack = new SecureMcpExampleStack(app, 'SecureMcpExample');
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return stack;
}
