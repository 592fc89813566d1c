import { defaultScopes, OFFLINE_ACCESS } from '../../lib/scopes';
import type { IssuerConfig, ResourceServerConfig } from '../shared/config';
import type { MetadataConfig } from './config';

/** RFC 9728 protected resource metadata of one MCP server (RS-1, RS-4: never offline_access; MRS-07). */
export function protectedResourceMetadata(config: IssuerConfig, server: ResourceServerConfig) {
  return {
    resource: server.resource,
    authorization_servers: [config.issuer],
    scopes_supported: defaultScopes(server.scopeModel),
    bearer_methods_supported: ['header'],
  };
}

/**
 * RFC 8414 authorization server metadata, also served as OpenID Connect discovery: the issuer is
 * byte-identical to the one the discovery URL was built from and to every token's `iss` (AS-6).
 */
export function authorizationServerMetadata(config: MetadataConfig) {
  const at = (path: string) => `${config.issuer}${path}`;
  const clientAuthMethods = ['none', 'client_secret_basic', 'client_secret_post'];
  return {
    issuer: config.issuer,
    authorization_endpoint: at('/authorize'),
    token_endpoint: at('/token'),
    registration_endpoint: at('/register'),
    revocation_endpoint: at('/revoke'),
    introspection_endpoint: at('/introspect'),
    jwks_uri: at('/jwks.json'),
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    // client_credentials exists only for the operator's machine clients (REV-01); open registration refuses it.
    grant_types_supported: ['authorization_code', 'refresh_token', ...(config.machineClients.length > 0 ? ['client_credentials'] : [])],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: clientAuthMethods,
    revocation_endpoint_auth_methods_supported: clientAuthMethods,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    // Every server's scopes; each is granted per resource (a token carries one audience).
    scopes_supported: [...config.servers.scopeNames, OFFLINE_ACCESS],
    // RFC 9728 §4: the protected resources this authorization server issues tokens for (MRS-07).
    protected_resources: [...config.servers.byResource.keys()],
    authorization_response_iss_parameter_supported: true,
    ...(config.cimdEnabled ? { client_id_metadata_document_supported: true } : {}),
  };
}

/**
 * The same metadata as OpenID Connect discovery. OpenID Provider Metadata requires
 * `subject_types_supported` and `id_token_signing_alg_values_supported`, and current MCP clients
 * validate that schema at `{issuer}/.well-known/openid-configuration` (the only discovery URL reachable
 * under an execute-api stage, docs/REQUIREMENTS.md design decision 2). No ID tokens are issued (`openid` is not a scope here).
 */
export function openIdConfiguration(config: MetadataConfig) {
  return {
    ...authorizationServerMetadata(config),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [config.signing.algorithm],
  };
}
