import { defaultScopes, entitledScopes, formatScopes, knownScopeNames, OFFLINE_ACCESS, parseScopeParameter, type ScopeModel } from '../../lib/scopes';
import type { ResourceServers } from '../shared/config';
import { PageRefusal } from './responses';

/** What a user entitled to none of the requested access scopes is told. */
export const NOT_ENTITLED = 'The account is not entitled to the requested access.';

/** A scope parameter longer than this is not a request for our handful of scopes. */
const MAX_SCOPE_PARAMETER = 1024;

export type AskedScopes =
  | { readonly ok: true; readonly scope: string }
  | { readonly ok: false; readonly reason: 'scope_grammar' | 'unknown_scope' };

/**
 * The scopes the consent page asks for: the requested ones, plus the model's defaults when no access
 * scope is requested. Unknown scopes refuse the request. `offline_access` passes through when requested.
 *
 * A client's registered `scope` does not cap what a user may delegate to it: MCP clients register
 * with the scope of their first request and later step up to the union of old and new scopes (the
 * scope challenge, C-6); the user's consent and entitlements decide. The registered scope caps only
 * the client_credentials grant, where no user is asked.
 */
export function scopesToAsk(model: ScopeModel, raw: string | undefined): AskedScopes {
  const parsed = raw === undefined ? [] : raw.length > MAX_SCOPE_PARAMETER ? undefined : parseScopeParameter(raw);
  if (parsed === undefined) return { ok: false, reason: 'scope_grammar' };
  const known = new Set([...knownScopeNames(model), OFFLINE_ACCESS]);
  if (parsed.some((scope) => !known.has(scope))) return { ok: false, reason: 'unknown_scope' };
  // No access scope requested (nothing, or only offline_access): the model's defaults.
  const requested = parsed.some((scope) => scope !== OFFLINE_ACCESS) ? parsed : [...defaultScopes(model), ...parsed];
  return { ok: true, scope: formatScopes(requested) };
}

/**
 * The scope granted to a signed-in user: what was consented to, within what the user's upstream ID
 * token claims entitle them to (e.g. only members of `admins` hold `mcp:admin`). Undefined when no
 * access scope remains.
 */
export function grantedScope(model: ScopeModel, consented: string, claims: Record<string, unknown>): string | undefined {
  const entitled = entitledScopes(model, claims);
  const granted = consented.split(' ').filter((scope) => scope.length > 0 && entitled.has(scope));
  return granted.some((scope) => scope !== OFFLINE_ACCESS) ? formatScopes(granted) : undefined;
}

/**
 * The scope model of the MCP server a validated request is for. A flow outlives no deployment that
 * removed its server: such a request is refused as stale rather than read with another server's scopes.
 */
export function scopeModelOf(servers: ResourceServers, request: { readonly resource: string; readonly clientId: string }): ScopeModel {
  const server = servers.byResource.get(request.resource);
  if (!server) throw new PageRefusal(400, 'authorize.rejected', 'unknown_resource', 'This sign-in request is no longer valid. Start again from the application.', { client_id: request.clientId });
  return server.scopeModel;
}
