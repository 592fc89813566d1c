import type { Audit, AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthorizeConfig } from './config';
import { htmlHandler, routeOf } from '../shared/handler';
import { authorize } from './routes/authorize';
import { type CimdResolver, clientLookup } from './clients';
import { decideConsent, showConsent } from './routes/consent';
import type { AuthorizeDeps, AuthorizeStores } from './deps';
import { errorPage, PAGE_CSP } from './pages';
import { finishSignIn } from './routes/callback';
import type { UpstreamProvider } from './upstream';

export interface AuthorizeHandlerDeps {
  readonly config: AuthorizeConfig;
  readonly stores: AuthorizeStores;
  /** The Client ID Metadata Document fetcher; absent when CIMD is disabled (SSRF-06). */
  readonly cimd?: CimdResolver;
  readonly upstream: UpstreamProvider;
  readonly clock: Clock;
  readonly sink: AuditSink;
}

const REJECTION_EVENTS: Record<string, string> = { '/callback': 'upstream.callback_rejected' };

/**
 * GET /authorize, GET and POST /consent, GET /callback: HTML for browsers. Every refusal is a page or
 * a redirect to a validated redirect URI, with one audit event. No other method is served, and no
 * CORS header is ever sent (AZR-17).
 */
export function buildAuthorizeHandler(deps: AuthorizeHandlerDeps) {
  const clients = clientLookup(deps.stores.clients, deps.cimd);
  const logicFor = (audit: Audit): AuthorizeDeps => ({ ...deps, clients, audit });
  return htmlHandler(
    {
      'GET /authorize': (event, audit) => authorize(event, logicFor(audit)),
      'GET /consent': (event, audit) => showConsent(event, logicFor(audit)),
      'POST /consent': (event, audit) => decideConsent(event, logicFor(audit)),
      'GET /callback': (event, audit) => finishSignIn(event, logicFor(audit)),
    },
    (event) => REJECTION_EVENTS[routeOf(event)] ?? 'authorize.rejected',
    deps,
    { contentSecurityPolicy: PAGE_CSP, errorPage: (status, message, cookies) => errorPage(status, message, { cookies }) },
  );
}
