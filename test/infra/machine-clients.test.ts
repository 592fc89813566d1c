import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { IdentityProvider, SecureMcpServer } from '../../lib';
import { actionsOf, buildStack, functionLogicalId, identityStatements, logicalIdOf, render, resourcesOfType, roleOf, templateOf, UPSTREAM_ISSUER } from '../support/stack';

/**
 * REV-01/REV-02: machine clients (client_credentials) exist only where the operator declares them on
 * the construct, each with a scope ceiling and a secret in Secrets Manager that only the token function reads.
 */

const environmentOf = (template: Template, functionId: string) => template.toJSON().Resources[functionId].Properties.Environment.Variables;

describe('REV-02 machine clients declared by the operator', () => {
  test('REV-02 each gets a generated secret (never in the template), readable by the token function only, and its ceiling in MACHINE_CLIENTS', () => {
    const { template, stack, mcp } = templateOf({ machineClients: [{ name: 'nightly-report', scopes: ['mcp:tools'] }, { name: 'ops', scopes: ['mcp:admin'], introspection: true }] });
    expect(mcp.machineClients.map((client) => client.clientId)).toEqual(['machine.nightly-report', 'machine.ops']);
    const secrets = resourcesOfType(template, 'AWS::SecretsManager::Secret');
    expect(Object.keys(secrets)).toHaveLength(2);
    for (const secret of Object.values(secrets)) {
      expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 48, ExcludePunctuation: true });
      expect(secret.Properties.SecretString).toBeUndefined();
    }
    const tokenId = functionLogicalId(stack, mcp, 'Token');
    const declared = JSON.parse(render(environmentOf(template, tokenId).MACHINE_CLIENTS));
    const secretIds = mcp.machineClients.map((client) => `{${logicalIdOf(stack, client.secret as secretsmanager.Secret)}}`);
    expect(declared).toEqual([
      { clientId: 'machine.nightly-report', secretId: secretIds[0], scopes: ['mcp:tools'], introspection: false },
      { clientId: 'machine.ops', secretId: secretIds[1], scopes: ['mcp:admin'], introspection: true },
    ]);
    // Only the token function's role may read the secrets.
    const readers = identityStatements(template)
      .filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue'))
      .filter(({ statement }) => secretIds.some((id) => render(statement.Resource).includes(id)));
    expect(readers.length).toBeGreaterThan(0);
    for (const { roles } of readers) expect(roles).toEqual([roleOf(template, tokenId)]);
    // The metadata function reads the list only to advertise client_credentials.
    expect(environmentOf(template, functionLogicalId(stack, mcp, 'Metadata')).MACHINE_CLIENTS).toEqual(environmentOf(template, tokenId).MACHINE_CLIENTS);
    for (const other of ['Authorize', 'Register', 'Authorizer']) {
      expect(environmentOf(template, functionLogicalId(stack, mcp, other)).MACHINE_CLIENTS).toBeUndefined();
    }
  });

  test('REV-01 by default there are none: no secret, no MACHINE_CLIENTS, so no token without a user', () => {
    const { template, stack, mcp } = templateOf();
    expect(mcp.machineClients).toEqual([]);
    expect(environmentOf(template, functionLogicalId(stack, mcp, 'Token')).MACHINE_CLIENTS).toBeUndefined();
    expect(environmentOf(template, functionLogicalId(stack, mcp, 'Metadata')).MACHINE_CLIENTS).toBeUndefined();
  });

  test('REV-02 a brought secret is used as is (no new secret) and granted to the token function', () => {
    const app = new App();
    const stack = new Stack(app, 'Brought');
    const secret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'BatchSecret', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/batch-AbCdEf');
    const mcp = new SecureMcpServer(stack, 'Mcp', {
      handler: new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') }),
      identityProvider: IdentityProvider.oidc({ issuerUrl: UPSTREAM_ISSUER, clientId: 'mcp-client', clientSecret: secret }),
      machineClients: [{ name: 'batch', scopes: ['mcp:tools'], secret }],
    });
    const template = Template.fromStack(stack);
    expect(mcp.machineClients[0].secret).toBe(secret);
    expect(Object.keys(resourcesOfType(template, 'AWS::SecretsManager::Secret'))).toHaveLength(0);
    const tokenRole = roleOf(template, functionLogicalId(stack, mcp, 'Token'));
    const grants = identityStatements(template).filter(({ statement }) => actionsOf(statement).includes('secretsmanager:GetSecretValue') && render(statement.Resource).includes('mcp/batch-AbCdEf'));
    expect(grants.flatMap(({ roles }) => roles)).toContain(tokenRole);
  });

  test('REV-02 a secret imported by name reaches the token function by name (a partial ARN is misread), one elsewhere without a complete ARN is refused', () => {
    const app = new App();
    const stack = new Stack(app, 'ByName', { env: { account: '111122223333', region: 'eu-west-1' } });
    const handler = new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') });
    const upstream = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Upstream', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/idp-AbCdEf');
    const mcp = new SecureMcpServer(stack, 'Mcp', {
      handler,
      identityProvider: IdentityProvider.oidc({ issuerUrl: UPSTREAM_ISSUER, clientId: 'mcp-client', clientSecret: upstream }),
      machineClients: [{ name: 'ci', scopes: ['mcp:tools'], secret: secretsmanager.Secret.fromSecretNameV2(stack, 'CiSecret', 'mcp/ci-runner') }],
    });
    const template = Template.fromStack(stack);
    const [declared] = JSON.parse(render(environmentOf(template, functionLogicalId(stack, mcp, 'Token')).MACHINE_CLIENTS));
    expect(declared.secretId).toBe('mcp/ci-runner');

    const elsewhere = new Stack(new App(), 'Elsewhere', { env: { account: '111122223333', region: 'eu-west-1' } });
    const build = () =>
      new SecureMcpServer(elsewhere, 'Mcp', {
        handler: new lambda.Function(elsewhere, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = async () => ({})') }),
        identityProvider: IdentityProvider.oidc({ issuerUrl: UPSTREAM_ISSUER, clientId: 'mcp-client', clientSecret: secretsmanager.Secret.fromSecretCompleteArn(elsewhere, 'Upstream', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:mcp/idp-AbCdEf') }),
        machineClients: [{ name: 'ci', scopes: ['mcp:tools'], secret: secretsmanager.Secret.fromSecretPartialArn(elsewhere, 'Ci', 'arn:aws:secretsmanager:us-east-1:444455556666:secret:mcp/ci-runner') }],
      });
    expect(build).toThrow(/the secret of machineClients "ci" arn:aws:secretsmanager:us-east-1:444455556666:secret:mcp\/ci-runner is in another account or Region.*fromSecretCompleteArn/);
  });

  test('REV-02 invalid declarations fail at synth with what, got and expected', () => {
    expect(() => buildStack({ machineClients: [{ name: 'Batch Job', scopes: ['mcp:tools'] }] })).toThrow(/machineClients name must be 1 to 64 lower-case letters.*got "Batch Job"/);
    expect(() => buildStack({ machineClients: [{ name: 'batch', scopes: ['mcp:tools'] }, { name: 'batch', scopes: ['mcp:tools'] }] })).toThrow(/names must be unique, got "batch" twice/);
    expect(() => buildStack({ machineClients: [{ name: 'batch', scopes: [] }] })).toThrow(/needs at least one scope/);
    expect(() => buildStack({ machineClients: [{ name: 'batch', scopes: ['mcp:tools', 'offline_access', 'root'] }] })).toThrow(/scopes must be scopes of this server \(mcp:tools, mcp:admin\), got "offline_access", "root"/);
  });
});
