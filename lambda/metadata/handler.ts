import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthServerConfig, ResourceServerConfig } from '../shared/config';
import { httpHandler } from '../shared/handler';
import { HttpResult } from '../shared/http';
import type { KmsJwksProvider } from '../shared/signer';
import { protectedResourceMetadataPath } from '../../lib/protected-resources';
import { authorizationServerMetadata, openIdConfiguration, protectedResourceMetadata } from './documents';

export interface MetadataHandlerDeps {
  readonly config: AuthServerConfig;
  readonly jwks: Pick<KmsJwksProvider, 'jwks'>;
  readonly clock: Clock;
  readonly sink: AuditSink;
}

/** Metadata is public and changes only on deployment: short shared caching, readable cross-origin. */
function publicJson(body: unknown): HttpResult {
  return {
    statusCode: 200,
    headers: {
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=300',
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    },
    body: JSON.stringify(body),
  };
}

export function buildMetadataHandler(deps: MetadataHandlerDeps) {
  // Each MCP server's metadata at its own path (MRS-07); the bare well-known path serves the default server.
  const prmByPath = new Map<string, object>();
  const servers: ResourceServerConfig[] = [...deps.config.servers.byResource.values()];
  for (const server of servers) prmByPath.set(protectedResourceMetadataPath(server.path), protectedResourceMetadata(deps.config, server));
  const defaultServer = deps.config.servers.defaultServer;
  if (defaultServer) prmByPath.set('/.well-known/oauth-protected-resource', protectedResourceMetadata(deps.config, defaultServer));
  const asMetadata = authorizationServerMetadata(deps.config);
  const oidcDiscovery = openIdConfiguration(deps.config);
  return httpHandler(
    async (event) => {
      if (event.httpMethod !== 'GET') {
        return { statusCode: 405, headers: { Allow: 'GET', 'Content-Type': 'application/json' }, body: '{"error":"invalid_request"}' };
      }
      const prm = prmByPath.get(event.resource ?? '');
      if (prm) return publicJson(prm);
      switch (event.resource) {
        case '/.well-known/oauth-authorization-server':
          return publicJson(asMetadata);
        case '/.well-known/openid-configuration':
          return publicJson(oidcDiscovery);
        case '/jwks.json':
          return publicJson(await deps.jwks.jwks());
        default:
          return { statusCode: 404, headers: { 'Content-Type': 'application/json' }, body: '{"error":"not_found"}' };
      }
    },
    () => 'metadata.rejected',
    deps,
  );
}
