import { OFFLINE_ACCESS, formatScopes, parseScopeParameter } from '../../lib/scopes';
import { invalidClientMetadata, type OAuthError } from './oauth-error';
import {
  applicationTypeAllows,
  type ApplicationType,
  hasOnlyUriCharacters,
  hasValidPercentEncoding,
  inferApplicationType,
  redirectUriError,
  type RedirectUriKind,
  type RedirectUriPolicy,
  validateRedirectUriList,
} from './redirect-uri';

/**
 * RFC 7591 client metadata validation for `POST /register` (catalogue A, AS-22), also applied to
 * Client ID Metadata Documents.
 *
 * Decisions (document in docs/SECURITY.md next to the ids):
 * - Defaults: `grant_types` `["authorization_code","refresh_token"]` (RFC 7591 says only
 *   authorization_code; MCP clients expect refresh and the token endpoint still decides whether to
 *   issue one, AS-15), `response_types` `["code"]` when authorization_code is granted (else `[]`),
 *   `token_endpoint_auth_method` `client_secret_basic` (the RFC 7591 default; MCP public clients send
 *   `none` explicitly).
 * - `application_type` when absent is inferred from the redirect URIs ({@link inferApplicationType});
 *   when present it must fit them (AS-22).
 * - REG-13: `scope` beyond the model's scopes plus `offline_access` is refused (400, reason `scope`),
 *   not reduced. Absent means no per-client ceiling beyond the model.
 * - REG-10: client-chosen `client_id`, `client_secret`, `client_id_issued_at`, `client_secret_expires_at`,
 *   `registration_access_token` and `registration_client_uri` are ignored, as are unknown members.
 *   A member whose value is JSON `null` counts as absent.
 * - Caps ({@link REGISTRATION_LIMITS}): REG-15. Strings are checked for length before any scan.
 */
export const REGISTRATION_LIMITS = {
  clientName: 200,
  contacts: 5,
  contact: 320,
  metadataUri: 2048,
  scope: 1024,
  softwareField: 200,
} as const;

export type TokenEndpointAuthMethod = 'none' | 'client_secret_basic' | 'client_secret_post';
export type GrantType = 'authorization_code' | 'refresh_token' | 'client_credentials';
export type ResponseType = 'code';

const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_basic', 'client_secret_post'];
const GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token', 'client_credentials'];
export const DEFAULT_GRANT_TYPES: readonly GrantType[] = ['authorization_code', 'refresh_token'];
export const DEFAULT_TOKEN_ENDPOINT_AUTH_METHOD: TokenEndpointAuthMethod = 'client_secret_basic';
const METADATA_URI_FIELDS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri'] as const;

/**
 * Normalised client metadata (RFC 7591 member names). A type alias rather than an interface so it is
 * assignable to the store's index-signature record.
 */
export type ClientMetadata = {
  readonly redirect_uris: string[];
  readonly token_endpoint_auth_method: TokenEndpointAuthMethod;
  readonly grant_types: GrantType[];
  readonly response_types: ResponseType[];
  readonly application_type: ApplicationType;
  readonly client_name?: string;
  readonly client_uri?: string;
  readonly logo_uri?: string;
  readonly tos_uri?: string;
  readonly policy_uri?: string;
  readonly contacts?: string[];
  /** Space-separated, sorted, deduplicated. */
  readonly scope?: string;
  readonly software_id?: string;
  readonly software_version?: string;
};

export interface RegistrationPolicy {
  /** The scopes a client may list in `scope` (plus `offline_access`). */
  /** Every scope some MCP server of this authorization server declares. */
  readonly scopeNames: readonly string[];
  /** @default - the default redirect URI policy (any https host, loopback, reverse-DNS private-use schemes) */
  readonly redirectUris?: RedirectUriPolicy;
}

type Body = Record<string, unknown>;

/** Own members only, so nothing inherited from a polluted prototype is read; `null` means absent. */
function member(body: Body, name: string): unknown {
  if (!Object.hasOwn(body, name)) return undefined;
  const value = body[name];
  return value === null ? undefined : value;
}

/**
 * C0 and C1 controls, and the bidirectional overrides and isolates that can reorder a name on the
 * consent page (`U+202E` "moc.elpmaxe").
 */
function hasDisplayHazard(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) return true;
    if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069) || code === 0x200e || code === 0x200f) return true;
  }
  return false;
}

function fail(field: string): OAuthError {
  return invalidClientMetadata(field, `The ${field} metadata value is invalid.`);
}

function optionalText(body: Body, field: string, maxLength: number): string | undefined {
  const value = member(body, field);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength || value.trim().length === 0 || hasDisplayHazard(value)) {
    throw fail(field);
  }
  return value;
}

/** REG-09: https only, absolute, no userinfo, only URI characters. */
function optionalHttpsUri(body: Body, field: string): string | undefined {
  const value = member(body, field);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > REGISTRATION_LIMITS.metadataUri) throw fail(field);
  if (!hasOnlyUriCharacters(value) || !hasValidPercentEncoding(value)) throw fail(field);
  const parsed = URL.parse(value);
  if (!parsed || parsed.protocol !== 'https:' || !value.startsWith('https://') || parsed.username !== '' || parsed.password !== '') {
    throw fail(field);
  }
  return value;
}

/** A JSON array of strings from `allowed`, deduplicated. */
function enumList<T extends string>(value: unknown, allowed: readonly T[], field: string): T[] {
  if (!Array.isArray(value) || value.length > allowed.length * 2) throw fail(field);
  const result: T[] = [];
  for (const entry of value) {
    if (typeof entry !== 'string' || !(allowed as readonly string[]).includes(entry)) throw fail(field);
    if (!result.includes(entry as T)) result.push(entry as T);
  }
  return result;
}

function grantTypes(body: Body): GrantType[] {
  const value = member(body, 'grant_types');
  if (value === undefined) return [...DEFAULT_GRANT_TYPES];
  const grants = enumList(value, GRANT_TYPES, 'grant_types');
  if (grants.length === 0) throw fail('grant_types');
  // REV-01: everything validated here arrives anonymously (open registration, RFC 7592 updates,
  // metadata documents). A client that could obtain tokens without a user is the operator's to create.
  if (grants.includes('client_credentials')) {
    throw invalidClientMetadata(
      'client_credentials_not_open',
      'client_credentials is not available to registered clients; machine clients are created by the operator of this server.',
    );
  }
  // A refresh token is only ever issued by an authorization_code grant here.
  if (grants.includes('refresh_token') && !grants.includes('authorization_code')) throw fail('grant_types');
  return grants;
}

function responseTypes(body: Body, grants: readonly GrantType[]): ResponseType[] {
  const expected: ResponseType[] = grants.includes('authorization_code') ? ['code'] : [];
  const value = member(body, 'response_types');
  if (value === undefined) return expected;
  // REG-12: exactly ["code"] with authorization_code, nothing without it.
  const types = enumList(value, ['code'] as const, 'response_types');
  if (types.length !== expected.length || (value as unknown[]).length !== expected.length) throw fail('response_types');
  return expected;
}

function authMethod(body: Body): TokenEndpointAuthMethod {
  const value = member(body, 'token_endpoint_auth_method');
  const method = value === undefined ? DEFAULT_TOKEN_ENDPOINT_AUTH_METHOD : value;
  if (typeof method !== 'string' || !(AUTH_METHODS as readonly string[]).includes(method)) throw fail('token_endpoint_auth_method');
  return method as TokenEndpointAuthMethod;
}

function scope(body: Body, known: readonly string[]): string | undefined {
  const value = member(body, 'scope');
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > REGISTRATION_LIMITS.scope) throw fail('scope');
  const tokens = parseScopeParameter(value);
  if (tokens === undefined) throw fail('scope');
  if (tokens.length === 0) return undefined;
  const allowed = new Set([...known, OFFLINE_ACCESS]);
  if (!tokens.every((token) => allowed.has(token))) throw fail('scope');
  return formatScopes(tokens);
}

function contacts(body: Body): string[] | undefined {
  const value = member(body, 'contacts');
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.length > REGISTRATION_LIMITS.contacts) throw fail('contacts');
  for (const entry of value) {
    if (typeof entry !== 'string' || entry.length === 0 || entry.length > REGISTRATION_LIMITS.contact || hasDisplayHazard(entry)) {
      throw fail('contacts');
    }
  }
  return [...new Set(value as string[])];
}

function applicationType(body: Body): ApplicationType | undefined {
  const value = member(body, 'application_type');
  if (value === undefined) return undefined;
  if (value !== 'native' && value !== 'web') throw fail('application_type');
  return value;
}

/**
 * Validates an RFC 7591 registration request body and returns the normalised metadata.
 * Throws OAuthError 400 `invalid_redirect_uri` or `invalid_client_metadata` with a stable reason
 * (the failing member's name, or the redirect URI rejection reason).
 */
export function validateRegistrationRequest(body: Record<string, unknown>, policy: RegistrationPolicy): ClientMetadata {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidClientMetadata('json_not_object', 'The body must be a JSON object.');
  }
  const grants = grantTypes(body);
  const responses = responseTypes(body, grants);
  const method = authMethod(body);

  // Every grant open registration allows involves authorization_code, so redirect URIs are required.
  const redirects = validateRedirectUriList(member(body, 'redirect_uris'), policy.redirectUris);
  if (!redirects.ok) throw redirectUriError(redirects);
  const redirectUris = redirects.uris.map((accepted) => accepted.uri);
  const kinds: RedirectUriKind[] = redirects.uris.map((accepted) => accepted.kind);

  const declaredType = applicationType(body);
  const appType = declaredType ?? inferApplicationType(kinds);
  if (!kinds.every((kind) => applicationTypeAllows(appType, kind))) {
    throw invalidClientMetadata('application_type', 'The redirect URIs do not fit the application_type (web clients use https on non-loopback hosts).');
  }

  const metadata: Record<string, unknown> = {
    redirect_uris: redirectUris,
    token_endpoint_auth_method: method,
    grant_types: grants,
    response_types: responses,
    application_type: appType,
    client_name: optionalText(body, 'client_name', REGISTRATION_LIMITS.clientName),
    contacts: contacts(body),
    scope: scope(body, policy.scopeNames),
    software_id: optionalText(body, 'software_id', REGISTRATION_LIMITS.softwareField),
    software_version: optionalText(body, 'software_version', REGISTRATION_LIMITS.softwareField),
  };
  for (const field of METADATA_URI_FIELDS) metadata[field] = optionalHttpsUri(body, field);
  for (const key of Object.keys(metadata)) if (metadata[key] === undefined) delete metadata[key];
  return metadata as ClientMetadata;
}
