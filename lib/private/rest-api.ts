import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { _acknowledge } from '../acknowledgements';
import type { GatewayResponseDefinition } from '../authorizer-gateway';
import { allowedMethods, answersPreflight, AUTHORIZATION_SERVER_ROUTES, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, HandlerName, mcpServerRoutes, METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY, Route } from '../routes';

/**
 * Builds API Gateway from the routes manifest (lib/routes.ts): every route, and only those, becomes a
 * method. Anything the manifest does not list is answered by API Gateway itself: an unknown method on
 * a known path by a 405 MOCK, an unknown path by a 404 gateway response.
 */

/** Requests per second (steady) and burst, per handler. Registration is the tightest: nothing legitimate registers often. */
export const HANDLER_THROTTLING: Readonly<Record<AuthServerHandler, Required<apigateway.ThrottleSettings>>> = {
  register: { rateLimit: 1, burstLimit: 5 },
  authorize: { rateLimit: 20, burstLimit: 40 },
  token: { rateLimit: 50, burstLimit: 100 },
  metadata: { rateLimit: 50, burstLimit: 100 },
};

/** The handlers that serve routes of the authorization server (the authorizer serves none; `mcp` is the team's). */
export type AuthServerHandler = Exclude<HandlerName, 'mcp' | 'authorizer'>;

function handlerThrottling(route: Route): Required<apigateway.ThrottleSettings> {
  if (route.handler === 'mcp' || route.handler === 'authorizer') throw new Error(`The routes manifest maps ${routeKey(route)} to ${route.handler}, which has no throttling of its own`);
  return HANDLER_THROTTLING[route.handler];
}

/** Methods with no setting of their own (the 405 catch-alls and CORS preflights). */
export const DEFAULT_THROTTLING: Required<apigateway.ThrottleSettings> = { rateLimit: 20, burstLimit: 40 };

export const DEFAULT_MCP_THROTTLING: Required<apigateway.ThrottleSettings> = { rateLimit: 100, burstLimit: 200 };

/**
 * JSON access log lines. Identifiers and outcomes only: no header, query string or body can reach them
 * (the query of /authorize and /callback carries PKCE challenges and upstream codes).
 */
export function accessLogFormat(): apigateway.AccessLogFormat {
  return apigateway.AccessLogFormat.custom(
    JSON.stringify({
      requestId: '$context.requestId',
      extendedRequestId: '$context.extendedRequestId',
      ip: '$context.identity.sourceIp',
      userAgent: '$context.identity.userAgent',
      requestTime: '$context.requestTime',
      httpMethod: '$context.httpMethod',
      resourcePath: '$context.resourcePath',
      protocol: '$context.protocol',
      status: '$context.status',
      responseLength: '$context.responseLength',
      responseLatency: '$context.responseLatency',
      integrationStatus: '$context.integration.status',
      integrationLatency: '$context.integration.latency',
      errorType: '$context.error.responseType',
      wafStatus: '$context.waf.status',
      authorizerStatus: '$context.authorizer.status',
      authorizerLatency: '$context.authorizer.latency',
      principalId: '$context.authorizer.principalId',
      clientId: '$context.authorizer.client_id',
      scope: '$context.authorizer.scope',
      jti: '$context.authorizer.jti',
      mcpMethod: '$context.authorizer.mcp_method',
      mcpName: '$context.authorizer.mcp_name',
      callerType: '$context.authorizer.caller_type',
      requiredScope: '$context.authorizer.required_scope',
    }),
  );
}

function quoted(value: string): string {
  return `'${value}'`;
}

const JSON_CONTENT = 'application/json';
const NO_STORE = quoted('no-store');

/** The gateway response types of the authorizer challenges, which the construct adds on a brought API too (MCP clients cannot discover the authorization server without them). */
export const CHALLENGE_RESPONSE_TYPES = ['UNAUTHORIZED', 'ACCESS_DENIED'] as const;

/**
 * The authorizer's challenges (defined in the contract, lib/authorizer-gateway.ts, so the local stack
 * renders the same: `authorizerGatewayResponses` for one server, `perServerGatewayResponses` for
 * several), readable cross-origin so browser-based clients can start discovery from them.
 */
export function addChallengeResponses(api: apigateway.IRestApi, definitions: readonly GatewayResponseDefinition[]): apigateway.GatewayResponse[] {
  const challengeCors = { 'Access-Control-Allow-Origin': quoted('*'), 'Access-Control-Expose-Headers': quoted(CORS_EXPOSE_HEADERS.join(',')) };
  return definitions.map(
    (definition) =>
      new apigateway.GatewayResponse(api, definition.type === 'UNAUTHORIZED' ? 'UnauthorizedResponse' : 'AccessDeniedResponse', {
        restApi: api,
        type: apigateway.ResponseType.of(definition.type),
        statusCode: definition.statusCode,
        responseHeaders: { ...definition.responseHeaders, ...challengeCors },
        templates: { ...definition.templates },
      }),
  );
}

/**
 * The API-wide answers of an API the construct owns: an OAuth-shaped 404, 429 and 4XX/5XX without
 * internal detail (`$context.error.message` is never echoed). On a brought API they stay its owner's.
 */
export function addGenericResponses(api: apigateway.IRestApi): apigateway.GatewayResponse[] {
  const generic = (id: string, type: apigateway.ResponseType, body: object, statusCode?: string, extraHeaders: Record<string, string> = {}) =>
    new apigateway.GatewayResponse(api, id, {
      restApi: api,
      type,
      // DEFAULT_4XX/5XX keep each error's own status: setting one here would turn every 4XX into it.
      statusCode,
      responseHeaders: { 'Cache-Control': NO_STORE, ...extraHeaders },
      templates: { [JSON_CONTENT]: JSON.stringify(body) },
    });
  return [
    generic('NotFoundResponse', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, NOT_FOUND_BODY, '404'),
    generic('ThrottledResponse', apigateway.ResponseType.THROTTLED, { error: 'temporarily_unavailable', error_description: 'Too many requests. Try again shortly.' }, '429', {
      'Retry-After': quoted('1'),
    }),
    generic('Default4xxResponse', apigateway.ResponseType.DEFAULT_4XX, { error: 'invalid_request', error_description: 'The request was refused.' }),
    generic('Default5xxResponse', apigateway.ResponseType.DEFAULT_5XX, { error: 'server_error', error_description: 'An unexpected error occurred.' }),
  ];
}

/** Every method created from the manifest, keyed `METHOD path`. */
export type BuiltMethods = ReadonlyMap<string, apigateway.Method>;

/** Route key used in maps and messages: `POST /token`. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** One integration per function, so that every method of a function shares it. */
export class Integrations {
  private readonly byFunction = new Map<lambda.IFunction, apigateway.LambdaIntegration>();

  for(fn: lambda.IFunction): apigateway.LambdaIntegration {
    let integration = this.byFunction.get(fn);
    if (!integration) {
      // No test-invoke permission: the console's test button is not a reason to let anyone else invoke.
      integration = new apigateway.LambdaIntegration(fn, { allowTestInvoke: false });
      this.byFunction.set(fn, integration);
    }
    return integration;
  }
}

export interface RouteWiring {
  readonly api: apigateway.RestApi;
  /** The function behind each handler name the routes use. */
  readonly functions: Readonly<Partial<Record<Exclude<HandlerName, 'authorizer'>, lambda.IFunction>>>;
  readonly integrations: Integrations;
  /** The authorizer of the bearer routes. */
  readonly authorizer?: apigateway.IAuthorizer;
  /** Refuses a body without Content-Type on public POST and PUT routes. */
  readonly validator?: apigateway.RequestValidator;
}

/** A validator refusing a body without a Content-Type: it cannot be parsed as the form or JSON it must be. */
export function addRequestValidator(api: apigateway.RestApi): apigateway.RequestValidator {
  return new apigateway.RequestValidator(api, 'RequestValidator', { restApi: api, validateRequestBody: true, validateRequestParameters: true });
}

/**
 * Creates the methods of `routes` (paths no other call of this function serves), each path's CORS
 * preflight when it answers one, and its 405 for every other method.
 */
export function addRoutes(wiring: RouteWiring, routes: readonly Route[]): BuiltMethods {
  const { api } = wiring;
  const methods = new Map<string, apigateway.Method>();
  const resources = new Map<string, apigateway.Resource>();
  const routesByPath = new Map<string, Route[]>();
  for (const route of routes) {
    if (route.handler === 'authorizer') throw new Error(`The routes manifest maps ${routeKey(route)} to the authorizer, which serves no route`);
    const fn = wiring.functions[route.handler];
    if (!fn) throw new Error(`No function serves ${routeKey(route)} (handler ${route.handler})`);
    const resource = api.root.resourceForPath(route.path);
    resources.set(route.path, resource);
    routesByPath.set(route.path, [...(routesByPath.get(route.path) ?? []), route]);
    const integration = wiring.integrations.for(fn);
    let method: apigateway.Method;
    if (route.authorization === 'bearer') {
      if (!wiring.authorizer) throw new Error(`No authorizer for the bearer route ${routeKey(route)}`);
      method = resource.addMethod(route.method, integration, {
        authorizer: wiring.authorizer,
        authorizationType: apigateway.AuthorizationType.CUSTOM,
      });
      _acknowledge(method, 'bearerProtectedEndpoint', routeKey(route));
    } else {
      const hasBody = route.method === 'POST' || route.method === 'PUT';
      if (hasBody && !wiring.validator) throw new Error(`No request validator for ${routeKey(route)}`);
      method = resource.addMethod(route.method, integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
        ...(hasBody ? { requestParameters: { 'method.request.header.Content-Type': true }, requestValidator: wiring.validator } : {}),
      });
      _acknowledge(method, 'publicOAuthEndpoint', routeKey(route));
    }
    methods.set(routeKey(route), method);
  }

  for (const [path, pathRoutes] of routesByPath) {
    const resource = resources.get(path)!;
    const allowed = allowedMethods(pathRoutes);
    if (answersPreflight(pathRoutes)) {
      resource.addCorsPreflight({
        allowOrigins: ['*'],
        allowMethods: allowed,
        allowHeaders: CORS_ALLOW_HEADERS,
        exposeHeaders: CORS_EXPOSE_HEADERS,
        maxAge: Duration.minutes(10),
        statusCode: 204,
      });
    }
    addMethodNotAllowed(resource, allowed);
  }
  return methods;
}

/** The routes of the authorization server itself, whatever MCP servers it serves. */
export function addAuthorizationServerRoutes(wiring: RouteWiring): BuiltMethods {
  return addRoutes(wiring, AUTHORIZATION_SERVER_ROUTES);
}

/** The routes of one MCP server: its protected resource metadata (on the metadata function) and its endpoint behind `authorizer`. */
export function addMcpServerRoutes(wiring: RouteWiring, mcpPath: string): BuiltMethods {
  const routes = mcpServerRoutes(mcpPath);
  return addRoutes(wiring, [routes.metadata, ...routes.endpoint]);
}

/**
 * ANY on a manifest path is API Gateway's fallback for methods the path does not define: it answers 405
 * with `Allow` from a MOCK integration, so no function runs and no authorizer is needed.
 */
function addMethodNotAllowed(resource: apigateway.Resource, allowed: readonly string[]): void {
  const headers = { 'method.response.header.Allow': quoted(allowed.join(', ')), 'method.response.header.Cache-Control': NO_STORE };
  const method = resource.addMethod(
    'ANY',
    new apigateway.MockIntegration({
      requestTemplates: { [JSON_CONTENT]: '{"statusCode": 405}' },
      integrationResponses: [
        {
          statusCode: '405',
          responseParameters: headers,
          responseTemplates: { [JSON_CONTENT]: JSON.stringify(METHOD_NOT_ALLOWED_BODY) },
        },
      ],
    }),
    {
      authorizationType: apigateway.AuthorizationType.NONE,
      methodResponses: [{ statusCode: '405', responseParameters: Object.fromEntries(Object.keys(headers).map((key) => [key, true])) }],
    },
  );
  _acknowledge(method, 'methodNotAllowedMock', `ANY ${resource.path}`);
}

/** A CloudFormation MethodSetting: the resource path keeps a leading `/` and encodes every `/` of the path as `~1` (`/~1register~1{client_id}`). */
function methodSetting(path: string, httpMethod: string, throttling: Required<apigateway.ThrottleSettings>, loggingLevel: string) {
  return {
    resourcePath: `/${path.replace(/\//g, '~1')}`,
    httpMethod,
    throttlingRateLimit: throttling.rateLimit,
    throttlingBurstLimit: throttling.burstLimit,
    // A method setting replaces the stage default for that method entirely: restate logging and caching.
    loggingLevel,
    dataTraceEnabled: false,
    metricsEnabled: true,
    cachingEnabled: false,
  };
}

/**
 * Per-route throttling (and the restated logging/caching defaults) of the stage, after its own method
 * settings. `update` rewrites the construct's part for the routes given (in manifest order), so routes
 * added later (another MCP server) keep the list in one order. `loggingLevel` undefined keeps the
 * stage's own execution logging level on the construct's methods (OFF when the stage sets none): a
 * brought stage's owner decides whether the account has the CloudWatch role that execution logging needs.
 */
export class MethodSettings {
  private readonly cfnStage: apigateway.CfnStage;
  private readonly existing: apigateway.CfnStage.MethodSettingProperty[];
  private readonly level: string;

  constructor(stage: apigateway.Stage, loggingLevel?: apigateway.MethodLoggingLevel) {
    this.cfnStage = stage.node.defaultChild as apigateway.CfnStage;
    const existing = this.cfnStage.methodSettings;
    if (existing !== undefined && !Array.isArray(existing)) {
      throw new Error(`Cannot add method throttling to stage ${stage.node.path}: its MethodSettings are not a plain list`);
    }
    this.existing = [...((existing as apigateway.CfnStage.MethodSettingProperty[] | undefined) ?? [])];
    const stageDefaults = this.existing.find((setting) => setting.resourcePath === '/*' && setting.httpMethod === '*');
    this.level = loggingLevel ?? stageDefaults?.loggingLevel ?? apigateway.MethodLoggingLevel.OFF;
  }

  /** `mcpThrottling`: each MCP server's, by its path. */
  update(routes: readonly Route[], mcpThrottling: ReadonlyMap<string, Required<apigateway.ThrottleSettings>>): void {
    const throttling = (route: Route) => {
      if (route.handler !== 'mcp') return handlerThrottling(route);
      const server = mcpThrottling.get(route.mcpPath ?? '');
      if (!server) throw new Error(`No throttling for the MCP server of ${routeKey(route)}`);
      return server;
    };
    this.cfnStage.methodSettings = [...this.existing, ...routes.map((route) => methodSetting(route.path, route.method, throttling(route), this.level))];
  }
}
