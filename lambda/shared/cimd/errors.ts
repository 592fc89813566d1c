import { OAuthError } from '../oauth-error';

/**
 * Why a Client ID Metadata Document could not be used. Stable values for the audit event
 * `cimd.fetch_refused(reason)`; the wire text is generic and never names an address (SSRF-01..04).
 */
export type CimdFailureReason =
  /** The client_id is not an https URL with a path in canonical form (SSRF-04). */
  | 'url_shape'
  /** A port other than the allowed ones (443 by default, REV-08). */
  | 'port'
  /** The host is, or resolves to, an address the policy refuses (SSRF-01). */
  | 'private_ip'
  | 'dns'
  /** Too many fetches for one host in the window (SSRF-05). */
  | 'rate_limited'
  | 'network'
  | 'tls'
  | 'timeout'
  /** Any 3xx: redirects are never followed (SSRF-02). */
  | 'redirect'
  | 'bad_status'
  | 'too_large'
  | 'not_json'
  /** The document's client_id is not byte-equal to the URL (CIMD-2). */
  | 'client_id_mismatch'
  /** `client_secret`, a shared-secret auth method (SSRF-03). */
  | 'shared_secret'
  /** A private or symmetric key in `jwks` (SSRF-03). */
  | 'private_key'
  /** The client cannot authenticate with `none`, the only method offered to CIMD clients. */
  | 'unsupported_auth_method'
  /** The metadata breaks the registration policy (CIMD-5; `detail` names the member). */
  | 'invalid_metadata';

/**
 * 400 `invalid_client`; the authorization endpoint renders it as an error page, never a redirect.
 * `detail` is a stable sub-reason for the audit log (an error code or a member name), never input.
 */
export class CimdError extends OAuthError {
  constructor(readonly cimdReason: CimdFailureReason, readonly detail?: string) {
    super(400, 'invalid_client', cimdReason, 'The client metadata document could not be used.');
    this.name = 'CimdError';
  }
}
