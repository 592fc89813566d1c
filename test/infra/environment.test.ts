import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AUTHORIZER_ENV, ENV, GUARD_ENV } from '../../lib/environment';
import { AUTHORIZATION_SERVER_FUNCTIONS, FUNCTION_ENVIRONMENTS, functionEnvironment, functionEnvironmentProblems } from '../../lib/functions';
import { IdentityProvider, SecureMcpServer } from '../../lib';
import { UPSTREAM_ISSUER, UPSTREAM_SECRET_ARN } from '../support/stack';

/** The construct and the handlers share one list of variable names (lib/environment.ts). */
describe('the environment contract between the construct and the handlers', () => {
  it('does not collide with the authorizer and guard variables defined with them', () => {
    const names = [...Object.values(ENV), ...Object.values(AUTHORIZER_ENV), ...Object.values(GUARD_ENV)];
    expect(new Set(names).size).toBe(names.length);
  });

  it('names, per function, only variables the contract defines, none twice', () => {
    const defined = new Set<string>([...Object.values(ENV), ...Object.values(AUTHORIZER_ENV)]);
    for (const name of AUTHORIZATION_SERVER_FUNCTIONS) {
      const { required, optional } = FUNCTION_ENVIRONMENTS[name];
      const all: string[] = [...required, ...optional];
      expect(all.filter((variable) => !defined.has(variable))).toEqual([]);
      expect(new Set(all).size).toBe(all.length);
    }
  });

  it('gives a function exactly the variables of its spec (functionEnvironment)', () => {
    const everything = Object.fromEntries([...Object.values(ENV), ...Object.values(AUTHORIZER_ENV), ...Object.values(GUARD_ENV)].map((name) => [name, 'x']));
    for (const name of AUTHORIZATION_SERVER_FUNCTIONS) {
      const { required, optional } = FUNCTION_ENVIRONMENTS[name];
      expect(Object.keys(functionEnvironment(name, everything)).sort()).toEqual([...required, ...optional].sort());
      expect(functionEnvironmentProblems(name, functionEnvironment(name, everything))).toEqual([]);
    }
    expect(functionEnvironmentProblems('register', { [ENV.issuer]: 'x', [ENV.signingKeyArn]: 'y' })).toEqual([
      `register needs ${ENV.protectedResources}`,
      `register needs ${ENV.clientsTable}`,
      `register needs ${ENV.unusedClientTtl}`,
      `register does not read ${ENV.signingKeyArn}`,
    ]);
  });

  // What the construct sets, with the defaults and with every optional setting: each function's
  // environment is exactly what its spec allows, so a handler never reads a variable it is not given.
  it.each([
    ['the defaults', false],
    ['every optional setting', true],
  ])('is what each function of the construct gets, with %s', (_label, everyOption) => {
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const handler = new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = 1') });
    const clientSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'UpstreamSecret', UPSTREAM_SECRET_ARN);
    const mcp = new SecureMcpServer(stack, 'Mcp', {
      handler,
      identityProvider: IdentityProvider.oidc({ issuerUrl: UPSTREAM_ISSUER, clientId: 'mcp-client', clientSecret }),
      ...(everyOption
        ? {
            previousSigningKeys: [new kms.Key(stack, 'Old', { keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY })],
            machineClients: [{ name: 'batch', scopes: ['mcp:tools'] }],
            allowedRedirectHosts: ['app.example.com'],
            extraRedirectSchemes: ['cursor'],
            maxRegistrationsPerDay: 100,
            authorizerCacheTtl: Duration.seconds(60),
            clientIdMetadataDocuments: false,
          }
        : {}),
    });
    const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, { Type: string; Properties: { Environment?: { Variables?: Record<string, unknown> } } }> };
    const functions = { metadata: mcp.metadataFunction, register: mcp.registerFunction, token: mcp.tokenFunction, authorize: mcp.authorizeFunction, authorizer: mcp.authorizerFunction };
    const seen: Record<string, string[]> = {};
    for (const name of AUTHORIZATION_SERVER_FUNCTIONS) {
      const variables = template.Resources[stack.getLogicalId(functions[name].node.defaultChild as lambda.CfnFunction)].Properties.Environment?.Variables ?? {};
      expect(functionEnvironmentProblems(name, variables)).toEqual([]);
      seen[name] = Object.keys(variables);
    }
    // The optional variables are really set when configured (so the check above saw them).
    const optionalSet = { token: [ENV.previousSigningKeyArns, ENV.machineClients], register: [ENV.allowedRedirectHosts, ENV.extraRedirectSchemes, ENV.maxRegistrationsPerDay] };
    for (const [name, variables] of Object.entries(optionalSet)) {
      for (const variable of variables) expect(seen[name].includes(variable)).toBe(everyOption);
    }
  });
});
