import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { secretsManagerSecret } from '../shared/secrets';
import { KmsJwksProvider, KmsJwtSigner } from '../shared/signer';
import { CodeStore } from '../shared/code-store';
import { GrantStore } from '../shared/grant-store';
import { loadTokenConfig } from './config';
import { buildTokenHandler } from './handler';
import { TokenRecordReader } from './token-records';

// Configuration and SDK clients live at module scope: read once per container, fail fast.
const config = loadTokenConfig(process.env);
const db = new DynamoDBClient({});
const stores = { records: new TokenRecordReader(db, config.tables), codes: new CodeStore(db, config.tables.codes), grants: new GrantStore(db, config.tables.grants) };
const kms = new KMSClient({});
const signer = new KmsJwtSigner(kms, config.signing.keyArn, config.signing.algorithm);
const jwks = new KmsJwksProvider(kms, [config.signing.keyArn, ...config.signing.previousKeyArns], config.signing.algorithm);

// One cached reader per machine client; no Secrets Manager client at all when there are none.
const secretsManager = config.machineClients.length > 0 ? new SecretsManagerClient({}) : undefined;
const machineSecrets = new Map(config.machineClients.map((client) => [client.clientId, secretsManagerSecret(secretsManager!, client.secretId)]));
// secretsManagerSecret refuses a secret without a SecretString, so a read always yields the secret.
const machineSecret = async (client: { clientId: string }) => (await machineSecrets.get(client.clientId)!(AbortSignal.timeout(5000)))!;

export const handler = buildTokenHandler({ config, stores, signer, jwks, machineSecret, clock: systemClock, sink: stdoutSink });
