import { isUrlShapedClientId } from '../shared/cimd/url';
import type { CimdClient } from '../shared/cimd';
import { isLoopbackRedirectUri } from '../shared/redirect-uri';
import type { ClientStore } from '../shared/client-store';

/** What the authorize flow needs to know about a client, whether registered or CIMD. */
export interface AuthorizingClient {
  readonly clientId: string;
  readonly name?: string;
  readonly redirectUris: readonly string[];
  readonly grantTypes: readonly string[];
  readonly responseTypes: readonly string[];
  readonly source: 'registered' | 'cimd';
  /** A registration that has not completed an authorization yet (it expires unless one completes). */
  readonly unused: boolean;
}

export type ClientLookup = (clientId: string, now: number) => Promise<AuthorizingClient | undefined>;

/** The fetcher's API as this flow uses it; absent when CIMD is disabled. */
export type CimdResolver = { getClient(clientId: string): Promise<CimdClient> };

/**
 * Resolves a client_id: a URL-shaped id through the Client ID Metadata Document fetcher (throws its
 * CimdError, a 400 `invalid_client`), anything else from the registry. With CIMD disabled a URL-shaped
 * id is simply unknown, and nothing is fetched (SSRF-06).
 */
export function clientLookup(registered: Pick<ClientStore, 'get'>, cimd: CimdResolver | undefined): ClientLookup {
  return async (clientId, now) => {
    if (isUrlShapedClientId(clientId)) {
      if (!cimd) return undefined;
      const client = await cimd.getClient(clientId);
      return {
        clientId,
        name: client.metadata.client_name,
        redirectUris: client.metadata.redirect_uris,
        grantTypes: client.metadata.grant_types,
        responseTypes: client.metadata.response_types,
        source: 'cimd',
        unused: false,
      };
    }
    const client = await registered.get(clientId, now);
    if (!client) return undefined;
    const grantTypes = client.metadata.grant_types;
    return {
      clientId,
      name: client.metadata.client_name,
      redirectUris: client.metadata.redirect_uris,
      grantTypes,
      responseTypes: client.metadata.response_types ?? (grantTypes.includes('authorization_code') ? ['code'] : []),
      source: 'registered',
      unused: client.expiresAt !== undefined,
    };
  };
}

/** CIMD-8: every redirect URI of the client is on this computer. */
export function isLocalhostOnly(client: AuthorizingClient): boolean {
  return client.redirectUris.length > 0 && client.redirectUris.every(isLoopbackRedirectUri);
}
