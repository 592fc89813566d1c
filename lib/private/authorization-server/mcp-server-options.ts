import { Duration, Stack, Token } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type { Construct } from 'constructs';
import { MAX_AUTHORIZER_CACHE_TTL_SECONDS } from '../../authorizer-gateway';
import type { Firewall } from '../../firewall';
import type { IdentityProvider } from '../../identity-provider';
import type { McpServerBaseOptions, McpServerOptions } from '../../mcp-server';
import { DEFAULT_MCP_PATH, mcpPathProblem } from '../../protected-resources';
import { DEFAULT_SCOPE_MODEL, type ScopeModel, validateScopeModel } from '../../scopes';
import type { ProtectedServer, ServerNaming } from '../protected-server';
import { DEFAULT_MCP_THROTTLING } from '../rest-api';
import { isOrigin, Problems } from '../validation';
import { exceeds } from './props';

/**
 * The first step of adding an MCP server to an authorization server (`_protect`): its options checked
 * against each other and against the servers already added (all problems at once), defaults applied.
 */

export interface ResolvedMcpServerOptions {
  readonly path: string;
  readonly scopeModel: ScopeModel;
  readonly authorizerCacheTtlSeconds: number;
  readonly throttling: Required<apigateway.ThrottleSettings>;
  /** The handler is a function of the authorization server's stack. */
  readonly handlerInStack: boolean;
}

/** What the authorization server tells about itself to the check. */
export interface McpServerCheckContext {
  readonly authorizationServer: Construct;
  /** The authorization server's name in messages. */
  readonly kind: string;
  readonly identityProvider: IdentityProvider;
  readonly accessTokenTtl: Duration;
  /** The issuer is a literal (a custom domain): a handler of another stack can be given it. */
  readonly domainName: boolean;
  readonly firewall: Firewall;
  readonly servers: readonly ProtectedServer[];
}

export function resolveMcpServerOptions(owner: Construct, options: McpServerOptions, naming: ServerNaming, context: McpServerCheckContext): ResolvedMcpServerOptions {
  const stack = Stack.of(context.authorizationServer);
  const problems = new Problems();
  const path = options.path ?? DEFAULT_MCP_PATH;
  const pathProblem = mcpPathProblem(path);
  if (pathProblem) problems.add(pathProblem);
  else {
    const shadowed = context.firewall._pathProblem(path);
    if (shadowed) problems.add(shadowed);
  }
  const taken = context.servers.find((server) => server.path === path);
  if (taken) problems.add(`path ${path} is served by ${taken.owner.node.path} already: every MCP server needs a path of its own`);
  const sameHandler = context.servers.find((server) => server.handler === options.handler);
  if (sameHandler) {
    problems.add(`handler serves ${sameHandler.owner.node.path} already: its runtime guard accepts the tokens of one MCP server (MCP_RESOURCE_PATH, SCOPE_MODEL), so give each server a function of its own`);
  }
  const earlierDefault = context.servers.find((server) => server.defaultResource);
  if (options.defaultResource && earlierDefault) {
    problems.add(`defaultResource is set on ${earlierDefault.owner.node.path} already: a request without resource can mean only one MCP server`);
  }
  const scopeModel = resolveScopeModel(options, context.identityProvider, problems);
  const authorizerCacheTtl = options.authorizerCacheTtl ?? Duration.seconds(0);
  problems.duration('authorizerCacheTtl', authorizerCacheTtl, Duration.seconds(0), Duration.seconds(MAX_AUTHORIZER_CACHE_TTL_SECONDS), `0 and ${MAX_AUTHORIZER_CACHE_TTL_SECONDS} seconds`);
  if (exceeds(authorizerCacheTtl, context.accessTokenTtl)) {
    problems.add(`authorizerCacheTtl must not exceed accessTokenTtl (${context.accessTokenTtl.toHumanString()}), got ${authorizerCacheTtl.toHumanString()}`);
  }
  const throttling = { ...DEFAULT_MCP_THROTTLING, ...options.throttling };
  problems.integer(`${naming.throttlingProp}.burstLimit`, throttling.burstLimit, 1, 5000);
  if (!Token.isUnresolved(throttling.rateLimit) && !(throttling.rateLimit > 0 && throttling.rateLimit <= 10000)) {
    problems.add(`${naming.throttlingProp}.rateLimit must be above 0 and at most 10000 requests per second, got ${throttling.rateLimit}`);
  }
  for (const origin of options.allowedOrigins ?? []) {
    if (!Token.isUnresolved(origin) && !isOrigin(origin)) problems.add(`allowedOrigins must hold origins like https://app.example.com (no path, no trailing slash, lower case), got ${JSON.stringify(origin)}`);
  }
  const handlerStack = Stack.of(options.handler);
  if (handlerStack !== stack && !context.domainName) {
    problems.add(
      `handler is a function of ${handlerStack.node.path}, and the issuer the runtime guard needs (${naming.kind}.mcpFunctionEnvironment) names the REST API of ${stack.node.path}: setting it there would make each stack depend on the other. Create the MCP function in ${stack.node.path}, or set domainName on the ${context.kind}, so that the issuer is known at synth`,
    );
  }
  problems.throwIfAny(owner.node.path, `${naming.kind} props`);
  return { path, scopeModel, authorizerCacheTtlSeconds: authorizerCacheTtl.toSeconds(), throttling, handlerInStack: handlerStack === stack };
}

function resolveScopeModel(props: McpServerBaseOptions, identityProvider: IdentityProvider, problems: Problems): ScopeModel {
  const model: ScopeModel =
    props.scopes === undefined
      ? {
          scopes: DEFAULT_SCOPE_MODEL.scopes,
          toolScopes: props.toolScopes ?? DEFAULT_SCOPE_MODEL.toolScopes,
          // The default entitlement reads the groups claim of the provider actually used (Cognito: cognito:groups).
          entitlements: props.entitlements ?? DEFAULT_SCOPE_MODEL.entitlements.map((entitlement) => ({ ...entitlement, claim: identityProvider.groupsClaim })),
        }
      : { scopes: props.scopes, toolScopes: props.toolScopes ?? {}, entitlements: props.entitlements ?? [] };
  for (const problem of validateScopeModel(model)) problems.add(`the scope model is invalid: ${problem}`);
  return model;
}
