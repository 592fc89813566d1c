import { KMSClient } from '@aws-sdk/client-kms';
import { stdoutSink } from '../shared/audit';
import { systemClock } from '../shared/clock';
import { loadConfig } from '../shared/config';
import { KmsJwksProvider } from '../shared/signer';
import { buildMetadataHandler } from './handler';

const config = loadConfig();
// The public keys are fetched once per container (GetPublicKey) and cached.
const jwks = new KmsJwksProvider(new KMSClient({}), [config.signing.keyArn, ...config.signing.previousKeyArns], config.signing.algorithm);

export const handler = buildMetadataHandler({ config, jwks, clock: systemClock, sink: stdoutSink });
