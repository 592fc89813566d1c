import type { APIGatewayAuthorizerResult, APIGatewayProxyEvent, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { authorizerGatewayResponses, renderGatewayResponse } from '../../lib/authorizer-gateway';
import { authorizerEvent, METHOD_ARN, PRM_URL, type EventOptions } from './tokens';

/**
 * A small emulation of what API Gateway (REST) does around a REQUEST authorizer, per its documentation:
 * a thrown `Unauthorized` becomes the UNAUTHORIZED gateway response (401), any other error a 500, an
 * explicit Deny or a policy that does not cover the method ARN the ACCESS_DENIED response (403) with the
 * Deny's context mapped in, and an Allow invokes the integration with the context as
 * `requestContext.authorizer`. With a TTL, results are cached per identity-source values and every
 * identity source is required. Used to test the authorizer, the gateway responses and the guard together.
 */

export interface GatewayResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export type Integration = (event: APIGatewayProxyEvent) => Promise<GatewayResponse>;

export interface GatewayOptions {
  readonly authorizer: (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;
  readonly integration: Integration;
  readonly defaultScopes?: readonly string[];
  readonly ttlSeconds?: number;
  /** Header names API Gateway uses as identity sources. */
  readonly identitySources?: readonly string[];
  /** Seconds; drives cache expiry. */
  readonly clock?: () => number;
}

export interface GatewayRequest extends EventOptions {
  readonly body?: string;
}

/** IAM-style ARN matching for execute-api resources: `*` any run of characters, `?` one character. */
export function arnMatches(pattern: string, arn: string): boolean {
  const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  return regex.test(arn);
}

function policyEffect(result: APIGatewayAuthorizerResult, methodArn: string): 'Allow' | 'Deny' {
  const statements = result.policyDocument.Statement as Array<{ Effect: string; Resource: string | string[] }>;
  const covers = (statement: { Resource: string | string[] }) =>
    (Array.isArray(statement.Resource) ? statement.Resource : [statement.Resource]).some((resource) => arnMatches(resource, methodArn));
  if (statements.some((statement) => statement.Effect === 'Deny' && covers(statement))) return 'Deny';
  return statements.some((statement) => statement.Effect === 'Allow' && covers(statement)) ? 'Allow' : 'Deny';
}

function proxyEvent(authorizerEventValue: APIGatewayRequestAuthorizerEvent, body: string | undefined, result: APIGatewayAuthorizerResult): APIGatewayProxyEvent {
  const stringContext = Object.fromEntries(Object.entries(result.context ?? {}).map(([key, value]) => [key, String(value)]));
  return {
    httpMethod: 'POST',
    path: '/mcp',
    resource: '/mcp',
    headers: authorizerEventValue.headers ?? {},
    multiValueHeaders: authorizerEventValue.multiValueHeaders ?? {},
    body: body ?? null,
    isBase64Encoded: false,
    pathParameters: null,
    queryStringParameters: authorizerEventValue.queryStringParameters,
    multiValueQueryStringParameters: authorizerEventValue.multiValueQueryStringParameters,
    stageVariables: null,
    requestContext: {
      ...authorizerEventValue.requestContext,
      domainName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      authorizer: { ...stringContext, principalId: result.principalId },
    } as APIGatewayProxyEvent['requestContext'],
  };
}

export function createGateway(options: GatewayOptions) {
  const [unauthorized, accessDenied] = authorizerGatewayResponses(PRM_URL, options.defaultScopes ?? ['mcp:tools']);
  const ttl = options.ttlSeconds ?? 0;
  const clock = options.clock ?? (() => 0);
  const cache = new Map<string, { result: APIGatewayAuthorizerResult; expires: number }>();
  let authorizerInvocations = 0;
  let integrationInvocations = 0;

  async function request(input: GatewayRequest): Promise<GatewayResponse> {
    const event = authorizerEvent(input);
    let result: APIGatewayAuthorizerResult | undefined;
    let cacheKey: string | undefined;
    if (ttl > 0) {
      const values = (options.identitySources ?? []).map((name) => event.multiValueHeaders?.[Object.keys(event.multiValueHeaders).find((key) => key.toLowerCase() === name.toLowerCase()) ?? '']?.join(','));
      if (values.some((value) => value === undefined || value === '')) return renderGatewayResponse(unauthorized);
      cacheKey = JSON.stringify(values);
      const cached = cache.get(cacheKey);
      if (cached && cached.expires > clock()) result = cached.result;
    }
    if (!result) {
      authorizerInvocations++;
      try {
        result = await options.authorizer(event);
      } catch (error) {
        if ((error as Error).message === 'Unauthorized') return renderGatewayResponse(unauthorized);
        return { statusCode: 500, headers: {}, body: '{"message":null}' };
      }
      if (cacheKey !== undefined) cache.set(cacheKey, { result, expires: clock() + ttl });
    }
    if (policyEffect(result, event.methodArn) === 'Deny') {
      const context = Object.fromEntries(Object.entries(result.context ?? {}).map(([key, value]) => [key, String(value)]));
      return renderGatewayResponse(accessDenied, context);
    }
    integrationInvocations++;
    return options.integration(proxyEvent(event, input.body, result));
  }

  return {
    request,
    get authorizerInvocations() {
      return authorizerInvocations;
    },
    get integrationInvocations() {
      return integrationInvocations;
    },
  };
}

export const OTHER_METHOD_ARN = METHOD_ARN.replace('/POST/mcp', '/DELETE/mcp');
