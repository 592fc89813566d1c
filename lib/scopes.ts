/**
 * The one scope model, configured once on the construct and shared by the authorization server
 * (what may be requested and granted), the Lambda authorizer and the runtime guard (what each
 * operation needs). It is plain data so it can travel to every Lambda as JSON.
 */

/** `offline_access` asks for a refresh token. Advertised by the authorization server only (RS-4). */
export const OFFLINE_ACCESS = 'offline_access';

export interface ScopeDefinition {
  /** The scope token, e.g. `mcp:tools`. */
  readonly name: string;
  /** Shown on the consent page. */
  readonly description: string;
  /**
   * Part of the minimal set for basic use: published in the protected resource metadata, sent in
   * 401 challenges, and required by every MCP operation that has no more specific rule.
   * @default false
   */
  readonly isDefault?: boolean;
  /** Narrower scopes this one implies (RS-8: a broader scope implies narrower ones). @default - none */
  readonly implies?: string[];
}

/** Users whose upstream ID token claim `claim` equals, or is an array containing, `value` may hold `scopes`. */
export interface ScopeEntitlement {
  readonly claim: string;
  readonly value: string;
  readonly scopes: string[];
}

export interface ScopeModel {
  readonly scopes: ScopeDefinition[];
  /** Tool name -> every scope a `tools/call` of that tool needs. Tools not listed need the default scopes. */
  readonly toolScopes: Record<string, string[]>;
  /**
   * Scopes listed in any entitlement are restricted: a user may hold them only through an entitlement.
   * Scopes never listed are open to every signed-in user.
   */
  readonly entitlements: ScopeEntitlement[];
}

export const DEFAULT_SCOPE_MODEL: ScopeModel = {
  scopes: [
    { name: 'mcp:tools', description: 'Use the tools of this MCP server', isDefault: true },
    { name: 'mcp:admin', description: 'Use the administrative tools of this MCP server', implies: ['mcp:tools'] },
  ],
  toolScopes: { admin_stats: ['mcp:admin'] },
  entitlements: [{ claim: 'groups', value: 'admins', scopes: ['mcp:admin'] }],
};

/** RFC 6749 §3.3 scope-token grammar: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isScopeToken(value: string): boolean {
  return value.length > 0 && value.length <= 128 && SCOPE_TOKEN.test(value);
}

/**
 * Splits a space-delimited scope parameter. Order-insensitive, repeated spaces tolerated (AZR-15).
 * Returns undefined when a token breaks the grammar.
 */
export function parseScopeParameter(raw: string): string[] | undefined {
  const tokens = raw.split(' ').filter((token) => token.length > 0);
  if (!tokens.every(isScopeToken)) return undefined;
  return [...new Set(tokens)];
}

export function formatScopes(scopes: Iterable<string>): string {
  return [...new Set(scopes)].sort().join(' ');
}

export function defaultScopes(model: ScopeModel): string[] {
  return model.scopes.filter((scope) => scope.isDefault).map((scope) => scope.name);
}

export function knownScopeNames(model: ScopeModel): string[] {
  return model.scopes.map((scope) => scope.name);
}

/** The granted scopes plus everything they imply, transitively. */
function expandWith(implied: ReadonlyMap<string, readonly string[]>, granted: Iterable<string>): Set<string> {
  const expanded = new Set<string>();
  const pending = [...granted];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (expanded.has(name)) continue;
    expanded.add(name);
    for (const narrower of implied.get(name) ?? []) pending.push(narrower);
  }
  return expanded;
}

const impliedIndex = (model: ScopeModel) => new Map(model.scopes.map((scope) => [scope.name, scope.implies ?? []]));

export function expandScopes(model: ScopeModel, granted: Iterable<string>): Set<string> {
  return expandWith(impliedIndex(model), granted);
}

/** True when `granted` (with the hierarchy applied) covers every scope in `required`. */
export function satisfiesScopes(model: ScopeModel, granted: Iterable<string>, required: Iterable<string>): boolean {
  const held = expandScopes(model, granted);
  for (const scope of required) if (!held.has(scope)) return false;
  return true;
}

/** Every scope an MCP operation needs. `name` is the tool name for `tools/call`. */
export function requiredScopesFor(model: ScopeModel, method: string, name?: string): string[] {
  if (method === 'tools/call' && name !== undefined && Object.hasOwn(model.toolScopes, name)) {
    return [...model.toolScopes[name]];
  }
  return defaultScopes(model);
}

function claimIncludes(claims: Record<string, unknown>, claim: string, value: string): boolean {
  const held = claims[claim];
  return held === value || (Array.isArray(held) && held.includes(value));
}

/** The scopes a user with these upstream ID token claims may hold (before the client's own ceiling). */
export function entitledScopes(model: ScopeModel, claims: Record<string, unknown>): Set<string> {
  const restricted = new Set(model.entitlements.flatMap((entitlement) => entitlement.scopes));
  const allowed = new Set(knownScopeNames(model).filter((scope) => !restricted.has(scope)));
  for (const entitlement of model.entitlements) {
    if (claimIncludes(claims, entitlement.claim, entitlement.value)) entitlement.scopes.forEach((s) => allowed.add(s));
  }
  allowed.add(OFFLINE_ACCESS);
  return allowed;
}

/** Checks a model for internal consistency; returns human-readable problems (empty when valid). */
export function validateScopeModel(model: ScopeModel): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  for (const scope of model.scopes) {
    if (!isScopeToken(scope.name)) problems.push(`scope name ${JSON.stringify(scope.name)} is not a valid OAuth scope token`);
    if (scope.name === OFFLINE_ACCESS) problems.push(`${OFFLINE_ACCESS} is built in and must not be declared`);
    if (names.has(scope.name)) problems.push(`scope ${scope.name} is declared twice`);
    names.add(scope.name);
  }
  const check = (where: string, scope: string) => {
    if (!names.has(scope)) problems.push(`${where} refers to undeclared scope ${scope}`);
  };
  for (const scope of model.scopes) (scope.implies ?? []).forEach((implied) => check(`scope ${scope.name}`, implied));
  for (const [tool, scopes] of Object.entries(model.toolScopes)) scopes.forEach((scope) => check(`tool ${tool}`, scope));
  for (const entitlement of model.entitlements) entitlement.scopes.forEach((scope) => check(`entitlement ${entitlement.claim}=${entitlement.value}`, scope));
  if (defaultScopes(model).length === 0) problems.push('at least one scope must be marked isDefault');
  return problems;
}

/**
 * `satisfiesScopes` for one model with its scope index built once, for per-request hot paths (the
 * authorizer, the runtime guard). Same semantics: the granted scopes plus everything they imply.
 */
export function scopeSatisfier(model: ScopeModel): (granted: readonly string[], required: readonly string[]) => boolean {
  const implied = impliedIndex(model);
  return (granted, required) => {
    // Most tokens hold the required scopes themselves; expand the hierarchy only when they do not.
    if (required.every((scope) => granted.includes(scope))) return true;
    const held = expandWith(implied, granted);
    return required.every((scope) => held.has(scope));
  };
}
