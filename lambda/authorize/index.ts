import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { stdoutSink } from '../shared/audit';
import { ClientMetadataDocumentFetcher } from '../shared/cimd';
import { systemClock } from '../shared/clock';
import { loadConfig, requireTable, requireUpstream } from '../shared/config';
import { Stores } from '../shared/stores';
import { FlowStore } from './flow-store';
import { buildAuthorizeHandler } from './handler';
import { noSecret, secretsManagerSecret } from '../shared/secrets';
import { OidcUpstream } from './upstream';

// Configuration, SDK clients, the upstream's discovery and JWKS cache and the CIMD cache live at
// module scope: read once per container. None of them holds per-user state (FAULT-10).
const config = loadConfig();
const upstreamConfig = requireUpstream(config);
const db = new DynamoDBClient({});
const stores = new Stores(db, { clients: requireTable(config, 'clients'), codes: requireTable(config, 'codes'), grants: '' });
const flows = new FlowStore(db, { pending: requireTable(config, 'pending'), consents: requireTable(config, 'consents') });
const secret = upstreamConfig.clientSecretArn ? secretsManagerSecret(new SecretsManagerClient({}), upstreamConfig.clientSecretArn) : noSecret;
const upstream = new OidcUpstream({ config: upstreamConfig, redirectUri: `${config.issuer}/callback`, secret });
const cimd = config.cimdEnabled
  ? new ClientMetadataDocumentFetcher({
      registration: { scopeNames: config.servers.scopeNames, redirectUris: { allowedHosts: config.registration.allowedRedirectHosts } },
    })
  : undefined;

export const handler = buildAuthorizeHandler({ config, stores, flows, cimd, upstream, clock: systemClock, sink: stdoutSink });
