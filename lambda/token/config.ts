import { ENV } from '../../lib/environment';
import type { MachineClientConfig } from '../../lib/machine-clients';
import { cimdEnabledFrom, machineClientsFrom, signingConfigFrom, type IssuerConfig, type SigningConfig } from '../shared/config';
import { environmentOf, integer, required, type Environment } from '../../lib/environment-reader';
import { issuerConfigFrom } from '../shared/resource-servers';

/** What the token function (/token, /revoke, /introspect) works with. */
export interface TokenConfig extends IssuerConfig {
  readonly signing: SigningConfig;
  readonly lifetimes: {
    /** Access token lifetime, 5 to 30 minutes (docs/REQUIREMENTS.md, design decision 3). */
    readonly accessToken: number;
    /** Absolute lifetime of a refresh-token family. */
    readonly refreshToken: number;
    /** A family unused for this long expires (RFC 9700 §4.14.2 inactivity expiry). */
    readonly refreshTokenIdle: number;
    /** After a rotation, the previous refresh token still works this long (a lost response). */
    readonly refreshGrace: number;
  };
  readonly tables: { readonly clients: string; readonly codes: string; readonly grants: string };
  /** The operator's machine clients (client_credentials); empty unless the construct declares some. */
  readonly machineClients: readonly MachineClientConfig[];
  /** Whether a URL-shaped client_id may be a metadata-document client (authorized at /authorize). */
  readonly cimdEnabled: boolean;
}

/** Reads the token function's variables (and no other), once per container; throws on anything invalid. */
export function loadTokenConfig(env: Environment): TokenConfig {
  const read = environmentOf('token', env);
  const { issuer, servers } = issuerConfigFrom(read);
  return {
    issuer,
    servers,
    signing: signingConfigFrom(read),
    lifetimes: {
      // The construct allows 5 to 30 minutes; seconds-long lifetimes are for local end-to-end tests.
      accessToken: integer(read, ENV.accessTokenTtl, 600, 5, 1800),
      refreshToken: integer(read, ENV.refreshTokenTtl, 30 * 86400, 3600, 365 * 86400),
      refreshTokenIdle: integer(read, ENV.refreshTokenIdleTtl, 7 * 86400, 600, 365 * 86400),
      refreshGrace: integer(read, ENV.refreshGrace, 30, 0, 300),
    },
    tables: { clients: required(read, ENV.clientsTable), codes: required(read, ENV.codesTable), grants: required(read, ENV.grantsTable) },
    machineClients: machineClientsFrom(read, servers.scopeNames),
    cimdEnabled: cimdEnabledFrom(read),
  };
}
