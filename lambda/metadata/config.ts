import type { MachineClientConfig } from '../../lib/machine-clients';
import { cimdEnabledFrom, machineClientsFrom, signingConfigFrom, type IssuerConfig, type SigningConfig } from '../shared/config';
import { environmentOf, type Environment } from '../../lib/environment-reader';
import { issuerConfigFrom } from '../shared/resource-servers';

/** What the metadata function serves: the discovery documents, each server's metadata, and the JWKS. */
export interface MetadataConfig extends IssuerConfig {
  /** Whose public keys the JWKS publishes, and the one `alg` OpenID discovery names. */
  readonly signing: SigningConfig;
  readonly cimdEnabled: boolean;
  /** Only whether there are any matters here: client_credentials is advertised then. */
  readonly machineClients: readonly MachineClientConfig[];
}

/** Reads the metadata function's variables (and no other), once per container; throws on anything invalid. */
export function loadMetadataConfig(env: Environment): MetadataConfig {
  const read = environmentOf('metadata', env);
  const { issuer, servers } = issuerConfigFrom(read);
  return {
    issuer,
    servers,
    signing: signingConfigFrom(read),
    cimdEnabled: cimdEnabledFrom(read),
    machineClients: machineClientsFrom(read, servers.scopeNames),
  };
}
