import { createServer, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult, APIGatewayRequestAuthorizerEvent, Context } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { allowedMethods, answersPreflight, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, findRoute, HandlerName, matchRoutePath, METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY, routesFor } from '../lib/routes';
import { DEFAULT_SCOPE_MODEL, defaultScopes, type ScopeModel } from '../lib/scopes';
import { protectedResourceMetadataPath, protectedResourcesProblems, type ProtectedResourcesSpec } from '../lib/protected-resources';
import { AUTHORIZER_ENV, ENV, GUARD_ENV } from '../lib/environment';
import { AUTHORIZATION_SERVER_FUNCTIONS, functionEnvironment, type AuthorizationServerFunction } from '../lib/functions';
import { authorizerGatewayResponses, perServerGatewayResponses, renderGatewayResponse } from '../lib/authorizer-gateway';
import { createTables, LOCAL_CREDENTIALS, LocalDynamoDb } from './dynamodb';
import { LocalKms } from './kms-server';
import { readBody, toProxyEvent, writeProxyResult } from './http-adapter';
import { LocalSecretsManager } from './secrets-manager';
import { startUpstreamIdp, UpstreamUser } from './upstream-idp';
import { randomToken } from '../lambda/shared/crypto';

/**
 * The whole system on one machine: the same handler bundles that are deployed (assets/<name>/index.mjs),
 * invoked the way API Gateway invokes them, from the same routes manifest; dynalite as DynamoDB, the
 * local KMS endpoint for signing, and an OpenID Connect provider as the upstream identity provider.
 */
export interface LocalStackOptions {
  /** 0 picks a free port. */
  readonly port?: number;
  /** The stage name: every URL lives under `/<stage>` as on the execute-api URL. @default 'prod' */
  readonly stage?: string;
  /** Persist DynamoDB here across restarts. @default - in memory */
  readonly dataDir?: string;
  /** Extra environment for every handler (e.g. ACCESS_TOKEN_TTL_SECONDS for tests). */
  readonly environment?: Record<string, string>;
  /** Where the bundles are. @default <package>/assets */
  readonly assetsDir?: string;
  /** The users of the embedded upstream OpenID Connect provider. @default LOCAL_USERS */
  readonly users?: Readonly<Record<string, UpstreamUser>>;
  /** The secret of the local machine client `machine.local-batch`. @default - a random one */
  readonly machineClientSecret?: string;
  /** The MCP servers, each the example server with its own path and scope model. @default LOCAL_MCP_SERVERS */
  readonly mcpServers?: readonly LocalMcpServer[];
}

/** One example MCP server of the local stack. */
export interface LocalMcpServer {
  readonly path: string;
  readonly scopeModel: ScopeModel;
}

/**
 * The second example server's scopes: other names and other tool rules than the first, so the two
 * servers' audiences and scope models can be told apart end to end (MRS-03, MRS-09).
 */
export const TOOLS_SCOPE_MODEL: ScopeModel = {
  scopes: [
    { name: 'tools:use', description: 'Use the tools of the tools server', isDefault: true },
    { name: 'tools:admin', description: 'Use the administrative tools of the tools server', implies: ['tools:use'] },
  ],
  toolScopes: { admin_stats: ['tools:admin'], greet: ['tools:admin'] },
  entitlements: [{ claim: 'groups', value: 'admins', scopes: ['tools:admin'] }],
};

/** By default one authorization server in front of two MCP servers, as an `McpAuthorizationServer` deploys them. */
export const LOCAL_MCP_SERVERS: readonly LocalMcpServer[] = [
  { path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL },
  { path: '/tools/mcp', scopeModel: TOOLS_SCOPE_MODEL },
];

/**
 * The local upstream's users. Local only: each signs in with their username as the password.
 * alice is in the `admins` group (entitled to mcp:admin); bob is in no group.
 */
export const LOCAL_USERS: Readonly<Record<string, UpstreamUser>> = {
  alice: { sub: 'alice', password: 'alice', name: 'Alice', email: 'alice@example.test', groups: ['admins'] },
  bob: { sub: 'bob', password: 'bob', name: 'Bob', email: 'bob@example.test' },
};

export interface LocalStack {
  readonly baseUrl: string;
  readonly issuer: string;
  /** The first MCP server's URL. */
  readonly mcpUrl: string;
  /** Every MCP server's URL, in the order of `mcpServers`. */
  readonly mcpUrls: readonly string[];
  /** The embedded upstream OpenID Connect provider's issuer. */
  readonly upstreamIssuer: string;
  /** The local machine client (client_credentials, `mcp:tools`); its secret lives in the local Secrets Manager. */
  readonly machineClient: { readonly clientId: string; readonly secret: string };
  stop(): Promise<void>;
}

type ProxyHandler = (event: unknown, context: Context) => Promise<APIGatewayProxyResult>;
type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent, context: Context) => Promise<APIGatewayAuthorizerResult>;

const FORBIDDEN = { statusCode: 403, headers: { 'Content-Type': 'application/json' }, body: '{"message":"Forbidden"}' };

function lambdaContext(): Context {
  const deadline = Date.now() + 29_000;
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => deadline - Date.now() } as unknown as Context;
}

/** Every variable name of the contract (lib/environment.ts): what a bundle may read at import. */
const CONTRACT_VARIABLES: readonly string[] = [...Object.values(ENV), ...Object.values(AUTHORIZER_ENV), ...Object.values(GUARD_ENV)];

const definedOnly = (values: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).filter((entry): entry is [string, string] => entry[1] !== undefined));

/**
 * Imports a bundle while, of the contract's variables, process.env holds exactly `environment`; puts
 * the previous values back afterwards (the bundle has read its configuration by then).
 */
async function importWithEnvironment<T>(url: string, environment: Record<string, string>): Promise<T> {
  const names = [...new Set([...CONTRACT_VARIABLES, ...Object.keys(environment)])];
  const saved = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  for (const name of names) delete process.env[name];
  Object.assign(process.env, environment);
  try {
    return (await import(url)) as T;
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const stage = options.stage ?? 'prod';
  const assetsDir = options.assetsDir ?? resolve(__dirname, '..', 'assets');
  const dynamo = new LocalDynamoDb(options.dataDir);
  const kms = new LocalKms();
  await dynamo.start();
  await kms.start();

  const server = createServer();
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const issuer = `${baseUrl}/${stage}`;

  const db = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const tables = await createTables(db, 'local');
  db.destroy();
  const keyArn = kms.createKey('RSA_2048');

  // The upstream identity provider knows this authorization server as a confidential client whose
  // secret lives in (local) Secrets Manager, as a deployment's would.
  const upstreamClient = { client_id: 'local-mcp-authorization-server', client_secret: randomToken(32), redirect_uris: [`${issuer}/callback`] };
  const upstream = await startUpstreamIdp({ clients: [upstreamClient], users: options.users ?? LOCAL_USERS });
  const secrets = new LocalSecretsManager();
  await secrets.start();
  const secretArn = secrets.put('local/upstream-client-secret', upstreamClient.client_secret);
  // One machine client (client_credentials), declared as an operator would on the construct.
  const machineClient = { clientId: 'machine.local-batch', secret: options.machineClientSecret ?? randomToken(32) };
  const machineClients = [
    { clientId: machineClient.clientId, secretId: secrets.put('local/machine-client-local-batch', machineClient.secret), scopes: ['mcp:tools', 'tools:use'], introspection: false, resources: ['/mcp', '/tools/mcp'] },
  ];
  // The servers as the construct describes them to the authorization-server functions. Several servers
  // need per-server challenges (API Gateway's static 401 can name only one server's metadata).
  const mcpServers = options.mcpServers ?? LOCAL_MCP_SERVERS;
  const cacheTtl = Number(process.env[AUTHORIZER_ENV.cacheTtl] ?? options.environment?.[AUTHORIZER_ENV.cacheTtl] ?? 0);
  const spec: ProtectedResourcesSpec = {
    servers: mcpServers.map((server) => ({ path: server.path, scopeModel: server.scopeModel, authorizerCacheTtlSeconds: cacheTtl })),
    challenges: mcpServers.length > 1 ? 'authorizer' : 'gateway',
  };
  const problems = protectedResourcesProblems(spec);
  if (problems.length > 0) throw new Error(`local stack MCP servers: ${problems.join('; ')}`);
  const routes = routesFor(mcpServers.map((server) => server.path));

  // The SDK clients inside the bundles find the local endpoints through the standard AWS_* variables,
  // which they read when they first call, so these stay set while the stack runs.
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
    AWS_ENDPOINT_URL_KMS: kms.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.endpoint,
  });
  // What the construct would configure. The caller's environment (e.g. short lifetimes for tests) fills
  // in what the stack does not set, and `options.environment` overrides both; each function then gets
  // exactly its own variables of these (lib/functions.ts), as the construct gives them.
  const values: Record<string, string | undefined> = {
    ...process.env,
    [ENV.issuer]: issuer,
    [ENV.clientsTable]: tables.clients,
    [ENV.codesTable]: tables.codes,
    [ENV.grantsTable]: tables.grants,
    [ENV.pendingTable]: tables.pending,
    [ENV.consentsTable]: tables.consents,
    [ENV.signingKeyArn]: keyArn,
    [ENV.signingAlgorithm]: 'RS256',
    [AUTHORIZER_ENV.jwksUri]: `${issuer}/jwks.json`,
    [ENV.upstreamIssuer]: upstream.issuer,
    [ENV.upstreamClientId]: upstreamClient.client_id,
    [ENV.upstreamClientSecretArn]: secretArn,
    // `groups` puts the claim the default scope model's entitlements read (admins -> mcp:admin) into the ID token.
    [ENV.upstreamScopes]: 'openid profile email groups',
    [ENV.machineClients]: JSON.stringify(machineClients),
    [ENV.protectedResources]: JSON.stringify(spec),
    ...options.environment,
  };

  // The bundles read their configuration from the environment at import, as on Lambda: each is imported
  // once, at start and one after the other, while the environment holds its variables and no other.
  const handlers = new Map<AuthorizationServerFunction, unknown>();
  for (const name of AUTHORIZATION_SERVER_FUNCTIONS) {
    const url = pathToFileURL(resolve(assetsDir, name, 'index.mjs')).href;
    handlers.set(name, (await importWithEnvironment<{ handler: unknown }>(url, functionEnvironment(name, values))).handler);
  }
  // One instance of the example server per MCP server, each imported (a module instance of its own,
  // through the query) while the environment names that server, as McpServer configures its function.
  const mcpHandlers = new Map<string, ProxyHandler>();
  for (const server of mcpServers) {
    const own = {
      ...definedOnly({ [ENV.issuer]: values[ENV.issuer], [GUARD_ENV.allowedOrigins]: values[GUARD_ENV.allowedOrigins], [AUTHORIZER_ENV.clockTolerance]: values[AUTHORIZER_ENV.clockTolerance] }),
      [ENV.scopeModel]: JSON.stringify(server.scopeModel),
      [GUARD_ENV.resourcePath]: server.path,
    };
    const url = `${pathToFileURL(resolve(assetsDir, 'example-mcp', 'index.mjs')).href}?server=${encodeURIComponent(server.path)}`;
    mcpHandlers.set(server.path, (await importWithEnvironment<{ handler: ProxyHandler }>(url, own)).handler);
  }
  const proxyHandler = (route: { handler: HandlerName; mcpPath?: string }) =>
    route.handler === 'mcp' ? mcpHandlers.get(route.mcpPath!)! : (handlers.get(route.handler) as ProxyHandler);

  const [unauthorized, accessDenied] =
    spec.challenges === 'authorizer'
      ? perServerGatewayResponses()
      : authorizerGatewayResponses(`${issuer}${protectedResourceMetadataPath(mcpServers[0].path)}`, defaultScopes(mcpServers[0].scopeModel));

  // What API Gateway itself answers, mirroring the construct (lib/private/rest-api.ts).
  const noStoreJson = (statusCode: number, body: unknown, headers: Record<string, string> = {}): APIGatewayProxyResult => ({
    statusCode,
    headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', ...headers },
    body: JSON.stringify(body),
  });
  const challengeCors = { 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS.join(',') };
  const withCors = (response: { statusCode: number; headers: Record<string, string>; body: string }) => ({
    ...response,
    headers: { ...response.headers, ...challengeCors },
  });

  async function serve(request: IncomingMessage): Promise<APIGatewayProxyResult> {
    const url = new URL(request.url ?? '/', baseUrl);
    const prefix = `/${stage}`;
    if (!url.pathname.startsWith(`${prefix}/`)) return FORBIDDEN;
    const path = url.pathname.slice(prefix.length);
    const method = request.method ?? 'GET';
    const pathRoutes = routes.filter((route) => matchRoutePath(route.path, path));
    if (pathRoutes.length === 0) return noStoreJson(404, NOT_FOUND_BODY);
    const preflight = answersPreflight(pathRoutes);
    const allowed = allowedMethods(pathRoutes);
    if (method === 'OPTIONS' && preflight) {
      return {
        statusCode: 204,
        headers: {
          'Access-Control-Allow-Origin': '*',
          'Access-Control-Allow-Methods': allowed.join(','),
          'Access-Control-Allow-Headers': CORS_ALLOW_HEADERS.join(','),
          'Access-Control-Expose-Headers': CORS_EXPOSE_HEADERS.join(','),
          'Access-Control-Max-Age': '600',
        },
        body: '',
      };
    }
    const match = findRoute(method, path, routes);
    if (!match) return noStoreJson(405, METHOD_NOT_ALLOWED_BODY, { Allow: allowed.join(', ') });
    const body = await readBody(request);
    const event = toProxyEvent(request, body, { resource: match.route.path, stage, stagePath: path, pathParameters: match.pathParameters });
    if (match.route.authorization === 'bearer') {
      const authorizer = handlers.get('authorizer') as AuthorizerHandler;
      const authorizerEvent = {
        type: 'REQUEST',
        methodArn: `arn:aws:execute-api:us-east-1:000000000000:local/${stage}/${method}${match.route.path}`,
        resource: match.route.path,
        path: event.path,
        httpMethod: method,
        headers: event.headers,
        multiValueHeaders: event.multiValueHeaders,
        queryStringParameters: event.queryStringParameters,
        multiValueQueryStringParameters: event.multiValueQueryStringParameters,
        pathParameters: event.pathParameters,
        stageVariables: null,
        requestContext: event.requestContext,
      } as APIGatewayRequestAuthorizerEvent;
      let result: APIGatewayAuthorizerResult;
      try {
        result = await authorizer(authorizerEvent, lambdaContext());
      } catch (error) {
        if ((error as Error).message === 'Unauthorized') return withCors(renderGatewayResponse(unauthorized));
        return noStoreJson(500, { error: 'server_error', error_description: 'An unexpected error occurred.' });
      }
      const context = Object.fromEntries(Object.entries(result.context ?? {}).map(([k, v]) => [k, String(v)]));
      const allowedByPolicy = result.policyDocument.Statement.some((statement) => 'Effect' in statement && statement.Effect === 'Allow');
      if (!allowedByPolicy) return withCors(renderGatewayResponse(accessDenied, context));
      event.requestContext.authorizer = { ...context, principalId: result.principalId };
    }
    return proxyHandler(match.route)(event, lambdaContext());
  }

  server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    serve(request)
      .then((result) => writeProxyResult(response, result))
      .catch((error) => {
        process.stderr.write(`local stack: ${(error as Error).stack}\n`);
        writeProxyResult(response, { statusCode: 502, headers: { 'Content-Type': 'application/json' }, body: '{"message":"Internal server error"}' });
      });
  });

  return {
    baseUrl,
    issuer,
    mcpUrl: `${issuer}${mcpServers[0].path}`,
    mcpUrls: mcpServers.map((server) => `${issuer}${server.path}`),
    upstreamIssuer: upstream.issuer,
    machineClient,
    async stop() {
      server.closeAllConnections();
      await new Promise<void>((done) => server.close(() => done()));
      await upstream.stop();
      await secrets.stop();
      await kms.stop();
      await dynamo.stop();
    },
  };
}

