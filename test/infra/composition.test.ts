import { App, CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { IConstruct } from 'constructs';
import { AuditTrail, IdentityProvider, SecureMcpServer, SecureMcpServerProps } from '../../lib';
import { ROUTES } from '../../lib/routes';
import { OAUTH_FLOW_PATHS } from '../../lib/private/firewall';
import { actionsOf, buildStack, functionLogicalId, identityStatements, render, resourcesOfType, roleOf, templateOf, UPSTREAM_SECRET_ARN } from '../support/stack';

/**
 * The construct as platform teams compose it: props both ways, brought resources, several
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

describe('the cloudWatchRole prop', () => {
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

describe('the upstream client secret is found and readable however it was imported', () => {
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

describe('the managed web ACL lets loopback redirect URIs through the OAuth endpoints only', () => {
  const { template } = templateOf();
  const rules = Object.values(resourcesOfType(template, 'AWS::WAFv2::WebACL'))[0].Properties.Rules as any[];
  const common = rules.find((rule) => rule.Name === 'AWSManagedRulesCommonRuleSet');
  const reblock = rules.find((rule) => rule.Name === 'CommonRuleSetOutsideOAuthPaths');

  /** WAF's evaluation of the statements the re-block rule uses, on a request the Common group has already labelled. */
  function matches(statement: any, request: { path: string; labels: string[] }): boolean {
    if (statement.AndStatement) return statement.AndStatement.Statements.every((s: any) => matches(s, request));
    if (statement.OrStatement) return statement.OrStatement.Statements.some((s: any) => matches(s, request));
    if (statement.NotStatement) return !matches(statement.NotStatement.Statement, request);
    if (statement.LabelMatchStatement) return request.labels.includes(statement.LabelMatchStatement.Key);
    if (statement.ByteMatchStatement) {
      const byteMatch = statement.ByteMatchStatement;
      expect(byteMatch).toMatchObject({ FieldToMatch: { UriPath: {} }, PositionalConstraint: 'STARTS_WITH' });
      expect(byteMatch.TextTransformations.map((t: any) => t.Type)).toEqual(['URL_DECODE', 'LOWERCASE']);
      return decodeURIComponent(request.path).toLowerCase().startsWith(byteMatch.SearchString);
    }
    throw new Error(`unexpected statement ${JSON.stringify(statement)}`);
  }
  const blocked = (path: string, label: string) => matches(reblock.Statement, { path, labels: [`awswaf:managed:aws:core-rule-set:${label}`] });

  it('counts the RFI and metadata-SSRF rules (and the body-size rule) in the Common group, leaving every other rule of it blocking', () => {
    const counted = (common.Statement.ManagedRuleGroupStatement.RuleActionOverrides as any[]).map((override) => {
      expect(override.ActionToUse).toEqual({ Count: {} });
      return override.Name;
    });
    expect(counted.sort()).toEqual(
      ['SizeRestrictions_BODY', 'GenericRFI_QUERYARGUMENTS', 'GenericRFI_BODY', 'EC2MetaDataSSRF_BODY', 'EC2MetaDataSSRF_QUERYARGUMENTS', 'EC2MetaDataSSRF_COOKIE', 'EC2MetaDataSSRF_URIPATH'].sort(),
    );
    expect(common.OverrideAction).toEqual({ None: {} });
  });

  it('re-blocks by label after the group has labelled the request', () => {
    expect(reblock.Action).toEqual({ Block: {} });
    expect(reblock.Priority).toBeGreaterThan(common.Priority);
    expect(rules.filter((rule) => rule.Priority === reblock.Priority)).toHaveLength(1);
  });

  it.each(['GenericRFI_QueryArguments', 'GenericRFI_Body', 'EC2MetaDataSSRF_Body', 'EC2MetaDataSSRF_QueryArguments', 'EC2MetaDataSSRF_Cookie', 'EC2MetaDataSSRF_URIPath'])(
    'lets %s through /authorize, /callback, /consent, /register, /register/{id} and /token, and blocks it on /mcp and the metadata',
    (label) => {
      for (const path of ['/prod/authorize', '/prod/callback', '/prod/consent', '/prod/register', '/prod/register/abc', '/prod/token', '/PROD/%61uthorize']) {
        expect([path, blocked(path, label)]).toEqual([path, false]);
      }
      for (const path of ['/prod/mcp', '/prod/.well-known/openid-configuration', '/prod/jwks.json', '/prod/revoke', '/other/authorize', '/authorize']) {
        expect([path, blocked(path, label)]).toEqual([path, true]);
      }
    },
  );

  it('blocks nothing the Common group did not label', () => {
    expect(matches(reblock.Statement, { path: '/prod/mcp', labels: ['awswaf:managed:aws:core-rule-set:NoUserAgent_Header'] })).toBe(false);
  });

  it('names only paths of the routes manifest as OAuth flow endpoints', () => {
    for (const path of OAUTH_FLOW_PATHS) expect(ROUTES.some((route) => route.path === path && route.handler !== 'mcp' && route.handler !== 'metadata')).toBe(true);
  });
});

describe('IdentityProvider.cognito', () => {
  function cognitoStack(withPool: (stack: Stack) => cognito.IUserPool, props: Partial<SecureMcpServerProps> = {}) {
    const app = new App();
    const stack = new Stack(app, 'CognitoStack');
    const userPool = withPool(stack);
    const handler = new lambda.Function(stack, 'McpHandler', { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = 1') });
    const mcp = new SecureMcpServer(stack, 'Mcp', { handler, identityProvider: IdentityProvider.cognito({ userPool }), ...props });
    return { stack, mcp, userPool };
  }

  it('entitles the admins group through cognito:groups, where Cognito puts groups, by default', () => {
    const { mcp } = cognitoStack((stack) => cognito.UserPool.fromUserPoolId(stack, 'Users', 'eu-west-1_abc'));
    expect(mcp.scopeModel.entitlements).toEqual([{ claim: 'cognito:groups', value: 'admins', scopes: ['mcp:admin'] }]);
    expect(IdentityProvider.cognito({ userPool: {} as cognito.IUserPool }).groupsClaim).toBe('cognito:groups');
    expect(IdentityProvider.oidc({ issuerUrl: 'https://login.example.com', clientId: 'c', clientSecret: {} as secretsmanager.ISecret }).groupsClaim).toBe('groups');
  });

  it('keeps entitlements that were set', () => {
    const entitlements = [{ claim: 'custom:team', value: 'ops', scopes: ['mcp:admin'] }];
    const { mcp } = cognitoStack((stack) => cognito.UserPool.fromUserPoolId(stack, 'Users', 'eu-west-1_abc'), { entitlements });
    expect(mcp.scopeModel.entitlements).toEqual(entitlements);
  });

  it('fails the synth for a user pool of the app without a domain, with the fix', () => {
    const { stack } = cognitoStack((scope) => new cognito.UserPool(scope, 'Users'));
    const message = errorOf(() => Template.fromStack(stack));
    expect(message).toContain('IdentityProvider.cognito: the user pool CognitoStack/Users has no domain');
    expect(message).toContain("userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: '<unique prefix>' } })");
  });

  it('synthesizes with a domain, even one added after the construct, and trusts an imported pool', () => {
    const { stack, userPool } = cognitoStack((scope) => new cognito.UserPool(scope, 'Users'));
    (userPool as cognito.UserPool).addDomain('Domain', { cognitoDomain: { domainPrefix: 'mcp-example' } });
    Template.fromStack(stack).resourceCountIs('AWS::Cognito::UserPoolDomain', 1);
    const imported = cognitoStack((scope) => cognito.UserPool.fromUserPoolId(scope, 'Users', 'eu-west-1_abc'));
    Template.fromStack(imported.stack).resourceCountIs('AWS::Cognito::UserPoolClient', 1);
  });
});

/** An MCP function in `stack`, as teams write theirs. */
function mcpFunction(stack: Stack, id = 'McpHandler'): lambda.Function {
  return new lambda.Function(stack, id, { runtime: lambda.Runtime.NODEJS_24_X, handler: 'index.handler', code: lambda.Code.fromInline('exports.handler = 1') });
}
const upstream = (stack: Stack) =>
  IdentityProvider.oidc({
    issuerUrl: 'https://login.example.com',
    clientId: 'c',
    clientSecret: (stack.node.tryFindChild('IdpSecret') as secretsmanager.ISecret | undefined) ?? secretsmanager.Secret.fromSecretCompleteArn(stack, 'IdpSecret', UPSTREAM_SECRET_ARN),
  });

/** Every other stack a synthesized template imports values from (a cross-stack reference). */
function importsOf(assembly: cxapi.CloudAssembly, stackName: string): string[] {
  const text = JSON.stringify(assembly.getStackByName(stackName).template);
  return [...new Set([...text.matchAll(/"Fn::ImportValue":"([A-Za-z0-9]+):/g)].map((match) => match[1]))];
}

describe('multi-stack layouts synthesize without a cycle, or fail at synth naming the prop and the fix', () => {
  it('takes the tables and the signing key from a stateful stack, whose key policy it leaves alone', () => {
    const app = new App();
    const stateful = new Stack(app, 'Stateful');
    const signingKey = new kms.Key(stateful, 'SigningKey', { keySpec: kms.KeySpec.RSA_2048, keyUsage: kms.KeyUsage.SIGN_VERIFY });
    const table = (id: string) =>
      new dynamodb.Table(stateful, id, { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING }, timeToLiveAttribute: 'ttl', billingMode: dynamodb.BillingMode.PAY_PER_REQUEST });
    const service = new Stack(app, 'Service');
    const mcp = new SecureMcpServer(service, 'Mcp', {
      handler: mcpFunction(service),
      identityProvider: upstream(service),
      signingKey,
      clientsTable: table('Clients'),
      codesTable: table('Codes'),
      grantsTable: table('Grants'),
      pendingTable: table('Pending'),
      consentsTable: table('Consents'),
    });
    const reader = new iam.Role(service, 'Verifier', { assumedBy: new iam.AccountRootPrincipal() });
    mcp.grantReadPublicKeys(reader);

    const assembly = app.synth();
    expect(importsOf(assembly, 'Stateful')).toEqual([]);
    expect(importsOf(assembly, 'Service')).toEqual(['Stateful']);
    // The token role still signs, through its IAM policy (the key's default policy delegates to IAM).
    const template = Template.fromJSON(assembly.getStackByName('Service').template);
    const sign = identityStatements(template).find(({ statement }) => actionsOf(statement).includes('kms:Sign'))!;
    expect(sign.roles).toEqual([roleOf(template, functionLogicalId(service, mcp, 'Token'))]);
  });

  it('serves an MCP function of another stack when the issuer is a custom domain, setting the guard environment there', () => {
    const app = new App();
    const functions = new Stack(app, 'Functions');
    const handler = mcpFunction(functions);
    const service = new Stack(app, 'Service');
    const certificate = acm.Certificate.fromCertificateArn(service, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc');
    const mcp = new SecureMcpServer(service, 'Mcp', { handler, identityProvider: upstream(service), domainName: { domainName: 'mcp.example.com', certificate } });

    const assembly = app.synth();
    expect(importsOf(assembly, 'Functions')).toEqual([]);
    expect(importsOf(assembly, 'Service')).toEqual(['Functions']);
    const fn = Object.values(assembly.getStackByName('Functions').template.Resources as Record<string, any>).find((r) => r.Type === 'AWS::Lambda::Function')!;
    expect(fn.Properties.Environment.Variables).toEqual(mcp.mcpFunctionEnvironment);
    expect(fn.Properties.Environment.Variables.ISSUER).toBe('https://mcp.example.com');
    // API Gateway's permission to invoke it lives with the API.
    Template.fromJSON(assembly.getStackByName('Service').template).hasResourceProperties('AWS::Lambda::Permission', { Principal: 'apigateway.amazonaws.com' });
  });

  it.each<[string, (app: App) => void, string[]]>([
    [
      'a restApi of another stack',
      (app) => {
        const apiStack = new Stack(app, 'Api');
        const restApi = new apigateway.RestApi(apiStack, 'Shared');
        restApi.root.addMethod('GET');
        const service = new Stack(app, 'Service');
        new SecureMcpServer(service, 'Mcp', { handler: mcpFunction(service), identityProvider: upstream(service), restApi });
      },
      ['restApi must be in the stack of the SecureMcpServer (Service), got one of Api', 'Create the SecureMcpServer in the API\'s stack'],
    ],
    [
      'an MCP function of another stack whose issuer names this stack\'s API',
      (app) => {
        const handler = mcpFunction(new Stack(app, 'Functions'));
        const service = new Stack(app, 'Service');
        new SecureMcpServer(service, 'Mcp', { handler, identityProvider: upstream(service) });
      },
      ['handler is a function of Functions', 'Create the MCP function in Service, or set domainName'],
    ],
    [
      'a restApi with defaultCorsPreflightOptions',
      (app) => {
        const stack = new Stack(app, 'Service');
        const restApi = new apigateway.RestApi(stack, 'Shared', { defaultCorsPreflightOptions: { allowOrigins: apigateway.Cors.ALL_ORIGINS } });
        restApi.root.addMethod('GET');
        new SecureMcpServer(stack, 'Mcp', { handler: mcpFunction(stack), identityProvider: upstream(stack), restApi });
      },
      ['restApi must not have defaultCorsPreflightOptions', 'Call addCorsPreflight on your own resources instead'],
    ],
  ])('refuses %s', (_, build, expected) => {
    const message = errorOf(() => build(new App()));
    for (const part of expected) expect(message).toContain(part);
    expect(message).not.toMatch(/cyclic|already a Construct/);
  });
});

describe('a brought REST API keeps its owner\'s answers and logging', () => {
  function broughtApi(configure: (restApi: apigateway.RestApi) => void = () => undefined, deployOptions: apigateway.StageOptions = {}) {
    const app = new App();
    const stack = new Stack(app, 'Service');
    const restApi = new apigateway.RestApi(stack, 'Owned', { deployOptions: { stageName: 'live', ...deployOptions } });
    restApi.root.addResource('health').addMethod('GET');
    configure(restApi);
    const mcp = new SecureMcpServer(stack, 'Mcp', { handler: mcpFunction(stack), identityProvider: upstream(stack), restApi });
    return { stack, mcp, restApi, template: () => Template.fromStack(stack) };
  }
  const responseTypes = (template: Template) => Object.values(resourcesOfType(template, 'AWS::ApiGateway::GatewayResponse')).map((r) => r.Properties.ResponseType).sort();

  it('adds only the 401 and 403 authorizer challenges MCP discovery needs, none of the API-wide 404, 429 or 4XX/5XX answers', () => {
    expect(responseTypes(broughtApi().template())).toEqual(['ACCESS_DENIED', 'UNAUTHORIZED']);
    expect(responseTypes(buildStack().stack && Template.fromStack(buildStack().stack))).toEqual(
      ['ACCESS_DENIED', 'DEFAULT_4XX', 'DEFAULT_5XX', 'MISSING_AUTHENTICATION_TOKEN', 'THROTTLED', 'UNAUTHORIZED'].sort(),
    );
  });

  it('keeps the stage\'s own execution logging level on its methods, so the account needs no CloudWatch role for them, and never traces data', () => {
    const settings = (template: Template) =>
      (Object.values(resourcesOfType(template, 'AWS::ApiGateway::Stage'))[0].Properties.MethodSettings as any[]).filter((setting) => setting.ResourcePath !== '/*');
    const unlogged = settings(broughtApi().template());
    expect(unlogged.length).toBeGreaterThan(0);
    for (const setting of unlogged) expect(setting).toMatchObject({ LoggingLevel: 'OFF', DataTraceEnabled: false, CachingEnabled: false });
    for (const setting of settings(broughtApi(undefined, { loggingLevel: apigateway.MethodLoggingLevel.INFO, dataTraceEnabled: true }).template())) {
      expect(setting).toMatchObject({ LoggingLevel: 'INFO', DataTraceEnabled: false });
    }
  });

  it.each(['UNAUTHORIZED', 'ACCESS_DENIED'])('refuses at synth an API that answers %s itself, naming the response', (type) => {
    const { template } = broughtApi((restApi) => restApi.addGatewayResponse('Own', { type: apigateway.ResponseType.of(type), statusCode: '401' }));
    const message = errorOf(template);
    expect(message).toContain(`restApi already has a ${type} gateway response (Service/Owned/Own)`);
    expect(message).toContain('Remove yours, or give the SecureMcpServer an API of its own');
  });

  it('accepts the owner\'s other gateway responses, added before or after the construct', () => {
    const { restApi, template } = broughtApi((api) => api.addGatewayResponse('Before', { type: apigateway.ResponseType.DEFAULT_4XX }));
    restApi.addGatewayResponse('After', { type: apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, statusCode: '403' });
    expect(responseTypes(template())).toEqual(['ACCESS_DENIED', 'DEFAULT_4XX', 'MISSING_AUTHENTICATION_TOKEN', 'UNAUTHORIZED']);
  });

  it('refuses cloudWatchRole with a brought API, whose account setting is the owner\'s', () => {
    const stack = new Stack(new App(), 'Service');
    const restApi = new apigateway.RestApi(stack, 'Owned');
    restApi.root.addMethod('GET');
    expect(errorOf(() => new SecureMcpServer(stack, 'Mcp', { handler: mcpFunction(stack), identityProvider: upstream(stack), restApi, cloudWatchRole: true }))).toContain(
      'cloudWatchRole has no effect with restApi',
    );
  });
});

describe('several instances in one account: singletons once, alarms and cost per instance', () => {
  const twoInstances = (second: (app: App, first: Stack) => Stack) => {
    const app = new App();
    const first = new Stack(app, 'First');
    const one = new SecureMcpServer(first, 'One', { handler: mcpFunction(first, 'OneHandler'), identityProvider: upstream(first) });
    const stack = second(app, first);
    const two = new SecureMcpServer(stack, 'Two', { handler: mcpFunction(stack, 'TwoHandler'), identityProvider: upstream(stack) });
    const assembly = app.synth();
    return { assembly, one, two, first, stack, template: (s: Stack) => Template.fromJSON(assembly.getStackByName(s.stackName).template) };
  };
  const logicalId = (construct: IConstruct) => Stack.of(construct).getLogicalId((construct instanceof CfnElement ? construct : construct.node.defaultChild) as CfnElement);
  const dataEventTables = (template: Template) =>
    Object.values(resourcesOfType(template, 'AWS::CloudTrail::Trail')).map((trail) => {
      const selectors = trail.Properties.AdvancedEventSelectors as any[];
      const data = selectors.find((selector) => selector.FieldSelectors.some((f: any) => f.Field === 'eventCategory' && f.Equals[0] === 'Data'));
      return {
        management: selectors.some((selector) => selector.FieldSelectors.some((f: any) => f.Field === 'eventCategory' && f.Equals[0] === 'Management')),
        tables: data.FieldSelectors.find((f: any) => f.Field === 'resources.ARN').Equals.map(render),
      };
    });
  const keyStateFilters = (template: Template) => Object.values(resourcesOfType(template, 'AWS::Logs::MetricFilter')).filter((f) => JSON.stringify(f.Properties.FilterPattern).includes('ScheduleKeyDeletion'));
  const reserved = (template: Template, mcp: SecureMcpServer, id: string) =>
    template.toJSON().Resources[functionLogicalId(Stack.of(mcp), mcp, id)].Properties.ReservedConcurrentExecutions;

  describe('in one stack', () => {
    const { one, two, first, template } = twoInstances((_, stack) => stack);
    const t = template(first);

    it('creates one API Gateway account setting, which the second stage deploys after', () => {
      t.resourceCountIs('AWS::ApiGateway::Account', 1);
      const account = logicalId(one.restApi.node.findChild('Account'));
      expect(t.toJSON().Resources[logicalId(two.stage)].DependsOn).toContain(account);
    });

    it('records both instances with one trail: management events once, the data events of all ten tables', () => {
      expect(dataEventTables(t)).toEqual([
        { management: true, tables: [...Object.values(one.tables), ...Object.values(two.tables)].map((table) => `{${logicalId(table)}.Arn}`) },
      ]);
      expect(two.trail).toBeUndefined();
      expect(two.existingTrail).toBe(one.trail!.node.defaultChild);
    });

    it('alarms on each instance\'s own signing key only', () => {
      const filters = keyStateFilters(t);
      expect(filters).toHaveLength(2);
      for (const [index, mcp] of [one, two].entries()) {
        expect(filters[index].Properties.LogGroupName).toEqual({ Ref: logicalId(one.trailLogGroup!) });
        expect(JSON.stringify(filters[index].Properties.FilterPattern)).toContain(`"${logicalId(mcp.signingKey)}","Arn"`);
        expect(JSON.stringify(filters[index].Properties.FilterPattern)).toContain('$.resources[0].ARN');
      }
    });

    it('reserves the token function\'s share once, and the registration ceiling per instance', () => {
      expect([reserved(t, one, 'Token'), reserved(t, two, 'Token')]).toEqual([50, undefined]);
      expect([reserved(t, one, 'Register'), reserved(t, two, 'Register')]).toEqual([5, 5]);
    });

    it('names each WAF log group uniquely per stack creation, keeping the aws-waf-logs- prefix', () => {
      const names = [one, two].map((mcp) => t.toJSON().Resources[logicalId(mcp.webAclLogGroup!)].Properties.LogGroupName);
      for (const name of names) {
        const [separator, parts] = name['Fn::Join'];
        expect(separator).toBe('');
        expect(parts[0]).toMatch(/^aws-waf-logs-/);
        expect(JSON.stringify(parts.slice(1))).toContain('{"Ref":"AWS::StackId"}');
      }
      expect(names[0]['Fn::Join'][1][0]).not.toBe(names[1]['Fn::Join'][1][0]);
    });

    it('keeps a second instance cheaper than the first, and three within CloudFormation\'s 500 resources', () => {
      const total = Object.keys(t.toJSON().Resources).length;
      const single = Object.keys(Template.fromStack(buildStack().stack).toJSON().Resources).length;
      expect(total - single).toBeLessThan(single);
      expect(single + 2 * (total - single)).toBeLessThanOrEqual(500);
    });
  });

  describe('in two stacks of one app', () => {
    const { assembly, one, two, first, stack, template } = twoInstances((app) => new Stack(app, 'Second'));
    const [t1, t2] = [template(first), template(stack)];

    it('synthesizes, the second stack deploying after the first, which creates the account setting', () => {
      t1.resourceCountIs('AWS::ApiGateway::Account', 1);
      t2.resourceCountIs('AWS::ApiGateway::Account', 0);
      expect(assembly.getStackByName('Second').dependencies.map((dependency) => dependency.id)).toContain('First');
      expect(importsOf(assembly, 'First')).toEqual([]);
    });

    it('records management events once: the second trail holds its own tables\' data events only, and its key alarm reads the first trail', () => {
      expect(dataEventTables(t1)).toEqual([{ management: true, tables: Object.values(one.tables).map((table) => `{${logicalId(table)}.Arn}`) }]);
      expect(dataEventTables(t2)).toEqual([{ management: false, tables: Object.values(two.tables).map((table) => `{${logicalId(table)}.Arn}`) }]);
      const [filter] = keyStateFilters(t2);
      expect(JSON.stringify(filter.Properties.LogGroupName)).toContain('Fn::ImportValue');
      expect(JSON.stringify(filter.Properties.FilterPattern)).toContain(`"${logicalId(two.signingKey)}","Arn"`);
    });

    it('reserves the token function\'s share once per account and Region', () => {
      expect([reserved(t1, one, 'Token'), reserved(t2, two, 'Token')]).toEqual([50, undefined]);
    });
  });

  it('lets cloudWatchRole: true create the setting again, for stacks deployed to different accounts', () => {
    const { first, stack, template } = (() => {
      const app = new App();
      const a = new Stack(app, 'A');
      new SecureMcpServer(a, 'One', { handler: mcpFunction(a), identityProvider: upstream(a) });
      const b = new Stack(app, 'B');
      new SecureMcpServer(b, 'Two', { handler: mcpFunction(b), identityProvider: upstream(b), cloudWatchRole: true, auditTrail: AuditTrail.create(), tokenReservedConcurrency: 20 });
      return { first: a, stack: b, template: (s: Stack) => Template.fromStack(s) };
    })();
    template(first).resourceCountIs('AWS::ApiGateway::Account', 1);
    const second = template(stack);
    second.resourceCountIs('AWS::ApiGateway::Account', 1);
    expect(dataEventTables(second)[0].management).toBe(true);
    second.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 20 });
  });
});

describe('a signing key of another stack must let IAM grant what the construct cannot write into its policy', () => {
  it('fails the synth for a key policy that keeps signing from IAM, with the statement to add', () => {
    const app = new App();
    const stateful = new Stack(app, 'Stateful');
    const administration = new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:Describe*', 'kms:Put*', 'kms:ScheduleKeyDeletion'], resources: ['*'] });
    const signingKey = new kms.Key(stateful, 'SigningKey', {
      keySpec: kms.KeySpec.RSA_2048,
      keyUsage: kms.KeyUsage.SIGN_VERIFY,
      policy: new iam.PolicyDocument({ statements: [administration] }),
    });
    const service = new Stack(app, 'Service');
    new SecureMcpServer(service, 'Mcp', { handler: mcpFunction(service), identityProvider: upstream(service), signingKey });
    const message = errorOf(() => app.synth());
    expect(message).toContain('signingKey holds Stateful/SigningKey, a key of Stateful whose policy does not let IAM policies grant kms:Sign and kms:GetPublicKey');
    expect(message).toContain('key.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ["kms:Sign","kms:GetPublicKey"]');
    expect(message).not.toMatch(/cyclic/);

    // The statement the message names is enough.
    signingKey.addToResourcePolicy(new iam.PolicyStatement({ principals: [new iam.AccountRootPrincipal()], actions: ['kms:Sign', 'kms:GetPublicKey'], resources: ['*'] }));
    expect(() => app.synth({ force: true })).not.toThrow();
  });
});
