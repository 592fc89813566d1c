import { KMSClient } from '@aws-sdk/client-kms';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { KmsJwksProvider } from '../shared/signer';
import { loadMetadataConfig } from './config';
import { buildMetadataHandler } from './handler';

const config = loadMetadataConfig(process.env);
// The public keys are fetched once per container (GetPublicKey) and cached.
const jwks = new KmsJwksProvider(new KMSClient({}), [config.signing.keyArn, ...config.signing.previousKeyArns], config.signing.algorithm);

export const handler = buildMetadataHandler({ config, jwks, clock: systemClock, sink: stdoutSink });
