/**
 * The ids of the synth warnings the constructs add. Acknowledge one with
 * `Annotations.of(construct).acknowledgeWarning(id, reason)` once you have decided it does not apply.
 */

/**
 * The issuer has a path (the default execute-api stage URL, or a custom domain with a base path), so
 * the well-known URLs at the host root are not served. Acknowledge it once you have decided that
 * clients needing root well-known URLs do not matter to you.
 */
export const ISSUER_PATH_WARNING = 'cdk-secure-mcp-server:issuerHasPath';

/**
 * The construct cannot set the runtime guard's environment on the MCP handler itself; acknowledge it
 * once you set `mcpFunctionEnvironment` on the function yourself.
 */
export const MCP_GUARD_ENVIRONMENT_WARNING = 'cdk-secure-mcp-server:mcpGuardEnvironment';

/** An imported `logEncryptionKey`, whose key policy the construct cannot extend. */
export const LOG_ENCRYPTION_KEY_POLICY_WARNING = 'cdk-secure-mcp-server:logEncryptionKeyPolicy';
