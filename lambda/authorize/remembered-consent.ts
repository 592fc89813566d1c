import { randomToken, sha256 } from '../shared/crypto';
import { consentCookieName, setCookie } from './cookies';
import type { AuthorizeDeps } from './deps';
import type { AuthorizationRequest } from './pending-table';

/** The subject as stored with a remembered consent: hashed, so the consents table names no user. */
export const consentSubjectHash = (sub: string) => sha256(`consent-subject:${sub}`);

/**
 * Remembers that `user` consented to this client, redirect URI and scope set, until the configured
 * expiry; returns the consent cookie that points at it (none when remembering is disabled).
 */
export async function rememberConsent(request: AuthorizationRequest, sub: string, deps: AuthorizeDeps): Promise<string[]> {
  const lifetime = deps.config.lifetimes.rememberedConsent;
  if (lifetime === 0) return [];
  const secret = randomToken(32);
  const now = deps.clock();
  await deps.stores.consents.remember({
    consentId: sha256(secret),
    clientId: request.clientId,
    resource: request.resource,
    redirectUri: request.registeredRedirectUri,
    scope: request.scope,
    subjectHash: consentSubjectHash(sub),
    createdAt: now,
    expiresAt: now + lifetime,
  });
  return [setCookie(consentCookieName(deps.config.issuer, request.clientId, request.resource), secret, lifetime)];
}
