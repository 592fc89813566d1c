import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { ResourceServerConfig } from '../shared/config';
import type { MetadataConfig } from './config';
import { httpHandler } from '../shared/handler';
import { HttpResult, jsonResponse } from '../shared/http';
import type { KmsJwksProvider } from '../shared/signer';
import { PROTECTED_RESOURCE_METADATA_PREFIX, protectedResourceMetadataPath } from '../../lib/protected-resources';
import { authorizationServerMetadata, openIdConfiguration, protectedResourceMetadata } from './documents';

export interface MetadataHandlerDeps {
  readonly config: MetadataConfig;
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
  const servers: ResourceServerConfig[] = [...deps.config.servers.byResource.values()];
  const documents = (path: string, body: object): [string, () => Promise<HttpResult>] => [`GET ${path}`, async () => publicJson(body)];
  const defaultServer = deps.config.servers.defaultServer;
  return httpHandler(
    Object.fromEntries([
      // Each MCP server's metadata at its own path (MRS-01); the bare well-known path serves the default server.
      ...servers.map((server) => documents(protectedResourceMetadataPath(server.path), protectedResourceMetadata(deps.config, server))),
      defaultServer
        ? documents(PROTECTED_RESOURCE_METADATA_PREFIX, protectedResourceMetadata(deps.config, defaultServer))
        : [`GET ${PROTECTED_RESOURCE_METADATA_PREFIX}`, async () => jsonResponse(404, { error: 'not_found', error_description: 'Several MCP servers are served here: read the metadata of one at its own URL (the resource_metadata of its challenge).' })],
      documents('/.well-known/oauth-authorization-server', authorizationServerMetadata(deps.config)),
      documents('/.well-known/openid-configuration', openIdConfiguration(deps.config)),
      ['GET /jwks.json', async () => publicJson(await deps.jwks.jwks())],
    ]),
    () => 'metadata.rejected',
    deps,
    // Metadata is read cross-origin: its paths answer CORS preflights (lib/routes.ts, `cors`).
    { answersPreflight: true },
  );
}
