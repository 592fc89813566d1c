import type { McpCaller } from './caller';
import { guardRequest, guardResponse, type GuardOutcome, type McpProxyEvent, type McpProxyResult } from './guard';
import { resolveGuardOptions, type McpGuardOptions } from './options';

/**
 * The guard as a middy middleware and as a plain wrapper. Both resolve their options once, when the
 * handler is built at module scope, and keep every per-request value on the request itself.
 */

/** What a middy 7 request offers a middleware; declared here so the runtime does not depend on @middy/core. */
export interface MiddyRequestLike<E, C> {
  event: E;
  context: C;
  response: unknown;
  internal: Record<string | symbol, unknown>;
}

const OUTCOME = Symbol('cdk-secure-mcp-server/guard-outcome');

/** The caller the middy middleware attached to the Lambda context; undefined when the guard did not run. */
export function mcpCallerOf(context: object): McpCaller | undefined {
  return (context as { mcpCaller?: McpCaller }).mcpCaller;
}

/**
 * `middy(handler).use(mcpGuard(options))`. Refusals end the request in `before`; allowed requests reach
 * the handler without their Authorization header and with `context.mcpCaller` set (read it with
 * `mcpCallerOf(context)`); `after` filters `tools/list` results.
 */
export function mcpGuard<E extends McpProxyEvent, C extends object>(options: McpGuardOptions) {
  const resolved = resolveGuardOptions(options);
  return {
    before: (request: MiddyRequestLike<E, C>): McpProxyResult | undefined => {
      const outcome = guardRequest(request.event, resolved);
      if (!outcome.proceed) return outcome.response;
      request.event = outcome.event;
      // The Lambda context object is per invocation, so the caller cannot leak into another request.
      (request.context as { mcpCaller?: McpCaller }).mcpCaller = outcome.caller;
      request.internal[OUTCOME] = outcome;
      return undefined;
    },
    after: (request: MiddyRequestLike<E, C>): void => {
      const outcome = request.internal[OUTCOME] as GuardOutcome<E> | undefined;
      if (outcome && request.response) request.response = guardResponse(request.response as McpProxyResult, outcome, resolved);
    },
  };
}

export type GuardedHandler<E, C, R extends McpProxyResult> = (event: E, context: C, caller: McpCaller) => Promise<R>;

/** Wraps a plain handler: `export const handler = withMcpGuard(async (event, context, caller) => ..., options)`. */
export function withMcpGuard<E extends McpProxyEvent, C, R extends McpProxyResult>(
  handler: GuardedHandler<E, C, R>,
  options: McpGuardOptions,
): (event: E, context: C) => Promise<R | McpProxyResult> {
  const resolved = resolveGuardOptions(options);
  return async (event, context) => {
    const outcome = guardRequest(event, resolved);
    if (!outcome.proceed) return outcome.response;
    const response = await handler(outcome.event, context, outcome.caller);
    return guardResponse(response, outcome, resolved);
  };
}
