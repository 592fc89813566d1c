import type { AuditSink } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthServerConfig } from '../shared/config';
import { htmlHandler } from '../shared/handler';
import type { HttpEvent } from '../shared/http';
import type { Stores } from '../shared/stores';
import { authorize } from './authorize';
import { type CimdResolver, clientLookup } from './clients';
import { decideConsent, showConsent } from './consent';
import type { AuthorizeDeps } from './deps';
import type { FlowStore } from './flow-store';
import { errorPage, PAGE_CSP } from './pages';
import { PageRefusal } from './responses';
import { finishSignIn } from './sign-in';
import type { UpstreamProvider } from './upstream';

export interface AuthorizeHandlerDeps {
  readonly config: AuthServerConfig;
  readonly stores: Pick<Stores, 'getClient' | 'createCode' | 'markClientUsed'>;
  readonly flows: FlowStore;
  /** The Client ID Metadata Document fetcher; absent when CIMD is disabled (SSRF-06). */
  readonly cimd?: CimdResolver;
  readonly upstream: UpstreamProvider;
  readonly clock: Clock;
  readonly sink: AuditSink;
}

/** The route of a REST API proxy event, relative to the stage (`resource` is the manifest path). */
const routeOf = (event: HttpEvent) => event.resource ?? event.path;

const REJECTION_EVENTS: Record<string, string> = { '/callback': 'upstream.callback_rejected' };

/**
 * GET /authorize, GET and POST /consent, GET /callback: HTML for browsers. Every refusal is a page or
 * a redirect to a validated redirect URI, with one audit event.
 */
export function buildAuthorizeHandler(deps: AuthorizeHandlerDeps) {
  const clients = clientLookup(deps.stores, deps.cimd);
  return htmlHandler(
    async (event, audit) => {
      const logic: AuthorizeDeps = { ...deps, clients, audit };
      try {
        switch (`${event.httpMethod} ${routeOf(event)}`) {
          case 'GET /authorize':
            return await authorize(event, logic);
          case 'GET /consent':
            return await showConsent(event, logic);
          case 'POST /consent':
            return await decideConsent(event, logic);
          case 'GET /callback':
            return await finishSignIn(event, logic);
          default: {
            // AZR-17: no POST (or CORS preflight) on /authorize, and no CORS headers anywhere.
            const page = errorPage(405, 'This address does not accept that kind of request.');
            page.headers = { ...page.headers, Allow: routeOf(event) === '/consent' ? 'GET, POST' : 'GET' };
            return page;
          }
        }
      } catch (error) {
        if (!(error instanceof PageRefusal)) throw error;
        audit(error.event, { reason: error.reason, ...error.fields });
        return errorPage(error.status, error.userMessage, { cookies: error.cookies });
      }
    },
    (event) => REJECTION_EVENTS[routeOf(event)] ?? 'authorize.rejected',
    deps,
    { contentSecurityPolicy: PAGE_CSP, errorPage: (status, message) => errorPage(status, message) },
  );
}
