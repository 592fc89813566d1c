import type { HttpResult } from '../shared/http';

/**
 * The two ways the authorize flow answers: a redirect to a redirect URI that has been validated for
 * this client, or an HTML page. Redirects are 303 (never 307: a POST must not be replayed to the
 * client) and Location is built by URLSearchParams, so no input can inject a header (ROB-07).
 */

/** Where an authorization response goes: the validated redirect URI and the client's state. */
export interface ResponseTarget {
  readonly redirectUri: string;
  readonly state?: string;
}

export function redirect(location: string, cookies: string[] = []): HttpResult {
  return {
    statusCode: 303,
    headers: { Location: location },
    ...(cookies.length > 0 ? { multiValueHeaders: { 'Set-Cookie': cookies } } : {}),
    body: '',
  };
}

/**
 * The redirect URI with response parameters appended: it starts with the redirect URI byte for byte
 * (AZR-16) and keeps a registered query (AZR-04). Parameters whose value is undefined are left out.
 */
export function responseLocation(redirectUri: string, parameters: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters)) if (value !== undefined) query.append(name, value);
  const separator = !redirectUri.includes('?') ? '?' : redirectUri.endsWith('?') || redirectUri.endsWith('&') ? '' : '&';
  return `${redirectUri}${separator}${query.toString()}`;
}

/** An authorization error response: `error`, a fixed description, `state` and `iss` (AS-7, RFC 9207). */
export function errorLocation(issuer: string, target: ResponseTarget, error: string, description: string): string {
  return responseLocation(target.redirectUri, { error, error_description: description, state: target.state, iss: issuer });
}

/** A refusal answered with an HTML page (never a redirect) and one audit event: the kernel's (lambda/shared/handler.ts). */
export { PageRefusal } from '../shared/handler';
