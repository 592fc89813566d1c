import { Duration } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { _acknowledge } from '../acknowledgements';
import { authorizerGatewayResponses } from '../../lambda/runtime/edge';
import { allowedMethods, CORS_ALLOW_HEADERS, CORS_EXPOSE_HEADERS, HandlerName, METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY, Route, ROUTES } from '../routes';

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

function throttlingFor(route: Route, mcpThrottling: Required<apigateway.ThrottleSettings>): Required<apigateway.ThrottleSettings> {
  if (route.handler === 'mcp') return mcpThrottling;
  if (route.handler === 'authorizer') throw new Error(`The routes manifest maps ${routeKey(route)} to the authorizer, which serves no route`);
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

/**
 * Which gateway responses the construct adds: all of them on its own API; on a brought one only the
 * authorizer challenges, without which MCP clients cannot discover the authorization server.
 */
export type GatewayResponseScope = 'all' | 'challenges';

/** The gateway response types `addGatewayResponses` adds with the `challenges` scope. */
export const CHALLENGE_RESPONSE_TYPES = ['UNAUTHORIZED', 'ACCESS_DENIED'] as const;

/**
 * Gateway responses: the authorizer's 401 and 403 challenges (defined with the authorizer in
 * lambda/runtime/edge.ts, so the local stack renders the same), readable cross-origin so browser-based
 * clients can start discovery from them; an OAuth-shaped 404, 429 and 4XX/5XX without internal detail
 * (`$context.error.message` is never echoed).
 */
export function addGatewayResponses(api: apigateway.IRestApi, resourceMetadataUrl: string, defaultScopes: readonly string[], scope: GatewayResponseScope): apigateway.GatewayResponse[] {
  const challengeCors = { 'Access-Control-Allow-Origin': quoted('*'), 'Access-Control-Expose-Headers': quoted(CORS_EXPOSE_HEADERS.join(',')) };
  const challenges = authorizerGatewayResponses(resourceMetadataUrl, defaultScopes).map(
    (definition) =>
      new apigateway.GatewayResponse(api, definition.type === 'UNAUTHORIZED' ? 'UnauthorizedResponse' : 'AccessDeniedResponse', {
        restApi: api,
        type: apigateway.ResponseType.of(definition.type),
        statusCode: definition.statusCode,
        responseHeaders: { ...definition.responseHeaders, ...challengeCors },
        templates: { ...definition.templates },
      }),
  );
  // On an API someone else owns, its 404, 429 and 4XX/5XX answers stay theirs.
  if (scope === 'challenges') return challenges;
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
    ...challenges,
    generic('NotFoundResponse', apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN, NOT_FOUND_BODY, '404'),
    generic('ThrottledResponse', apigateway.ResponseType.THROTTLED, { error: 'temporarily_unavailable', error_description: 'Too many requests. Try again shortly.' }, '429', {
      'Retry-After': quoted('1'),
    }),
    generic('Default4xxResponse', apigateway.ResponseType.DEFAULT_4XX, { error: 'invalid_request', error_description: 'The request was refused.' }),
    generic('Default5xxResponse', apigateway.ResponseType.DEFAULT_5XX, { error: 'server_error', error_description: 'An unexpected error occurred.' }),
  ];
}

export interface RouteWiring {
  readonly api: apigateway.RestApi;
  readonly functions: Readonly<Record<Exclude<HandlerName, 'authorizer'>, lambda.IFunction>>;
  readonly authorizer: apigateway.IAuthorizer;
}

export interface BuiltRoutes {
  /** Every method created from the manifest, keyed `METHOD path`. */
  readonly methods: ReadonlyMap<string, apigateway.Method>;
  readonly resources: ReadonlyMap<string, apigateway.Resource>;
}

/** Route key used in maps and messages: `POST /token`. */
export function routeKey(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method} ${route.path}`;
}

/** The public routes a browser calls cross-origin answer CORS preflights: metadata (`cors`) and the MCP endpoint, as the local stack does. */
function answersPreflight(routes: readonly Route[]): boolean {
  return routes.some((route) => route.cors === true || route.authorization === 'bearer');
}

export function addRoutes(wiring: RouteWiring): BuiltRoutes {
  const { api } = wiring;
  const integrations = new Map<string, apigateway.LambdaIntegration>();
  const integrationFor = (handler: Exclude<HandlerName, 'authorizer'>) => {
    let integration = integrations.get(handler);
    if (!integration) {
      // No test-invoke permission: the console's test button is not a reason to let anyone else invoke.
      integration = new apigateway.LambdaIntegration(wiring.functions[handler], { allowTestInvoke: false });
      integrations.set(handler, integration);
    }
    return integration;
  };
  const validator = new apigateway.RequestValidator(api, 'RequestValidator', {
    restApi: api,
    validateRequestBody: true,
    validateRequestParameters: true,
  });

  const methods = new Map<string, apigateway.Method>();
  const resources = new Map<string, apigateway.Resource>();
  const routesByPath = new Map<string, Route[]>();
  for (const route of ROUTES) {
    if (route.handler === 'authorizer') throw new Error(`The routes manifest maps ${routeKey(route)} to the authorizer, which serves no route`);
    const resource = api.root.resourceForPath(route.path);
    resources.set(route.path, resource);
    routesByPath.set(route.path, [...(routesByPath.get(route.path) ?? []), route]);
    const integration = integrationFor(route.handler);
    let method: apigateway.Method;
    if (route.authorization === 'bearer') {
      method = resource.addMethod(route.method, integration, {
        authorizer: wiring.authorizer,
        authorizationType: apigateway.AuthorizationType.CUSTOM,
      });
    } else {
      // A body without a Content-Type cannot be parsed as the form or JSON it must be: refuse it at the edge.
      const hasBody = route.method === 'POST' || route.method === 'PUT';
      method = resource.addMethod(route.method, integration, {
        authorizationType: apigateway.AuthorizationType.NONE,
        ...(hasBody ? { requestParameters: { 'method.request.header.Content-Type': true }, requestValidator: validator } : {}),
      });
      _acknowledge(method, 'publicOAuthEndpoint', routeKey(route));
    }
    if (route.authorization === 'bearer') _acknowledge(method, 'bearerProtectedEndpoint', routeKey(route));
    methods.set(routeKey(route), method);
  }

  for (const [path, routes] of routesByPath) {
    const resource = resources.get(path)!;
    const preflight = answersPreflight(routes);
    const allowed = allowedMethods(routes);
    if (preflight) {
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
  return { methods, resources };
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
 * Per-route throttling (and the restated logging/caching defaults), appended to the stage's method
 * settings. `loggingLevel` undefined keeps the stage's own execution logging level on the construct's
 * methods (OFF when the stage sets none): a brought stage's owner decides whether the account has the
 * CloudWatch role that execution logging needs.
 */
export function addMethodSettings(stage: apigateway.Stage, mcpThrottling: Required<apigateway.ThrottleSettings>, loggingLevel?: apigateway.MethodLoggingLevel): void {
  const cfnStage = stage.node.defaultChild as apigateway.CfnStage;
  const existing = cfnStage.methodSettings;
  if (existing !== undefined && !Array.isArray(existing)) {
    throw new Error(`Cannot add method throttling to stage ${stage.node.path}: its MethodSettings are not a plain list`);
  }
  const stageDefaults = (existing as apigateway.CfnStage.MethodSettingProperty[] | undefined)?.find((setting) => setting.resourcePath === '/*' && setting.httpMethod === '*');
  const level = loggingLevel ?? stageDefaults?.loggingLevel ?? apigateway.MethodLoggingLevel.OFF;
  const settings = ROUTES.map((route) => methodSetting(route.path, route.method, throttlingFor(route, mcpThrottling), level));
  cfnStage.methodSettings = [...((existing as apigateway.CfnStage.MethodSettingProperty[] | undefined) ?? []), ...settings];
}
