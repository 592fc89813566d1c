import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IdentityProvider, SecureMcpServer, SecureMcpServerProps } from '../../lib';
import { actionsOf, buildStack, functionLogicalId, identityStatements, render, resourcesOfType, roleOf } from './support';

/**
 * The construct as platform teams compose it (issue 12): props both ways, brought resources, several
 * stacks and several instances of one app. Every case synthesizes; none needs an AWS account.
 */

function errorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the synth to be refused');
}

describe('INFRA-12.1 the cloudWatchRole prop', () => {
  it.each<[string, Partial<SecureMcpServerProps>, number]>([
    ['creates the account role and setting by default', {}, 1],
    ['creates them when true', { cloudWatchRole: true }, 1],
    ['creates neither when false, and still synthesizes', { cloudWatchRole: false }, 0],
  ])('%s', (_, props, count) => {
    const template = Template.fromStack(buildStack(props).stack);
    template.resourceCountIs('AWS::ApiGateway::Account', count);
    const roles = Object.values(resourcesOfType(template, 'AWS::IAM::Role')).filter((role) =>
      JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('apigateway.amazonaws.com'),
    );
    expect(roles).toHaveLength(count);
    for (const account of Object.values(template.findResources('AWS::ApiGateway::Account'))) expect(account.DeletionPolicy).toBe('Retain');
  });
});

describe('INFRA-12.2 the upstream client secret is found and readable however it was imported', () => {
  const secretRead = (template: Template, authorizeRole: string) =>
    identityStatements(template).find(({ roles, statement }) => roles.includes(authorizeRole) && actionsOf(statement).includes('secretsmanager:GetSecretValue'))!.statement;
  const globMatches = (pattern: string, value: string) =>
    new RegExp(`^${pattern.replace(/[.*+^${}()|[\]\\/]/g, (c) => (c === '*' ? '.*' : `\\${c}`)).replace(/\?/g, '.')}$`).test(value);

  function authorizeSide(secret: (stack: Stack) => secretsmanager.ISecret) {
    const app = new App();
    const stack = new Stack(app, 'TestStack', { env: { account: '123456789012', region: 'eu-west-1' } });
    const handler = new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = 1') });
    const mcp = new SecureMcpServer(stack, 'Mcp', {
      handler,
      identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'c', clientSecret: secret(stack) }),
    });
    const template = Template.fromStack(stack);
    const authorize = functionLogicalId(stack, mcp, 'Authorize');
    const env = template.toJSON().Resources[authorize].Properties.Environment.Variables;
    return { secretId: render(env.UPSTREAM_CLIENT_SECRET_ARN), granted: [secretRead(template, roleOf(template, authorize)).Resource].flat().map(render) };
  }

  it('reads a secret imported by a name ending in -<6 characters> by that name, which the -?????? grant covers', () => {
    const { secretId, granted } = authorizeSide((stack) => secretsmanager.Secret.fromSecretNameV2(stack, 'IdpSecret', 'mcp/idp-client-secret'));
    // A partial ARN of this name would be read as `mcp/idp-client` + suffix `secret`, and not found.
    expect(secretId).toBe('mcp/idp-client-secret');
    expect(granted).toEqual(['arn:{AWS::Partition}:secretsmanager:eu-west-1:123456789012:secret:mcp/idp-client-secret-??????']);
    const inAws = granted[0].replace('{AWS::Partition}', 'aws');
    expect(globMatches(inAws, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/idp-client-secret-AbCdEf')).toBe(true);
    expect(globMatches(inAws, 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/idp-client-AbCdEf')).toBe(false);
  });

  it('reads a secret imported by complete ARN (the README quick start) by that ARN, and grants exactly it', () => {
    const arn = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:mcp/idp-client-secret-AbCdEf';
    const { secretId, granted } = authorizeSide((stack) => secretsmanager.Secret.fromSecretCompleteArn(stack, 'IdpSecret', arn));
    expect(secretId).toBe(arn);
    expect(granted).toEqual([arn]);
  });

  it('refuses at synth a partial ARN in another account, which no name lookup can find, and names the fix', () => {
    const message = errorOf(() =>
      authorizeSide((stack) => secretsmanager.Secret.fromSecretPartialArn(stack, 'IdpSecret', 'arn:aws:secretsmanager:eu-west-1:999999999999:secret:mcp/idp-client-secret')),
    );
    expect(message).toContain('the upstream client secret arn:aws:secretsmanager:eu-west-1:999999999999:secret:mcp/idp-client-secret is in another account or Region and has no complete ARN');
    expect(message).toContain('secretsmanager.Secret.fromSecretCompleteArn');
  });
});
