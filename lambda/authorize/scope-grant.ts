import { defaultScopes, entitledScopes, formatScopes, knownScopeNames, OFFLINE_ACCESS, parseScopeParameter, type ScopeModel } from '../../lib/scopes';

/** A scope parameter longer than this is not a request for our handful of scopes. */
const MAX_SCOPE_PARAMETER = 1024;

export type AskedScopes =
  | { readonly ok: true; readonly scope: string }
  | { readonly ok: false; readonly reason: 'scope_grammar' | 'unknown_scope' | 'scope_outside_client_ceiling' };

/**
 * The scopes the consent page asks for: the requested ones (plus the model's defaults when no access
 * scope is requested) within the client's registered ceiling. Unknown scopes refuse the request; scopes the
 * client may not hold are dropped, and if no access scope remains the request is refused.
 * `offline_access` passes through when requested (the token endpoint decides on refresh tokens).
 */
export function scopesToAsk(model: ScopeModel, raw: string | undefined, ceiling: readonly string[] | undefined): AskedScopes {
  const parsed = raw === undefined ? [] : raw.length > MAX_SCOPE_PARAMETER ? undefined : parseScopeParameter(raw);
  if (parsed === undefined) return { ok: false, reason: 'scope_grammar' };
  const known = new Set([...knownScopeNames(model), OFFLINE_ACCESS]);
  if (parsed.some((scope) => !known.has(scope))) return { ok: false, reason: 'unknown_scope' };
  // No access scope requested (nothing, or only offline_access): the model's defaults.
  const requested = parsed.some((scope) => scope !== OFFLINE_ACCESS) ? parsed : [...defaultScopes(model), ...parsed];
  const allowed = requested.filter((scope) => scope === OFFLINE_ACCESS || ceiling === undefined || ceiling.includes(scope));
  if (!allowed.some((scope) => scope !== OFFLINE_ACCESS)) return { ok: false, reason: 'scope_outside_client_ceiling' };
  return { ok: true, scope: formatScopes(allowed) };
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
