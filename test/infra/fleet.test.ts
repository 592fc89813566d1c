import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { perServerGatewayResponses } from '../../lib/authorizer-gateway';
import { IdentityProvider, McpAuthorizationServer, McpAuthorizationServerProps, McpServer, McpServerOptions, MCP_GUARD_ENVIRONMENT_WARNING } from '../../lib';
import { COMPRESSED_PREFIX, parseProtectedResources } from '../../lib/protected-resources';
import { resourcesOfType, templateOf, UPSTREAM_ISSUER, UPSTREAM_SECRET_ARN } from '../support/stack';

/**
 * One authorization server in front of several MCP servers: a platform team's stack holds
 * the McpAuthorizationServer and two servers, a product team's stack adds a third with its own function.
 */

const DOMAIN = 'mcp.example.com';
const FUNCTIONS = ['Metadata', 'Register', 'Token', 'Authorize', 'Authorizer'] as const;
/** What adding an MCP server may create: routes, their methods and permissions, and a result-cache authorizer of its own. */
const PER_SERVER_TYPES = ['AWS::ApiGateway::Resource', 'AWS::ApiGateway::Method', 'AWS::Lambda::Permission', 'AWS::ApiGateway::Authorizer'];
/** Named by a hash of the API's methods: any change of the routes replaces it, as every API Gateway change does. */
const DEPLOYMENT = 'AWS::ApiGateway::Deployment';
const STATEFUL_TYPES = ['AWS::DynamoDB::Table', 'AWS::KMS::Key', 'AWS::S3::Bucket', 'AWS::Logs::LogGroup', 'AWS::SecretsManager::Secret', 'AWS::Cognito::UserPool'];

function mcpFunction(stack: Stack, id = 'McpHandler'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_24_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({ statusCode: 200, body: "{}" });'),
  });
}

function authorizationServer(stack: Stack, props: Partial<McpAuthorizationServerProps> = {}): McpAuthorizationServer {
  const clientSecret = secretsmanager.Secret.fromSecretCompleteArn(stack, 'UpstreamSecret', UPSTREAM_SECRET_ARN);
  const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:eu-west-1:123456789012:certificate/abc');
  return new McpAuthorizationServer(stack, 'Auth', {
    identityProvider: IdentityProvider.oidc({ issuerUrl: UPSTREAM_ISSUER, clientId: 'mcp-client', clientSecret }),
    domainName: { domainName: DOMAIN, certificate },
    ...props,
  });
}

/** The platform team's stack: the authorization server and its two own MCP servers. */
function platformStack(app: App): { platform: Stack; auth: McpAuthorizationServer; servers: McpServer[] } {
  const platform = new Stack(app, 'Platform');
  // The ceiling names a scope of the product team's server: checked at synth, once every server is known.
  const auth = authorizationServer(platform, { machineClients: [{ name: 'reports', scopes: ['search:read'], mcpServers: ['/admin/mcp'] }] });
  const servers = [
    auth.addMcpServer('Tools', { handler: mcpFunction(platform, 'ToolsHandler'), path: '/mcp', defaultResource: true }),
    auth.addMcpServer('Admin', {
      handler: mcpFunction(platform, 'AdminHandler'),
      path: '/admin/mcp',
      scopes: [{ name: 'admin:use', description: 'Run the admin tools', isDefault: true }, { name: 'search:read', description: 'Read the search audit', isDefault: false }],
      authorizerCacheTtl: Duration.minutes(1),
      throttling: { rateLimit: 10, burstLimit: 20 },
    }),
  ];
  return { platform, auth, servers };
}

/** The platform's stack, and the product team's stack adding its MCP function to the platform's authorization server. */
function fleet() {
  const app = new App();
  const { platform, auth, servers } = platformStack(app);
  const team = new Stack(app, 'SearchTeam');
  servers.push(
    auth.addMcpServer('Search', {
      handler: mcpFunction(team, 'SearchHandler'),
      path: '/search/mcp',
      scopes: [{ name: 'search:read', description: 'Search the catalogue', isDefault: true }],
      toolScopes: {},
      allowedOrigins: ['https://search.example.com'],
    }),
  );
  return { app, platform, team, auth, servers, assembly: app.synth() };
}

const template = (assembly: cxapi.CloudAssembly, stackName: string) => Template.fromJSON(assembly.getStackByName(stackName).template);
const typesById = (t: Template) => Object.fromEntries(Object.entries(t.toJSON().Resources as Record<string, { Type: string }>).map(([id, resource]) => [id, resource.Type]));

/** The resources of `after` that `before` does not have, by type; the API deployment, replaced by any route change, left out. */
function addedResources(before: Template, after: Template): Record<string, number> {
  const known = typesById(before);
  const added: Record<string, number> = {};
  for (const [id, type] of Object.entries(typesById(after))) if (!(id in known) && type !== DEPLOYMENT) added[type] = (added[type] ?? 0) + 1;
  return added;
}

function importsOf(assembly: cxapi.CloudAssembly, stackName: string): string[] {
  const text = JSON.stringify(assembly.getStackByName(stackName).template);
  return [...new Set([...text.matchAll(/"Fn::ImportValue":"([A-Za-z0-9]+):/g)].map((match) => match[1]))];
}

describe('fleet: one McpAuthorizationServer, three MCP servers, one of them in a product team\'s stack', () => {
  const { assembly, auth, servers } = fleet();
  const platformTemplate = template(assembly, 'Platform');
  const resources = platformTemplate.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, any> }>;
  const functionEnvironment = (id: string) => {
    const logicalId = Stack.of(auth).getLogicalId(auth.node.findChild(id).node.findChild('Function').node.defaultChild as lambda.CfnFunction);
    return resources[logicalId].Properties.Environment.Variables as Record<string, any>;
  };

  it('synthesizes without a cycle: the platform imports the team\'s function ARN, the team imports nothing', () => {
    expect(importsOf(assembly, 'SearchTeam')).toEqual([]);
    expect(importsOf(assembly, 'Platform')).toEqual(['SearchTeam']);
  });

  it('MRS-01 lists the three servers, each with its own scope model, in PROTECTED_RESOURCES of every authorization-server function', () => {
    for (const id of FUNCTIONS) {
      expect(JSON.parse(functionEnvironment(id).PROTECTED_RESOURCES)).toEqual({
        servers: servers.map((server, index) => ({ path: server.path, scopeModel: server.scopeModel, authorizerCacheTtlSeconds: index === 1 ? 60 : 0 })),
        defaultPath: '/mcp',
        challenges: 'authorizer',
      });
      expect(functionEnvironment(id).SCOPE_MODEL).toBeUndefined();
    }
    expect(servers.map((server) => server.mcpUrl)).toEqual([`https://${DOMAIN}/mcp`, `https://${DOMAIN}/admin/mcp`, `https://${DOMAIN}/search/mcp`]);
    expect(servers[2].protectedResourceMetadataUrl).toBe(`https://${DOMAIN}/.well-known/oauth-protected-resource/search/mcp`);
  });

  it('MRS-07 serves each server\'s metadata and endpoint, behind one authorizer function', () => {
    for (const server of servers) {
      expect([...server.methods.keys()].sort()).toEqual([`GET ${server.path}`, `GET /.well-known/oauth-protected-resource${server.path}`, `HEAD ${server.path}`, `POST ${server.path}`].sort());
      for (const method of ['POST', 'GET', 'HEAD']) expect(auth.methods.get(`${method} ${server.path}`)).toBe(server.methods.get(`${method} ${server.path}`));
    }
    platformTemplate.resourcePropertiesCountIs('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('REQUEST authorizer') }, 1);
    // One authorizer for the servers that decide every request, and one for the server that caches decisions.
    const authorizers = Object.values(resourcesOfType(platformTemplate, 'AWS::ApiGateway::Authorizer')).map((a) => a.Properties.AuthorizerResultTtlInSeconds);
    expect(authorizers.sort()).toEqual([0, 60]);
    expect(servers[0].authorizer).toBe(servers[2].authorizer);
    expect(servers[1].authorizer).not.toBe(servers[0].authorizer);
  });

  it('answers with the per-server challenges: every refusal is the authorizer\'s Deny, ACCESS_DENIED the 401', () => {
    const [unauthorized, accessDenied] = perServerGatewayResponses();
    platformTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'UNAUTHORIZED', StatusCode: '401', ResponseParameters: Match.objectLike({ 'gatewayresponse.header.WWW-Authenticate': unauthorized.responseHeaders['WWW-Authenticate'] }) });
    platformTemplate.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'ACCESS_DENIED', StatusCode: '401', ResponseParameters: Match.objectLike({ 'gatewayresponse.header.WWW-Authenticate': accessDenied.responseHeaders['WWW-Authenticate'] }) });
    platformTemplate.resourcePropertiesCountIs('AWS::ApiGateway::GatewayResponse', { ResponseType: 'UNAUTHORIZED' }, 1);
  });

  it('throttles each server\'s methods as configured', () => {
    const stage = Object.values(resourcesOfType(platformTemplate, 'AWS::ApiGateway::Stage'))[0].Properties;
    const setting = (path: string, method: string) => stage.MethodSettings.find((s: any) => s.ResourcePath === `/${path.replace(/\//g, '~1')}` && s.HttpMethod === method);
    expect(setting('/admin/mcp', 'POST')).toMatchObject({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 });
    expect(setting('/search/mcp', 'HEAD')).toMatchObject({ ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 });
    expect(setting('/.well-known/oauth-protected-resource/search/mcp', 'GET')).toMatchObject({ ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 });
  });

  it('sets the guard environment on the team\'s function in the team\'s stack, with literal values only', () => {
    const teamFunction = Object.values(template(assembly, 'SearchTeam').toJSON().Resources as Record<string, any>).find((r) => r.Type === 'AWS::Lambda::Function')!;
    expect(teamFunction.Properties.Environment.Variables).toEqual({
      ISSUER: `https://${DOMAIN}`,
      SCOPE_MODEL: JSON.stringify(servers[2].scopeModel),
      MCP_RESOURCE_PATH: '/search/mcp',
      MCP_ALLOWED_ORIGINS: 'https://search.example.com',
    });
    expect(servers[2].mcpFunctionEnvironment).toEqual(teamFunction.Properties.Environment.Variables);
    // API Gateway's permission to invoke it lives with the API, through a reference in the platform stack.
    expect(servers[2].handler.node.path).toBe('Platform/Auth/Search/HandlerReference');
  });

  it('is clean under cdk-nag: nothing unacknowledged on the authorization server and its servers', () => {
    const own = (report: ReturnType<AwsSolutionsChecks['validateScope']>) =>
      report.violations
        .filter((violation) => violation.violatingResources.some((resource) => resource.constructPath?.startsWith('Platform/Auth/')))
        .map((violation) => `${violation.ruleName} (${violation.severity})`);
    const stack = Stack.of(auth);
    expect(own(new AwsSolutionsChecks().validateScope(stack))).toEqual([]);
    // As for SecureMcpServer (nag.test.ts): tracing stays a documented warning, no error.
    expect(own(new ServerlessChecks().validateScope(stack)).filter((finding) => finding.endsWith('(error)'))).toEqual([]);
  });

  it('adds, for the third server, only its routes, methods, invoke permissions and method settings: nothing stateful', () => {
    const twoServers = Template.fromStack(platformStack(new App()).platform);
    const added = addedResources(twoServers, platformTemplate);
    const count = Object.values(added).reduce((sum, n) => sum + n, 0);
    console.log(`The third MCP server (another stack) adds ${count} resources to the authorization server's stack (and a new API deployment): ${JSON.stringify(added)}`);
    expect(Object.keys(added).filter((type) => !PER_SERVER_TYPES.includes(type))).toEqual([]);
    for (const type of STATEFUL_TYPES) expect(added[type]).toBeUndefined();
    // Its metadata (GET) and endpoint (POST, GET, HEAD), each path with its preflight and its 405; one invoke permission per method.
    expect(added).toEqual({ 'AWS::ApiGateway::Resource': 4, 'AWS::ApiGateway::Method': 4 + 2 * 2, 'AWS::Lambda::Permission': 4 });
    // The web ACL names no MCP path (its rate limits and the re-block are for the OAuth endpoints), so a new server is covered as /mcp is.
    const rules = (t: Template) => Object.values(resourcesOfType(t, 'AWS::WAFv2::WebACL'))[0].Properties.Rules;
    expect(rules(platformTemplate)).toEqual(rules(twoServers));
  });
});

describe('fleet: the synth checks of the server list', () => {
  const platformWith = (configure: (auth: McpAuthorizationServer, stack: Stack) => void, props: Partial<McpAuthorizationServerProps> = {}) => {
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const auth = authorizationServer(stack, props);
    configure(auth, stack);
    return () => app.synth();
  };
  const errorOf = (build: () => unknown) => {
    try {
      build();
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('expected an error');
  };

  it('needs at least one MCP server', () => {
    expect(errorOf(platformWith(() => undefined))).toContain('McpAuthorizationServer Platform/Auth serves no MCP server: add one with addMcpServer(id, { handler, path })');
  });

  it('MRS-06 refuses a second default server and a path served twice, naming the server that has it', () => {
    expect(
      errorOf(() =>
        platformWith((auth, stack) => {
          auth.addMcpServer('One', { handler: mcpFunction(stack, 'One'), path: '/one/mcp', defaultResource: true });
          auth.addMcpServer('Two', { handler: mcpFunction(stack, 'Two'), path: '/one/mcp', defaultResource: true });
        }),
      ),
    ).toMatch(/Invalid McpServer props at Platform\/Auth\/Two:\n {2}- path \/one\/mcp is served by Platform\/Auth\/One already.*\n {2}- defaultResource is set on Platform\/Auth\/One already/);
  });

  it('reports every problem of one server at once, naming its own props', () => {
    const message = errorOf(() =>
      platformWith((auth, stack) =>
        auth.addMcpServer('Bad', {
          handler: mcpFunction(stack),
          path: '/Bad/',
          authorizerCacheTtl: Duration.minutes(20),
          throttling: { burstLimit: 0 },
          allowedOrigins: ['https://app.example.com/'],
          scopes: [],
        }),
      ),
    );
    expect(message.split('\n')[0]).toBe('Invalid McpServer props at Platform/Auth/Bad:');
    for (const part of [
      'path must be lower-case path segments like /mcp or /tools/mcp',
      'authorizerCacheTtl must be between 0 and 300 seconds, got 20 minutes',
      'authorizerCacheTtl must not exceed accessTokenTtl (10 minutes), got 20 minutes',
      'throttling.burstLimit must be a whole number between 1 and 5000, got 0',
      'allowedOrigins must hold origins like https://app.example.com',
      'the scope model is invalid',
    ]) {
      expect(message).toContain(part);
    }
  });

  it('refuses a path the managed firewall would treat as an OAuth endpoint, and one the authorization server serves', () => {
    const message = errorOf(() => platformWith((auth, stack) => auth.addMcpServer('Tokens', { handler: mcpFunction(stack), path: '/tokens/mcp' })));
    expect(message).toContain('path must not start with /token with Firewall.managed()');
    expect(errorOf(() => platformWith((auth, stack) => auth.addMcpServer('Reg', { handler: mcpFunction(stack), path: '/register/mcp' })))).toContain('path must not start with /register: the authorization server serves it');
  });

  it('checks machine-client ceilings against the scopes of every server, at synth', () => {
    const synth = platformWith((auth, stack) => auth.addMcpServer('Tools', { handler: mcpFunction(stack) }), { machineClients: [{ name: 'reports', scopes: ['search:read'] }] });
    expect(errorOf(synth)).toContain('machineClients "reports" scopes must be scopes of this server (mcp:tools, mcp:admin), got "search:read"');
  });

  it('MRS-09 with several servers every machine client names the servers it may obtain tokens for, and each must be served', () => {
    const twoServers = (clients: McpAuthorizationServerProps['machineClients']) =>
      platformWith(
        (auth, stack) => {
          auth.addMcpServer('One', { handler: mcpFunction(stack, 'OneHandler'), path: '/one/mcp' });
          auth.addMcpServer('Two', { handler: mcpFunction(stack, 'TwoHandler'), path: '/two/mcp' });
        },
        { machineClients: clients },
      );
    expect(errorOf(twoServers([{ name: 'batch', scopes: ['mcp:tools'] }]))).toContain('machineClients "batch" needs mcpServers: with 2 MCP servers (/one/mcp, /two/mcp), name the ones it may obtain tokens for');
    expect(errorOf(twoServers([{ name: 'batch', scopes: ['mcp:tools'], mcpServers: ['/three/mcp'] }]))).toContain('machineClients "batch" mcpServers must be paths of this authorization server\'s MCP servers (/one/mcp, /two/mcp), got "/three/mcp"');
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const auth = authorizationServer(stack, { machineClients: [{ name: 'batch', scopes: ['mcp:tools'], mcpServers: ['/two/mcp'] }] });
    auth.addMcpServer('One', { handler: mcpFunction(stack, 'OneHandler'), path: '/one/mcp' });
    auth.addMcpServer('Two', { handler: mcpFunction(stack, 'TwoHandler'), path: '/two/mcp' });
    const token = Object.values(resourcesOfType(Template.fromStack(stack), 'AWS::Lambda::Function')).find((fn) => fn.Properties.Environment?.Variables?.MACHINE_CLIENTS);
    // The value joins the secret's ARN in: read the JSON parts around it.
    expect(JSON.stringify(token!.Properties.Environment.Variables.MACHINE_CLIENTS)).toContain('\\"resources\\":[\\"/two/mcp\\"]');
  });

  it('refuses one MCP function for two servers: its guard accepts the tokens of one', () => {
    const build = () =>
      platformWith((auth, stack) => {
        const shared = mcpFunction(stack, 'Shared');
        auth.addMcpServer('One', { handler: shared, path: '/one/mcp' });
        auth.addMcpServer('Two', { handler: shared, path: '/two/mcp' });
      });
    expect(errorOf(build)).toContain('handler serves Platform/Auth/One already: its runtime guard accepts the tokens of one MCP server');
  });

  it('MRS-01 writes the servers as plain JSON while it fits, compressed past that (fifteen servers fit), and refuses what does not fit even compressed', () => {
    const fleetOf = (count: number, model: (index: number) => Partial<McpServerOptions> = () => ({})) => {
      const app = new App();
      const stack = new Stack(app, 'Platform');
      const auth = authorizationServer(stack);
      for (let index = 1; index <= count; index++) auth.addMcpServer(`Team${index}`, { handler: mcpFunction(stack, `Handler${index}`), path: `/team${index}/mcp`, ...model(index) });
      return { synth: () => app.synth(), template: () => Template.fromStack(stack) };
    };
    const written = (template: Template) =>
      Object.values(resourcesOfType(template, 'AWS::Lambda::Function'))
        .map((fn) => fn.Properties.Environment?.Variables?.PROTECTED_RESOURCES)
        .filter((value): value is string => typeof value === 'string');
    // Seven servers with the default model: plain JSON, readable in the template.
    const seven = written(fleetOf(7).template());
    expect(seven.length).toBeGreaterThan(0);
    for (const value of seven) expect(parseProtectedResources(value).servers).toHaveLength(7);
    expect(seven[0].startsWith('{')).toBe(true);
    // Fifteen (the MCP functions in the same stack keep it under CloudFormation's 500 resources): compressed,
    // and what the handlers read back is the same list.
    const fifteen = written(fleetOf(15).template());
    expect(fifteen[0].startsWith(COMPRESSED_PREFIX)).toBe(true);
    expect(fifteen[0].length).toBeLessThan(1000);
    expect(parseProtectedResources(fifteen[0]).servers.map((server) => server.path)).toEqual(Array.from({ length: 15 }, (_, i) => `/team${i + 1}/mcp`));
    // Models that share nothing do not compress: refused at synth, naming the fix.
    const distinct = (index: number): Partial<McpServerOptions> => ({
      scopes: [{ name: `team${index}:use`, description: randomBytes(300).toString('base64'), isDefault: true }],
    });
    expect(errorOf(fleetOf(12, distinct).synth)).toMatch(
      /the authorize function's environment would take about \d+ bytes, over Lambda's 4096-byte limit: shorten the scope models of the 12 MCP servers \(scope descriptions, tool names\), or split them over two authorization servers/,
    );
  });

  it('refuses a handler of another stack without a custom domain, whose issuer that stack cannot know', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const auth = authorizationServer(stack, { domainName: undefined });
    const team = new Stack(app, 'Team');
    expect(errorOf(() => auth.addMcpServer('Search', { handler: mcpFunction(team), path: '/search/mcp' }))).toContain(
      'handler is a function of Team, and the issuer the runtime guard needs (McpServer.mcpFunctionEnvironment) names the REST API of Platform',
    );
  });

  it('on a brought REST API adds only the per-server challenges, and refuses the owner\'s own ACCESS_DENIED', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const restApi = new apigateway.RestApi(stack, 'Owned', { deployOptions: { stageName: 'live' } });
    restApi.root.addResource('health').addMethod('GET');
    const auth = authorizationServer(stack, { restApi });
    auth.addMcpServer('Tools', { handler: mcpFunction(stack), path: '/tools/mcp' });
    const brought = Template.fromStack(stack);
    expect(Object.values(resourcesOfType(brought, 'AWS::ApiGateway::GatewayResponse')).map((r) => `${r.Properties.ResponseType} ${r.Properties.StatusCode}`).sort()).toEqual(['ACCESS_DENIED 401', 'UNAUTHORIZED 401']);

    const conflicting = new App();
    const other = new Stack(conflicting, 'Platform');
    const api = new apigateway.RestApi(other, 'Owned');
    api.root.addMethod('GET');
    api.addGatewayResponse('Mine', { type: apigateway.ResponseType.ACCESS_DENIED, statusCode: '403' });
    authorizationServer(other, { restApi: api }).addMcpServer('Tools', { handler: mcpFunction(other), path: '/tools/mcp' });
    expect(errorOf(() => conflicting.synth())).toContain('restApi already has a ACCESS_DENIED gateway response (Platform/Owned/Mine)');
  });

  it('warns on a handler it cannot set the guard environment on', () => {
    const app = new App();
    const stack = new Stack(app, 'Platform');
    const auth = authorizationServer(stack);
    auth.addMcpServer('Imported', { handler: lambda.Function.fromFunctionArn(stack, 'Imported', 'arn:aws:lambda:eu-west-1:123456789012:function:search'), path: '/search/mcp' });
    Annotations.fromStack(stack).hasWarning('/Platform/Auth/Imported', Match.stringLikeRegexp(`set ISSUER, SCOPE_MODEL, MCP_RESOURCE_PATH on it from McpServer.mcpFunctionEnvironment.*${MCP_GUARD_ENVIRONMENT_WARNING}`));
  });
});

describe('fleet: SecureMcpServer stays one server answered with the static challenge, and upgrades in place', () => {
  const { template: single, mcp, stack } = templateOf();

  it('keeps the logical id and type of every 0.2 resource; only the API deployment (a hash of its methods) is new', () => {
    const before = JSON.parse(readFileSync(join(__dirname, '../fixtures/secure-mcp-server-0.2-logical-ids.json'), 'utf8')) as Record<string, string>;
    const now = typesById(single);
    const changed = Object.keys(before).filter((id) => now[id] !== before[id]);
    expect(changed.map((id) => before[id])).toEqual([DEPLOYMENT]);
    expect(Object.keys(now).filter((id) => !(id in before)).map((id) => now[id])).toEqual([DEPLOYMENT]);
    for (const type of STATEFUL_TYPES) expect(Object.keys(before).filter((id) => before[id] === type).every((id) => now[id] === type)).toBe(true);
  });

  it('keeps the gateway challenge naming its one server, with ACCESS_DENIED the 403', () => {
    single.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: Match.objectLike({ 'gatewayresponse.header.WWW-Authenticate': Match.objectLike({ 'Fn::Join': Match.anyValue() }) }),
    });
    single.hasResourceProperties('AWS::ApiGateway::GatewayResponse', { ResponseType: 'ACCESS_DENIED', StatusCode: '403' });
    expect(mcp.protectedResources.challenges).toBe('gateway');
  });

  it('refuses a second server clearly', () => {
    expect(() => mcp.addMcpServer('Second', { handler: mcpFunction(stack, 'Second'), path: '/second/mcp' })).toThrow(
      'TestStack/Mcp is a SecureMcpServer: it serves exactly one MCP server (its handler, at /mcp), because API Gateway has one UNAUTHORIZED answer per API and it names that server. Use McpAuthorizationServer and addMcpServer to serve several MCP servers from one authorization server',
    );
    expect(mcp.node.tryFindChild('Second')).toBeUndefined();
  });
});
