import { ENV } from '../../lib/environment';
import { allowedRedirectHostsFrom, type IssuerConfig } from '../shared/config';
import { environmentOf, integer, list, required, type Environment } from '../../lib/environment-reader';
import { issuerConfigFrom } from '../shared/resource-servers';

/** What the register function works with: the clients table and the registration policy. */
export interface RegisterConfig extends IssuerConfig {
  readonly tables: { readonly clients: string };
  readonly lifetimes: {
    /** A registration that never completes an authorization expires after this long. */
    readonly unusedClient: number;
  };
  readonly registration: {
    /** A cap on registrations per UTC day (a counter item in the clients table); none when unset. */
    readonly maxPerDay?: number;
    readonly allowedRedirectHosts?: string[];
    readonly extraRedirectSchemes: string[];
  };
}

/** Reads the register function's variables (and no other), once per container; throws on anything invalid. */
export function loadRegisterConfig(env: Environment): RegisterConfig {
  const read = environmentOf('register', env);
  const { issuer, servers } = issuerConfigFrom(read);
  return {
    issuer,
    servers,
    tables: { clients: required(read, ENV.clientsTable) },
    lifetimes: { unusedClient: integer(read, ENV.unusedClientTtl, 86400, 600, 365 * 86400) },
    registration: {
      maxPerDay: read[ENV.maxRegistrationsPerDay] ? integer(read, ENV.maxRegistrationsPerDay, 0, 1, 10_000_000) : undefined,
      allowedRedirectHosts: allowedRedirectHostsFrom(read),
      extraRedirectSchemes: list(read, ENV.extraRedirectSchemes),
    },
  };
}
