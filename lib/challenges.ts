import { formatScopes } from './scopes';

/**
 * `WWW-Authenticate` challenges of the protected MCP endpoint (RFC 6750 §3, RFC 9728 §5.1). One builder
 * per situation so the authorizer, the runtime guard, the construct's gateway responses and the local
 * stack send byte-identical strings.
 *
 * Values are written verbatim inside quoted strings: scope tokens cannot contain `"` or `\` (RFC 6749
 * §3.3) and the metadata URL is built from the issuer. Values are not otherwise escaped so that an
 * unresolved CDK token (the stage URL at synth time) passes through unchanged.
 */

function quoted(value: string): string {
  if (/["\\\r\n]/.test(value)) throw new Error(`challenge parameter must not contain quotes, backslashes or line breaks: ${JSON.stringify(value)}`);
  return `"${value}"`;
}

/**
 * 401 without an `error` attribute: what API Gateway answers for every authentication failure, because
 * its UNAUTHORIZED response is static (see docs/AUTHORIZER.md). RFC 6750 §3.1: a request without
 * credentials gets no error code.
 */
export function unauthorizedChallenge(resourceMetadataUrl: string, defaultScopes: Iterable<string>): string {
  const scope = formatScopes(defaultScopes);
  return `Bearer resource_metadata=${quoted(resourceMetadataUrl)}` + (scope ? `, scope=${quoted(scope)}` : '');
}

/** 401 for a token that was presented but is no longer acceptable, where the answer can vary (the runtime guard). */
export function invalidTokenChallenge(resourceMetadataUrl: string, defaultScopes: Iterable<string>): string {
  const scope = formatScopes(defaultScopes);
  return `Bearer error="invalid_token", resource_metadata=${quoted(resourceMetadataUrl)}` + (scope ? `, scope=${quoted(scope)}` : '');
}

/** 403 naming every scope the operation needs in one challenge (RS-7), so a client steps up once. */
export function insufficientScopeChallenge(resourceMetadataUrl: string, requiredScopes: Iterable<string>): string {
  return `Bearer error="insufficient_scope", scope=${quoted(formatScopes(requiredScopes))}, resource_metadata=${quoted(resourceMetadataUrl)}`;
}
