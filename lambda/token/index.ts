import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { loadConfig, requireTable } from '../shared/config';
import { KmsJwksProvider, KmsJwtSigner } from '../shared/signer';
import { Stores } from '../shared/stores';
import { buildTokenHandler } from './handler';

// Configuration and SDK clients live at module scope: read once per container, fail fast.
const config = loadConfig();
const stores = new Stores(new DynamoDBClient({}), {
  clients: requireTable(config, 'clients'),
  codes: requireTable(config, 'codes'),
  grants: requireTable(config, 'grants'),
});
const kms = new KMSClient({});
const signer = new KmsJwtSigner(kms, config.signing.keyArn, config.signing.algorithm);
const jwks = new KmsJwksProvider(kms, [config.signing.keyArn, ...config.signing.previousKeyArns], config.signing.algorithm);

export const handler = buildTokenHandler({ config, stores, signer, jwks, clock: systemClock, sink: stdoutSink });
