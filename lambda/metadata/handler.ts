import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthServerConfig } from '../shared/config';
import { httpHandler } from '../shared/handler';
import { HttpResult } from '../shared/http';
import type { KmsJwksProvider } from '../shared/signer';
import { PROTECTED_RESOURCE_METADATA_PATH } from '../../lib/routes';
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
  const prm = protectedResourceMetadata(deps.config);
  const asMetadata = authorizationServerMetadata(deps.config);
  const oidcDiscovery = openIdConfiguration(deps.config);
  return httpHandler(
    async (event) => {
      if (event.httpMethod !== 'GET') {
        return { statusCode: 405, headers: { Allow: 'GET', 'Content-Type': 'application/json' }, body: '{"error":"invalid_request"}' };
      }
      switch (event.resource) {
        case PROTECTED_RESOURCE_METADATA_PATH:
        case '/.well-known/oauth-protected-resource':
          return publicJson(prm);
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
