import * as api from '../../lib';

/**
 * The package's public API (lib/index.ts) is what semantic versioning covers: a name added here is a
 * promise, a name removed a breaking change (README, "Versioning"). The contract's internals stay out.
 */
test('the package exports exactly its public API', () => {
  expect(Object.keys(api).sort()).toEqual([
    'ASSET_HASH_PLACEHOLDER',
    'AuditTrail',
    'DEFAULT_MCP_PATH',
    'DEFAULT_SCOPE_MODEL',
    'Firewall',
    'ISSUER_PATH_WARNING',
    'IdentityProvider',
    'LOG_ENCRYPTION_KEY_POLICY_WARNING',
    'MCP_GUARD_ENVIRONMENT_WARNING',
    'MCP_PATH',
    'McpAuthorizationServer',
    'McpServer',
    'NAG_ACKNOWLEDGEMENTS',
    'OFFLINE_ACCESS',
    'PROTECTED_RESOURCE_METADATA_PATH',
    'PROTECTED_RESOURCE_METADATA_PREFIX',
    'SecureMcpServer',
    'SigningAlgorithm',
    'acknowledgedNagRules',
    'assetHashSerializer',
    'nagAcknowledgementsFor',
    'normalizeAssetHashes',
    'protectedResourceMetadataPath',
    'validateScopeModel',
  ]);
});

test('no internal of the contract leaks into semver', () => {
  for (const internal of ['ROUTES', 'findRoute', 'matchRoutePath', 'NOT_FOUND_BODY', 'TABLES', 'KEY_PREFIXES', 'TTL_ATTRIBUTE', '_acknowledge', '_setNagAcknowledgementPolicy', 'parseProtectedResources']) {
    expect(Object.keys(api)).not.toContain(internal);
  }
});
