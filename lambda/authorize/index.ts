import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { stdoutSink } from '../shared/audit';
import { ClientMetadataDocumentFetcher } from '../shared/cimd';
import { systemClock } from '../shared/clock';
import { Stores } from '../shared/stores';
import { FlowStore } from './flow-store';
import { loadAuthorizeConfig } from './config';
import { buildAuthorizeHandler } from './handler';
import { noSecret, secretsManagerSecret } from '../shared/secrets';
import { OidcUpstream } from './upstream';

// Configuration, SDK clients, the upstream's discovery and JWKS cache and the CIMD cache live at
// module scope: read once per container. None of them holds per-user state (FAULT-10).
const config = loadAuthorizeConfig(process.env);
const upstreamConfig = config.upstream;
const db = new DynamoDBClient({});
const stores = new Stores(db, { clients: config.tables.clients, codes: config.tables.codes, grants: '' });
const flows = new FlowStore(db, { pending: config.tables.pending, consents: config.tables.consents });
const secret = upstreamConfig.clientSecretArn ? secretsManagerSecret(new SecretsManagerClient({}), upstreamConfig.clientSecretArn) : noSecret;
const upstream = new OidcUpstream({ config: upstreamConfig, redirectUri: `${config.issuer}/callback`, secret });
const cimd = config.cimdEnabled
  ? new ClientMetadataDocumentFetcher({
      registration: { scopeNames: config.servers.scopeNames, redirectUris: { allowedHosts: config.allowedRedirectHosts } },
    })
  : undefined;

export const handler = buildAuthorizeHandler({ config, stores, flows, cimd, upstream, clock: systemClock, sink: stdoutSink });
