import { formatScopes, knownScopeNames, parseScopeParameter } from '../../../lib/scopes';
import { isConfidential, presentedClient, unauthorizedClient } from '../client-authentication';
import { serverFor } from '../../shared/config';
import type { FormParameters } from '../../shared/http';
import { invalidScope, invalidTarget } from '../../shared/oauth-error';
import { issuedAudit, mint, respond } from '../issuance';
import { readAuthenticated } from '../client-authentication';
import type { TokenDeps, TokenResponse } from '../exchange';

/** grant_type=client_credentials: the operator's machine clients only (REV-01/02), one MCP server per token. */

/**
 * client_credentials: only the operator's machine clients (REV-01), never a registered client, whatever
 * its stored metadata says (records written before open registration refused the grant included).
 * Scopes are limited to the operator's ceiling for that client.
 */
export async function clientCredentials(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const { config, clock, audit } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const { client } = await readAuthenticated(presented, {}, deps, now);
  if (!client.machine) throw unauthorizedClient(isConfidential(client) ? 'not_machine_client' : 'public_client_credentials');
  // No code binds a resource here: the request names one of the servers, or means the default (MRS-06).
  const server = serverFor(config.servers, form.get('resource'));
  if (!server) throw invalidTarget(form.get('resource') !== undefined ? 'unknown_resource' : 'resource_required');
  // MRS-09: a machine client obtains tokens only for the servers the operator named for it.
  if (client.machine.resources && !client.machine.resources.includes(server.path)) throw invalidTarget('resource_not_allowed');
  // The ceiling applies per server: only the scopes this server's model declares (MRS-09).
  const known = knownScopeNames(server.scopeModel);
  const allowed = client.machine.scopes.filter((scope) => known.includes(scope));
  const raw = form.get('scope');
  const requested = raw === undefined ? allowed : parseScopeParameter(raw);
  if (!requested || requested.length === 0 || requested.some((scope) => !allowed.includes(scope))) {
    throw invalidScope('scope_not_allowed');
  }
  const { token, claims } = await mint(deps, now, { resource: server.resource, sub: client.clientId, clientId: client.clientId, scope: formatScopes(requested), machine: true });
  audit('token.issued', { ...issuedAudit(claims, undefined), grant_type: 'client_credentials' });
  return respond(claims, token);
}
