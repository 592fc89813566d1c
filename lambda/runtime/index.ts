// `cdk-secure-mcp-server/runtime`: the guard the team's MCP Lambda imports. No heavy dependencies.
export { mcpGuard, withMcpGuard, mcpCallerOf, type GuardedHandler, type MiddyRequestLike } from './middleware';
export { guardRequest, guardResponse, stripAuthorization, headerMismatch, type GuardOutcome, type GuardedCall, type McpProxyEvent, type McpProxyResult } from './guard';
export { mcpGuardOptionsFromEnv, resolveGuardOptions, type McpGuardOptions, type ResolvedGuardOptions } from './options';
export { callerFromAuthorizerContext, callerFromAuthInfo, toAuthInfo, type McpCaller, type CallerAuthInfo } from './caller';
export { insufficientScopeChallenge, invalidTokenChallenge, unauthorizedChallenge } from '../../lib/challenges';
export { HEADER_MISMATCH, HEADER_VALIDATION_SINCE, decodeMcpHeaderValue } from './mcp-headers';
