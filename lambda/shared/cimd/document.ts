import { hasPrivateKeyMaterial, parseUntrustedJson, POLLUTING_KEYS } from '../untrusted-json';
import { type ClientMetadata, type RegistrationPolicy, validateRegistrationRequest } from '../client-metadata';
import { OAuthError } from '../oauth-error';
import { CimdError } from './errors';

const SHARED_SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt']);

type Document = Record<string, unknown>;

const own = (document: Document, name: string): unknown => (Object.hasOwn(document, name) ? document[name] : undefined);

/** Parses the body as a UTF-8 JSON object, dropping prototype-polluting keys. */
export function parseDocument(body: Buffer): Document {
  let parsed: unknown;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    parsed = parseUntrustedJson(text);
  } catch {
    throw new CimdError('not_json');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new CimdError('not_json');
  return parsed as Document;
}

function hasPrivateKey(jwks: unknown): boolean {
  if (jwks === null || typeof jwks !== 'object') return false;
  const keys = (jwks as Document).keys;
  if (!Array.isArray(keys)) return false;
  return keys.some((key) => key !== null && typeof key === 'object' && hasPrivateKeyMaterial(key));
}

/**
 * Decides the token endpoint authentication of a CIMD client: always `none` (public client + PKCE).
 * A document may name one method (`token_endpoint_auth_method`) and list choices
 * (`token_endpoint_auth_methods_supported`, OpenID Connect RP Metadata Choices). ChatGPT prefers
 * `private_key_jwt` and lists `none`: it is accepted as a public client, as workers-oauth-provider
 * does; our metadata does not advertise `private_key_jwt`, so it falls back to `none`. A document that
 * offers only `private_key_jwt` (or anything else without `none`) is refused. Shared-secret methods
 * are refused wherever they appear: no secret was ever issued to a CIMD client (SSRF-03).
 */
function negotiateAuthMethod(document: Document): void {
  const declared = own(document, 'token_endpoint_auth_method');
  const choices = own(document, 'token_endpoint_auth_methods_supported');
  if (declared !== undefined && typeof declared !== 'string') throw new CimdError('invalid_metadata', 'token_endpoint_auth_method');
  if (choices !== undefined && (!Array.isArray(choices) || !choices.every((c) => typeof c === 'string'))) {
    throw new CimdError('invalid_metadata', 'token_endpoint_auth_methods_supported');
  }
  const offered = [...(declared === undefined ? [] : [declared]), ...((choices as string[] | undefined) ?? [])];
  if (offered.some((method) => SHARED_SECRET_METHODS.has(method))) throw new CimdError('shared_secret');
  const acceptsNone = offered.length === 0 || offered.includes('none');
  if (!acceptsNone) throw new CimdError('unsupported_auth_method');
}

/**
 * CIMD-2 / CIMD-5 / SSRF-03: checks a fetched document against the URL it came from and returns the
 * metadata in the registry's shape. The same rules as registration apply (redirect URIs, grant and
 * response types, caps); `client_name` and `redirect_uris` are required; `scope` is ignored, because a
 * document is published for every authorization server and cannot know our scopes (the scope model
 * and consent bound what the client gets).
 */
export function validateClientMetadataDocument(document: Document, clientId: string, policy: RegistrationPolicy): ClientMetadata {
  if (own(document, 'client_id') !== clientId) throw new CimdError('client_id_mismatch');
  if (Object.hasOwn(document, 'client_secret') || Object.hasOwn(document, 'client_secret_expires_at')) {
    throw new CimdError('shared_secret');
  }
  if (hasPrivateKey(own(document, 'jwks'))) throw new CimdError('private_key');
  negotiateAuthMethod(document);
  const clientName = own(document, 'client_name');
  if (typeof clientName !== 'string' || clientName.trim() === '') throw new CimdError('invalid_metadata', 'client_name');
  if (own(document, 'redirect_uris') === undefined) throw new CimdError('invalid_metadata', 'redirect_uris');

  const body: Document = {};
  for (const [key, value] of Object.entries(document)) if (key !== 'scope' && !POLLUTING_KEYS.has(key)) body[key] = value;
  body.token_endpoint_auth_method = 'none';
  try {
    return validateRegistrationRequest(body, policy);
  } catch (error) {
    if (error instanceof OAuthError) throw new CimdError('invalid_metadata', `${error.error}:${error.reason}`);
    throw error;
  }
}
