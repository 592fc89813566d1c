import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { stdoutSink } from '../shared/audit';
import { ClientMetadataDocumentFetcher } from '../shared/cimd';
import { systemClock } from '../shared/clock';
import { ClientStore } from '../shared/client-store';
import { CodeStore } from '../shared/code-store';
import { ConsentStore } from './consent-store';
import { ChallengeCounter, PendingAuthorizationStore, SignInSessionStore, UpstreamSignInStore } from './pending-table';
import { loadAuthorizeConfig } from './config';
import { buildAuthorizeHandler } from './handler';
import { noSecret, secretsManagerSecret } from '../shared/secrets';
import { OidcUpstream } from './upstream';

// Configuration, SDK clients, the upstream's discovery and JWKS cache and the CIMD cache live at
// module scope: read once per container. None of them holds per-user state (FAULT-10).
const config = loadAuthorizeConfig(process.env);
const upstreamConfig = config.upstream;
const db = new DynamoDBClient({});
const { tables } = config;
const stores = {
  clients: new ClientStore(db, tables.clients),
  codes: new CodeStore(db, tables.codes),
  pendingAuthorizations: new PendingAuthorizationStore(db, tables.pending),
  signIns: new UpstreamSignInStore(db, tables.pending),
  sessions: new SignInSessionStore(db, tables.pending),
  challenges: new ChallengeCounter(db, tables.pending),
  consents: new ConsentStore(db, tables.consents),
};
const secret = upstreamConfig.clientSecretArn ? secretsManagerSecret(new SecretsManagerClient({}), upstreamConfig.clientSecretArn) : noSecret;
const upstream = new OidcUpstream({ config: upstreamConfig, redirectUri: `${config.issuer}/callback`, secret });
const cimd = config.cimdEnabled
  ? new ClientMetadataDocumentFetcher({
      registration: { scopeNames: config.servers.scopeNames, redirectUris: { allowedHosts: config.allowedRedirectHosts } },
    })
  : undefined;

export const handler = buildAuthorizeHandler({ config, stores, cimd, upstream, clock: systemClock, sink: stdoutSink });
