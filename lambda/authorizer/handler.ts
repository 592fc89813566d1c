import { formatScopes } from '../../lib/scopes';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { createAudit, type AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import { ALLOW_CONTEXT } from '../runtime/caller';
import { insufficientScopeDenyContext, unauthorizedDenyContext } from '../../lib/authorizer-gateway';
import type { AuthorizerConfig, AuthorizerRoutes } from './config';
import { decide, type Decision, type Operation } from './decide';
import type { VerificationKeys } from '../shared/verification-keys';
import type { VerifiedAccessToken } from '../shared/access-token-verifier';

/**
 * The REQUEST authorizer of every MCP server's routes, as API Gateway REST APIs expect it. The event's
 * `resource` (the route's path) selects the server, and so the one audience its tokens must carry.
 * With `challenges: gateway` (one server):
 * - allow: an Allow policy for exactly this method ARN, with the caller as context;
 * - insufficient scope: an explicit Deny (-> ACCESS_DENIED, 403) whose context carries the challenge;
 * - anything else: `throw new Error('Unauthorized')`, API Gateway's static 401 naming the one server.
 * With `challenges: authorizer` (several servers) a refused token is an explicit Deny whose context
 * carries this server's 401 challenge (ACCESS_DENIED is then the 401), and a token of this audience
 * lacking a scope is allowed on to the runtime guard, which answers 403 with this server's challenge.
 * Every denial writes one `rs.denied` audit line; allowed calls write nothing (the access log has them).
 */

/** The exact error message API Gateway maps to 401 UNAUTHORIZED; any other error becomes a 500. */
export const UNAUTHORIZED = 'Unauthorized';

export interface AuthorizerDependencies {
  /** Each MCP server's configuration by its route path (`loadAuthorizerRoutes`). */
  readonly config: AuthorizerRoutes;
  /** The pinned keys; a promise only until a JWKS_URI fetch has completed. */
  readonly keys: () => VerificationKeys | Promise<VerificationKeys>;
  readonly clock: Clock;
  readonly auditSink: AuditSink;
}

export type AuthorizerHandler = (event: APIGatewayRequestAuthorizerEvent) => Promise<APIGatewayAuthorizerResult>;

function policy(claims: VerifiedAccessToken, effect: 'Allow' | 'Deny', methodArn: string, context: Record<string, string>): APIGatewayAuthorizerResult {
  return {
    principalId: claims.sub,
    // Only this method ARN: a cached result can never cover another method or path (JWT-21).
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: effect, Resource: methodArn }] },
    context,
  };
}

/**
 * REV-10: the operation names come from request headers and the API access log prints them inside a
 * JSON template without escaping, so only a conservative character set (MCP method names, and tool
 * names as the spec recommends them) reaches the context; anything else is left out.
 */
const SAFE_METHOD = /^[A-Za-z0-9/_.-]{1,64}$/;
const SAFE_NAME = /^[A-Za-z0-9/_.:@-]{1,128}$/;

function allowContext(claims: VerifiedAccessToken, operation: Operation | undefined): Record<string, string> {
  const context: Record<string, string> = {
    [ALLOW_CONTEXT.sub]: claims.sub,
    [ALLOW_CONTEXT.clientId]: claims.clientId,
    [ALLOW_CONTEXT.scope]: claims.scope,
    [ALLOW_CONTEXT.jti]: claims.jti,
    [ALLOW_CONTEXT.expiresAt]: String(claims.exp),
    [ALLOW_CONTEXT.callerType]: claims.machine ? 'machine' : 'user',
    // The audience the edge verified: the guard refuses a context naming another server (MRS-03).
    [ALLOW_CONTEXT.audience]: claims.aud,
  };
  if (claims.username !== undefined) context[ALLOW_CONTEXT.username] = claims.username;
  if (operation && SAFE_METHOD.test(operation.method)) context[ALLOW_CONTEXT.mcpMethod] = operation.method;
  if (operation?.name !== undefined && SAFE_NAME.test(operation.name)) context[ALLOW_CONTEXT.mcpName] = operation.name;
  return context;
}

/** Decides, and never throws: an unexpected failure while reading a hostile request is a malformed token, not a 500. */
function safeDecide(event: APIGatewayRequestAuthorizerEvent, keys: VerificationKeys, config: AuthorizerConfig, now: number): Decision {
  try {
    return decide(event, keys, config, now);
  } catch {
    return { effect: 'unauthorized', reason: 'malformed', tokenPresented: true };
  }
}

/** The audit logger of a denied request (allowed requests write nothing, so it is made only on denial). */
function denialAudit(event: APIGatewayRequestAuthorizerEvent, sink: AuditSink, clock: Clock) {
  return createAudit(
    {
      requestId: event.requestContext?.requestId ?? 'unknown',
      ip: event.requestContext?.identity?.sourceIp ?? undefined,
      userAgent: event.requestContext?.identity?.userAgent ?? undefined,
    },
    sink,
    clock,
  );
}

export function createAuthorizerHandler(dependencies: AuthorizerDependencies): AuthorizerHandler {
  const { clock, auditSink } = dependencies;
  const routes = dependencies.config;
  return async (event) => {
    // A key-loading failure is an outage, not a bad token: let it surface as a 500 (AUTHORIZER_FAILURE).
    const pending = dependencies.keys();
    const keys = pending instanceof Promise ? await pending : pending;
    const config = routes.get(event.resource ?? '');
    if (!config) {
      // A route wired to this authorizer that no server claims: fail closed.
      denialAudit(event, auditSink, clock)('rs.denied', { reason: 'unknown_route', token_presented: false });
      throw new Error(UNAUTHORIZED);
    }
    const decision = safeDecide(event, keys, config, clock());
    if (decision.effect === 'allow') return policy(decision.claims, 'Allow', allowedResource(event.methodArn, config), allowContext(decision.claims, decision.operation));

    if (decision.effect === 'forbidden') {
      denialAudit(event, auditSink, clock)('rs.denied', {
        reason: decision.reason,
        client_id: decision.claims.clientId,
        sub: decision.claims.sub,
        scope_required: [...decision.requiredScopes],
        ...(decision.operation ? { mcp_method: decision.operation.method.slice(0, 64), mcp_name: decision.operation.name?.slice(0, 128) } : {}),
        ...(config.challenges === 'authorizer' ? { enforced_by: 'guard' } : {}),
      });
      // Every Deny is a 401 here, so the guard gives the 403 (it checks the same scopes on every request).
      if (config.challenges === 'authorizer') {
        const context = { ...allowContext(decision.claims, decision.operation), [ALLOW_CONTEXT.scopeDenied]: formatScopes(decision.requiredScopes) };
        return policy(decision.claims, 'Allow', event.methodArn, context);
      }
      return policy(decision.claims, 'Deny', event.methodArn, insufficientScopeDenyContext(config.resourceMetadataUrl, decision.requiredScopes));
    }
    denialAudit(event, auditSink, clock)('rs.denied', { reason: decision.reason, token_presented: decision.tokenPresented });
    if (config.challenges === 'authorizer') {
      return unauthorizedPolicy(event.methodArn, unauthorizedDenyContext(config.resourceMetadataUrl, config.defaultScopes, decision.tokenPresented));
    }
    throw new Error(UNAUTHORIZED);
  };
}

/**
 * What an Allow covers. Exactly this method ARN (JWT-21), except for a server whose decisions API Gateway
 * caches behind per-server challenges: there the cached Allow covers every method of this server's own
 * path (the method part of the ARN a wildcard), so the GET stream a client opens after its POST with the same token is
 * not refused by a cached POST-only policy (which that mode would answer with an empty 401). It never
 * covers another path, and the decision was made on the token alone (no per-tool edge decision when
 * cached; the guard checks every request).
 */
function allowedResource(methodArn: string, config: AuthorizerConfig): string {
  if (config.challenges !== 'authorizer' || config.edgeToolScopes) return methodArn;
  const parts = methodArn.split('/');
  if (parts.length < 4) return methodArn;
  parts[2] = '*';
  return parts.join('/');
}

/** A Deny with no verified principal: API Gateway requires a principalId, and nothing here may name the caller. */
function unauthorizedPolicy(methodArn: string, context: Record<string, string>): APIGatewayAuthorizerResult {
  return {
    principalId: 'anonymous',
    policyDocument: { Version: '2012-10-17', Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: methodArn }] },
    context,
  };
}
