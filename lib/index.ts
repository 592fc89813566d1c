/**
 * The public API of `cdk-secure-mcp-server`: everything here is covered by semantic versioning
 * (README, "Versioning"). The contract modules (routes, tables, environment, ...) are the library's own
 * and are not exported: their internals may change in any release.
 */
export { ISSUER_PATH_WARNING, LOG_ENCRYPTION_KEY_POLICY_WARNING, MCP_GUARD_ENVIRONMENT_WARNING } from './warnings';
export {
  McpAuthorizationServer,
  type AlarmThresholds,
  type MachineClient,
  type MachineClientOptions,
  type McpAuthorizationServerProps,
  type SecureMcpServerTables,
} from './mcp-authorization-server';
export { McpServer, type McpServerBaseOptions, type McpServerOptions } from './mcp-server';
export { SecureMcpServer, type SecureMcpServerProps } from './secure-mcp-server';
export { SigningAlgorithm } from './signing-algorithm';
export { Firewall, type ManagedFirewallOptions } from './firewall';
export { AuditTrail } from './audit-trail';
export {
  IdentityProvider,
  type CognitoIdentityProviderProps,
  type IdentityProviderBindOptions,
  type IdentityProviderConfig,
  type OidcIdentityProviderProps,
} from './identity-provider';
export { DEFAULT_SCOPE_MODEL, OFFLINE_ACCESS, validateScopeModel, type ScopeDefinition, type ScopeEntitlement, type ScopeModel } from './scopes';
/** The URLs of a server relative to the issuer: what consumers put in their own routes and docs. */
export { MCP_PATH, PROTECTED_RESOURCE_METADATA_PATH } from './routes';
export { DEFAULT_MCP_PATH, PROTECTED_RESOURCE_METADATA_PREFIX, protectedResourceMetadataPath } from './protected-resources';
export type { TableName } from './tables';
export { acknowledgedNagRules, NAG_ACKNOWLEDGEMENTS, nagAcknowledgementsFor, type NagAcknowledgement, type NagAcknowledgementId } from './acknowledgements';
export * from './testing';
