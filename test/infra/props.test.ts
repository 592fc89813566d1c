import { randomBytes } from 'node:crypto';
import { App, Annotations as CdkAnnotations, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { AuditTrail, Firewall, IdentityProvider, ISSUER_PATH_WARNING, SecureMcpServer, SecureMcpServerProps, SigningAlgorithm } from '../../lib';
import { actionsOf, buildStack, functionLogicalId, identityStatements, logicalIdOf, PolicyStatementJson, render, resourcesOfType, roleOf } from '../support/stack';

/** Builds a stack with the props; returns the thrown message (or fails when nothing is thrown). */
function errorFor(props: Partial<SecureMcpServerProps>): string {
  try {
    buildStack(props);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the props to be refused');
}

describe('invalid props fail at synth with what, got and expected', () => {
  it.each<[string, Partial<SecureMcpServerProps>, string]>([
    ['access token lifetime too long', { accessTokenTtl: Duration.hours(2) }, 'accessTokenTtl must be between 5 and 30 minutes, got 2 hours'],
    ['access token lifetime too short', { accessTokenTtl: Duration.minutes(4) }, 'accessTokenTtl must be between 5 and 30 minutes, got 4 minutes'],
    ['sign-in session longer than a day', { signInSessionTtl: Duration.days(2) }, 'signInSessionTtl must be between 0 seconds and 1 day, got 2 days'],
    ['fractional seconds', { accessTokenTtl: Duration.millis(600_500) }, 'accessTokenTtl must be a whole number of seconds, got 10 minutes 500 millis'],
    ['refresh lifetime too long', { refreshTokenTtl: Duration.days(400) }, 'refreshTokenTtl must be between 1 hour and 365 days, got 400 days'],
    ['idle lifetime beyond the absolute one', { refreshTokenTtl: Duration.days(2), refreshTokenIdleTtl: Duration.days(3) }, 'refreshTokenIdleTtl must not exceed refreshTokenTtl (2 days), got 3 days'],
    ['authorizer cache above 5 minutes', { authorizerCacheTtl: Duration.minutes(10) }, 'authorizerCacheTtl must be between 0 and 300 seconds, got 10 minutes'],
    ['unused-client lifetime too short', { unusedClientTtl: Duration.minutes(1) }, 'unusedClientTtl must be between 10 minutes and 365 days, got 1 minute'],
    ['stage name with a space', { stageName: 'my stage' }, 'stageName must be 1 to 128 letters, digits, hyphens or underscores, got "my stage"'],
    [
      'no default scope',
      { scopes: [{ name: 'files:read', description: 'Read files' }] },
      'the scope model is invalid: at least one scope must be marked isDefault',
    ],
    [
      'a tool needing an undeclared scope',
      { scopes: [{ name: 'files:read', description: 'Read files', isDefault: true }], toolScopes: { delete_file: ['files:write'] } },
      'the scope model is invalid: tool delete_file refers to undeclared scope files:write',
    ],
    ['an origin with a path', { allowedOrigins: ['https://app.example.com/'] }, 'allowedOrigins must hold origins like https://app.example.com (no path, no trailing slash, lower case), got "https://app.example.com/"'],
    ['a redirect host given as URL', { allowedRedirectHosts: ['https://app.example.com'] }, 'allowedRedirectHosts must hold lower-case host names like app.example.com, got "https://app.example.com"'],
    ['a dotted private-use scheme', { extraRedirectSchemes: ['com.example.app'] }, 'extraRedirectSchemes must hold dotless lower-case URI schemes like cursor, got "com.example.app"'],
    ['a zero registration cap', { maxRegistrationsPerDay: 0 }, 'maxRegistrationsPerDay must be a whole number between 1 and 10000000, got 0'],
    ['zero reserved concurrency', { tokenReservedConcurrency: 0 }, 'tokenReservedConcurrency must be a whole number between 1 and 1000, got 0'],
    ['a reservation that reservation is off for', { reserveConcurrency: false, registerReservedConcurrency: 3 }, 'registerReservedConcurrency has no effect with reserveConcurrency: false, got 3'],
    ['a negative MCP rate', { mcpThrottling: { rateLimit: -1 } }, 'mcpThrottling.rateLimit must be above 0 and at most 10000 requests per second, got -1'],
    [
      'a global (CloudFront) web ACL',
      { firewall: Firewall.fromWebAclArn('arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0123') },
      'Firewall.fromWebAclArn needs a regional WAFv2 web ACL ARN (arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>), got "arn:aws:wafv2:us-east-1:123456789012:global/webacl/edge/0123"',
    ],
    ['a WAF rate limit below its minimum', { firewall: Firewall.managed({ registrationRateLimit: 5 }) }, 'Firewall.managed registrationRateLimit must be a whole number between 10 and 2000000000, got 5'],
    [
      'a firewall of its own class (the kinds are the static methods)',
      {
        firewall: new (class extends Firewall {
          constructor() {
            super();
          }
          _problems = () => [];
          _bind = () => ({});
        })(),
      },
      'firewall must come from Firewall.managed(), Firewall.fromWebAclArn() or Firewall.disabled(), got an object of another class',
    ],
    [
      'an audit trail of its own class',
      {
        auditTrail: new (class extends AuditTrail {
          constructor() {
            super();
          }
          _bind = () => ({});
        })(),
      },
      'auditTrail must come from AuditTrail.create(), AuditTrail.existing() or AuditTrail.disabled(), got an object of another class',
    ],
    [
      'a TLS 1.0 custom domain',
      { domainName: { domainName: 'mcp.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'), securityPolicy: apigateway.SecurityPolicy.TLS_1_0 } },
      'domainName.securityPolicy must be TLS 1.2 or later, got TLS_1_0',
    ],
    [
      'a base path with a leading slash',
      { domainName: { domainName: 'mcp.example.com', certificate: acm.Certificate.fromCertificateArn(new Stack(), 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc'), basePath: '/v1' } },
      `domainName.basePath must be path segments of letters, digits, '.', '_' or '-' without leading or trailing '/', got "/v1"`,
    ],
  ])('%s', (_name, props, message) => {
    const error = errorFor(props);
    expect(error).toContain('Invalid SecureMcpServer props at TestStack/Mcp:');
    expect(error).toContain(`  - ${message}`);
  });

  it('reports every problem at once', () => {
    const error = errorFor({ accessTokenTtl: Duration.hours(2), stageName: 'a b', maxRegistrationsPerDay: -3 });
    expect(error.split('\n').filter((line) => line.startsWith('  - '))).toHaveLength(3);
  });

  it('refuses a scope model too large for a Lambda environment, even compressed', () => {
    // Random text does not compress: a repeated character would, and then fit.
    const description = randomBytes(2300).toString('base64');
    expect(errorFor({ scopes: [{ name: 'mcp:tools', description, isDefault: true }] })).toMatch(/the authorize function's environment would take about \d+ bytes, over Lambda's 4096-byte limit/);
  });

  it('refuses a brought signing key of the wrong kind', () => {
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const symmetric = new kms.Key(stack, 'Symmetric');
    expect(() => buildStackWith(stack, { signingKey: symmetric, signingAlgorithm: SigningAlgorithm.ES256 })).toThrow(
      'signingKey must be a SIGN_VERIFY key with key spec ECC_NIST_P256 for ES256, got ENCRYPT_DECRYPT SYMMETRIC_DEFAULT',
    );
  });

  it('refuses a brought table without the pk partition key and ttl attribute', () => {
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const table = new dynamodb.Table(stack, 'Clients', { partitionKey: { name: 'id', type: dynamodb.AttributeType.NUMBER }, sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING } });
    const message = captureError(() => buildStackWith(stack, { clientsTable: table }));
    expect(message).toContain('clientsTable must have the string partition key "pk" and no sort key, got "id" (N) and sort key "sk"');
    expect(message).toContain('clientsTable must have TTL enabled on the "ttl" attribute, got no TTL');
  });

  it('refuses stageName together with a brought REST API', () => {
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const restApi = new apigateway.RestApi(stack, 'Existing');
    expect(captureError(() => buildStackWith(stack, { restApi, stageName: 'v2' }))).toContain('stageName must not be set with restApi: the stage is restApi.deploymentStage ("prod"), got "v2"');
  });

  it('refuses an http upstream issuer', () => {
    const stack = new Stack();
    const clientSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'Secret', 'x');
    expect(() => IdentityProvider.oidc({ issuerUrl: 'http://login.example.com', clientId: 'abc', clientSecret })).toThrow(
      'Invalid IdentityProvider.oidc props: issuerUrl must be an https URL without query or fragment, got "http://login.example.com"',
    );
  });
});

function captureError(action: () => void): string {
  try {
    action();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

/** The construct in a given stack (for props that need other resources of that stack). */
function buildStackWith(stack: Stack, props: Partial<SecureMcpServerProps>): SecureMcpServer {
  const handler = new lambda.Function(stack, 'McpHandler', {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200 });'),
  });
  const clientSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'UpstreamSecret', 'mcp/upstream-client-secret');
  return new SecureMcpServer(stack, 'Mcp', {
    handler,
    identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'mcp-client', clientSecret }),
    ...props,
  });
}

function environment(template: Template, stack: Stack, mcp: SecureMcpServer, constructId: string): Record<string, string> {
  const variables = template.toJSON().Resources[functionLogicalId(stack, mcp, constructId)].Properties.Environment.Variables as Record<string, unknown>;
  return Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, render(value)]));
}

describe('a construct with every optional prop of its own resources changed', () => {
  const app = new App();
  const stack = new Stack(app, 'TestStack');
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc');
  const previousKey = kms.Key.fromKeyArn(stack, 'OldKey', 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555');
  const topic = new sns.Topic(stack, 'Pager', { enforceSSL: true });
  const mcp = buildStackWith(stack, {
    signingAlgorithm: SigningAlgorithm.ES256,
    previousSigningKeys: [previousKey],
    authorizerCacheTtl: Duration.minutes(5),
    accessTokenTtl: Duration.minutes(5),
    domainName: { domainName: 'mcp.example.com', certificate, basePath: 'v1' },
    removalPolicy: RemovalPolicy.DESTROY,
    reserveConcurrency: false,
    alarmTopic: topic,
    allowedOrigins: ['https://app.example.com'],
    allowedRedirectHosts: ['app.example.com'],
    extraRedirectSchemes: ['cursor'],
    maxRegistrationsPerDay: 500,
    clientIdMetadataDocuments: false,
    rememberConsentFor: Duration.seconds(0), signInSessionTtl: Duration.seconds(0),
    scopes: [
      { name: 'files:read', description: 'Read files', isDefault: true },
      { name: 'files:write', description: 'Write files', implies: ['files:read'] },
    ],
    toolScopes: { write_file: ['files:write'] },
    mcpThrottling: { rateLimit: 10, burstLimit: 20 },
  });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
  mcp.grantReadPublicKeys(reader);
  mcp.grantReadRegisteredClients(reader);
  const template = Template.fromStack(stack);
  const resources = template.toJSON().Resources as Record<string, { Properties: Record<string, any>; DeletionPolicy?: string }>;
  const env = (id: string) => environment(template, stack, mcp, id);

  it('uses the custom domain and base path as issuer, disables the execute-api endpoint and maps the stage', () => {
    expect(mcp.issuer).toBe('https://mcp.example.com/v1');
    expect(mcp.mcpUrl).toBe('https://mcp.example.com/v1/mcp');
    expect(env('Token').ISSUER).toBe('https://mcp.example.com/v1');
    expect(env('Authorizer').JWKS_URI).toBe('https://mcp.example.com/v1/jwks.json');
    template.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    template.hasResourceProperties('AWS::ApiGateway::DomainName', { DomainName: 'mcp.example.com', SecurityPolicy: 'TLS_1_2' });
    template.hasResourceProperties('AWS::ApiGateway::BasePathMapping', { BasePath: 'v1' });
    const unauthorized = Object.values(resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse')).find((r) => r.Properties.ResponseType === 'UNAUTHORIZED')!;
    expect(unauthorized.Properties.ResponseParameters['gatewayresponse.header.WWW-Authenticate']).toBe(
      `'Bearer resource_metadata="https://mcp.example.com/v1/.well-known/oauth-protected-resource/mcp", scope="files:read"'`,
    );
  });

  it('scopes the WAF rate limits to the base path', () => {
    const rules = Object.values(resourcesOfType(template, 'AWS::WAFv2::WebACL'))[0].Properties.Rules as any[];
    expect(rules.find((rule) => rule.Name === 'RegisterRateLimit').Statement.RateBasedStatement.ScopeDownStatement.ByteMatchStatement.SearchString).toBe('/v1/register');
  });

  it('signs ES256 with an ECC_NIST_P256 key and conditions kms:Sign on ECDSA_SHA_256', () => {
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
    const sign = identityStatements(template).find(({ statement }) => actionsOf(statement).includes('kms:Sign'))!;
    expect(sign.statement.Condition).toEqual({ StringEquals: { 'kms:SigningAlgorithm': 'ECDSA_SHA_256' } });
    expect(env('Token').SIGNING_ALGORITHM).toBe('ES256');
    expect(env('Authorizer').SIGNING_ALGORITHM).toBe('ES256');
  });

  it('publishes the previous key and lets metadata and token read its public key', () => {
    expect(env('Metadata').PREVIOUS_SIGNING_KEY_ARNS).toBe(previousKey.keyArn);
    // The authorizer does not read it: the value changes its configuration when the key set changes, so containers reload the JWKS.
    expect(env('Authorizer').PREVIOUS_SIGNING_KEY_ARNS).toBe(previousKey.keyArn);
    expect(env('Token').PREVIOUS_SIGNING_KEY_ARNS).toBe(previousKey.keyArn);
    for (const id of ['Metadata', 'Token']) {
      const role = roleOf(template, functionLogicalId(stack, mcp, id));
      const statement = identityStatements(template).find(({ roles, statement: s }) => roles.includes(role) && actionsOf(s).includes('kms:GetPublicKey'))!.statement;
      expect((statement.Resource as unknown[]).map(render)).toContain(previousKey.keyArn);
    }
  });

  it('caches authorizer decisions keyed on the Authorization header when a TTL is set, and tells the authorizer', () => {
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { AuthorizerResultTtlInSeconds: 300, IdentitySource: 'method.request.header.Authorization' });
    expect(JSON.parse(env('Authorizer').PROTECTED_RESOURCES).servers[0].authorizerCacheTtlSeconds).toBe(300);
  });

  it('destroys tables, key and log groups with the stack but keeps the audit trail bucket and key', () => {
    for (const table of Object.values(mcp.tables)) {
      const id = logicalIdOf(stack, table);
      expect(resources[id].DeletionPolicy).toBe('Delete');
      expect(resources[id].Properties.DeletionProtectionEnabled).toBe(false);
    }
    expect(resources[logicalIdOf(stack, mcp.signingKey)].DeletionPolicy).toBe('Delete');
    expect(resources[logicalIdOf(stack, mcp.trailBucket!)].DeletionPolicy).toBe('Retain');
    expect(resources[logicalIdOf(stack, mcp.trailKey!)].DeletionPolicy).toBe('Retain');
  });

  it('grants public-key reads through the key policy and client reads on the clients table only', () => {
    const readerId = logicalIdOf(stack, reader);
    const statements = identityStatements(template).filter(({ roles }) => roles.includes(readerId)).map(({ statement }) => statement);
    const publicKey = statements.find((statement) => actionsOf(statement).includes('kms:GetPublicKey'))!;
    expect((publicKey.Resource as unknown[]).map(render).sort()).toEqual([`{${logicalIdOf(stack, mcp.signingKey)}.Arn}`, previousKey.keyArn].sort());
    const keyPolicy = resources[logicalIdOf(stack, mcp.signingKey)].Properties.KeyPolicy.Statement as PolicyStatementJson[];
    expect(keyPolicy).toContainEqual(
      expect.objectContaining({ Action: 'kms:GetPublicKey', Condition: { ArnEquals: { 'aws:PrincipalArn': { 'Fn::GetAtt': [readerId, 'Arn'] } } } }),
    );
    const tableRead = statements.find((statement) => actionsOf(statement).some((action) => action.startsWith('dynamodb:')))!;
    expect(actionsOf(tableRead).every((action) => /^dynamodb:(GetItem|Query|Scan|DescribeTable)$/.test(action))).toBe(true);
    expect(render([tableRead.Resource].flat()[0])).toBe(`{${logicalIdOf(stack, mcp.clientsTable)}.Arn}`);
  });

  it('reserves no concurrency when asked not to', () => {
    for (const fn of Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))) expect(fn.Properties.ReservedConcurrentExecutions).toBeUndefined();
  });

  it('sends alarms to the given topic and creates none of its own', () => {
    template.resourceCountIs('AWS::SNS::Topic', 1);
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: logicalIdOf(stack, topic) }]);
  });

  it('passes registration policy, consent, CIMD and scope settings to the functions that read them', () => {
    expect(env('Register')).toMatchObject({ ALLOWED_REDIRECT_HOSTS: 'app.example.com', EXTRA_REDIRECT_SCHEMES: 'cursor', MAX_REGISTRATIONS_PER_DAY: '500' });
    expect(env('Authorize')).toMatchObject({ ALLOWED_REDIRECT_HOSTS: 'app.example.com', CIMD_ENABLED: 'false', CONSENT_TTL_SECONDS: '0', SIGN_IN_SESSION_TTL_SECONDS: '0' });
    expect(env('Metadata').CIMD_ENABLED).toBe('false');
    // The token endpoint too: a refresh token of a metadata-document client stops working once they are off.
    expect(env('Token').CIMD_ENABLED).toBe('false');
    expect(JSON.parse(env('Token').PROTECTED_RESOURCES).servers[0].scopeModel).toEqual({
      scopes: [
        { name: 'files:read', description: 'Read files', isDefault: true },
        { name: 'files:write', description: 'Write files', implies: ['files:read'] },
      ],
      toolScopes: { write_file: ['files:write'] },
      entitlements: [],
    });
    expect(env('Token').ACCESS_TOKEN_TTL_SECONDS).toBe('300');
  });

  it('gives the MCP function the allowed origins for the runtime guard', () => {
    const handler = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).find(([id]) => id.startsWith('McpHandler'))![1];
    expect(handler.Properties.Environment.Variables.MCP_ALLOWED_ORIGINS).toBe('https://app.example.com');
    expect(mcp.mcpFunctionEnvironment.MCP_ALLOWED_ORIGINS).toBe('https://app.example.com');
  });

  it('throttles POST /mcp as configured', () => {
    const stage = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'))[0];
    expect(stage.Properties.MethodSettings).toContainEqual(expect.objectContaining({ ResourcePath: '/~1mcp', HttpMethod: 'POST', ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 }));
  });
});

describe('a construct on brought resources', () => {
  const app = new App();
  const stack = new Stack(app, 'TestStack');
  const restApi = new apigateway.RestApi(stack, 'ExistingApi', { deployOptions: { stageName: 'live', throttlingRateLimit: 5, throttlingBurstLimit: 10 } });
  restApi.root.addResource('health').addMethod('GET', new apigateway.MockIntegration({ integrationResponses: [{ statusCode: '200' }] }), { methodResponses: [{ statusCode: '200' }] });
  const signingKey = kms.Key.fromKeyArn(stack, 'BroughtKey', 'arn:aws:kms:eu-west-1:123456789012:key/99999999-2222-3333-4444-555555555555');
  const clients = dynamodb.Table.fromTableName(stack, 'BroughtClients', 'existing-clients');
  const webAclArn = 'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/shared/0123';
  const existingTrail = { trailRef: { trailArn: 'arn:aws:cloudtrail:eu-west-1:123456789012:trail/org', trailName: 'org' } } as never;
  const mcp = buildStackWith(stack, { restApi, signingKey, clientsTable: clients, firewall: Firewall.fromWebAclArn(webAclArn), auditTrail: AuditTrail.existing(existingTrail) });
  const template = Template.fromStack(stack);
  const env = (id: string) => environment(template, stack, mcp, id);

  it('adds the routes to the brought API and builds the issuer from its stage', () => {
    template.resourceCountIs('AWS::ApiGateway::RestApi', 1);
    expect(mcp.restApi).toBe(restApi);
    expect(env('Token').ISSUER).toBe(`https://{${logicalIdOf(stack, restApi)}}.execute-api.{AWS::Region}.{AWS::URLSuffix}/live`);
    expect(mcp.accessLogGroup).toBeUndefined();
  });

  it('keeps the stage settings and appends per-method throttling', () => {
    const stage = Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'))[0];
    const settings = stage.Properties.MethodSettings as Record<string, unknown>[];
    expect(settings[0]).toMatchObject({ ResourcePath: '/*', HttpMethod: '*', ThrottlingRateLimit: 5 });
    expect(settings).toContainEqual(expect.objectContaining({ ResourcePath: '/~1register', HttpMethod: 'POST', ThrottlingRateLimit: 1 }));
  });

  it('uses the brought key and table without creating its own', () => {
    expect(env('Token').SIGNING_KEY_ARN).toBe(signingKey.keyArn);
    expect(env('Token').CLIENTS_TABLE).toBe('existing-clients');
    template.resourceCountIs('AWS::KMS::Key', 0);
    template.resourceCountIs('AWS::DynamoDB::Table', 4);
    const sign = identityStatements(template).find(({ statement }) => actionsOf(statement).includes('kms:Sign'))!.statement as PolicyStatementJson;
    expect(render(sign.Resource)).toBe(signingKey.keyArn);
  });

  it('associates the brought web ACL and creates no firewall of its own', () => {
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.hasResourceProperties('AWS::WAFv2::WebACLAssociation', { WebACLArn: webAclArn });
    expect(Object.keys(mcp.alarms)).not.toContain('WafBlockedRequestsAlarm');
  });

  it('creates no trail when an existing one records the activity', () => {
    template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    expect(mcp.existingTrail).toBe(existingTrail);
    expect(Object.keys(mcp.alarms)).not.toContain('KmsKeyStateChangeAlarm');
  });
});

describe('an MCP handler the construct cannot configure', () => {
  it('leaves the function alone and says which variables to set', () => {
    const app = new App();
    const stack = new Stack(app, 'TestStack');
    const handler = lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:team-mcp');
    const clientSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'UpstreamSecret', 'x');
    const mcp = new SecureMcpServer(stack, 'Mcp', {
      handler,
      identityProvider: IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'c', clientSecret }),
      firewall: Firewall.disabled(),
      auditTrail: AuditTrail.disabled(),
    });
    expect(Object.keys(mcp.mcpFunctionEnvironment).sort()).toEqual(['ISSUER', 'SCOPE_MODEL']);
    Annotations.fromStack(stack).hasWarning('/TestStack/Mcp', Match.stringLikeRegexp('set ISSUER, SCOPE_MODEL on it from SecureMcpServer.mcpFunctionEnvironment'));
  });
});

describe('root well-known URLs (RFC 8414 §3.1, RFC 9728 §3.1)', () => {
  const certificate = (stack: Stack) => acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc');
  const warningsOf = (stack: Stack) => Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('has a path'));

  it('warns at synth, with a documented id, when the issuer has a path: the default stage URL', () => {
    const { stack } = buildStack();
    const warnings = warningsOf(stack);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].entry.data).toContain(`[ack: ${ISSUER_PATH_WARNING}]`);
    expect(warnings[0].entry.data).toContain('domainName without basePath');
  });

  it('warns for a custom domain with a base path, and not for one without (the recommended setup)', () => {
    const app = new App();
    const withPath = new Stack(app, 'WithPath');
    buildStackWith(withPath, { domainName: { domainName: 'mcp.example.com', certificate: certificate(withPath), basePath: 'v1' } });
    expect(warningsOf(withPath)).toHaveLength(1);
    expect(warningsOf(withPath)[0].entry.data).toContain('https://mcp.example.com/v1');
    const atRoot = new Stack(app, 'AtRoot');
    const mcp = buildStackWith(atRoot, { domainName: { domainName: 'mcp.example.com', certificate: certificate(atRoot) } });
    expect(mcp.issuer).toBe('https://mcp.example.com');
    expect(warningsOf(atRoot)).toHaveLength(0);
  });

  it('the warning can be acknowledged by its id', () => {
    const { stack, mcp } = buildStack();
    CdkAnnotations.of(mcp).acknowledgeWarning(ISSUER_PATH_WARNING, 'only clients that read the 401 challenge are used here');
    expect(warningsOf(stack)).toHaveLength(0);
  });
});
