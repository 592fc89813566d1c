import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { Context } from 'aws-lambda';
import { Audit, AuditSink, createAudit } from './audit';
import type { Clock } from './clock';
import { HttpEvent, HttpResult, jsonResponse, NO_STORE, oauthErrorResponse, singleHeader, sourceIp } from './http';
import { OAuthError, TemporarilyUnavailableError } from './oauth-error';

export interface HandlerRuntime {
  readonly clock: Clock;
  readonly sink: AuditSink;
}

export type Route = (event: HttpEvent, audit: Audit) => Promise<HttpResult>;

/** The audit event that records a refused request, per route (`token.rejected`, `register.rejected`, ...). */
export type RejectionEvent = (event: HttpEvent) => string;

function headerOrUndefined(event: HttpEvent, name: string): string | undefined {
  try {
    return singleHeader(event, name);
  } catch {
    return undefined;
  }
}

/** The audit logger bound to one request. */
function requestAudit(event: HttpEvent, context: Context, runtime: HandlerRuntime): Audit {
  return createAudit(
    {
      requestId: event.requestContext?.requestId ?? context?.awsRequestId ?? 'local',
      ip: sourceIp(event),
      userAgent: headerOrUndefined(event, 'user-agent'),
    },
    runtime.sink,
    runtime.clock,
  );
}

/**
 * Turns a route into a Lambda handler: an audit logger bound to the request, OAuth error bodies for
 * 4xx (their stable reason goes to the audit log, generic text to the caller), 503
 * temporarily_unavailable for DynamoDB/KMS faults, a generic 500 for anything else (no stack trace
 * on the wire), and security headers on every response.
 */
export function httpHandler(route: Route, rejectionEvent: RejectionEvent, runtime: HandlerRuntime) {
  const run = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const audit = requestAudit(event, context, runtime);
    try {
      return await route(event, audit);
    } catch (error) {
      if (error instanceof OAuthError) {
        audit(rejectionEvent(event), { reason: error.reason, status: error.status });
        return oauthErrorResponse(error);
      }
      if (error instanceof TemporarilyUnavailableError) {
        audit('infra.fault', { reason: `${error.dependency}:${error.causeName}`, dependency: error.dependency });
        return jsonResponse(
          503,
          { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable. Try again shortly.' },
          { 'Retry-After': '1' },
        );
      }
      // Unexpected: record the error class and where it came from, never its message (it may hold input).
      const stack = (error as Error)?.stack?.split('\n').slice(1, 6).map((line) => line.trim());
      audit('infra.fault', { reason: 'unexpected', error: (error as Error)?.name ?? 'unknown', stack });
      return jsonResponse(500, { error: 'server_error', error_description: 'An unexpected error occurred.' });
    }
  };
  return middy(run).use(
    httpSecurityHeaders({
      contentSecurityPolicy: { 'default-src': "'none'", 'frame-ancestors': "'none'" },
    } as never),
  );
}

export interface HtmlHandlerOptions {
  /**
   * The Content-Security-Policy of every page, verbatim. Pages set their own policy rather than
   * extending middy's default, whose `form-action 'none'`, `sandbox` and `upgrade-insecure-requests`
   * would stop an HTML form from working.
   */
  readonly contentSecurityPolicy: string;
  /** Renders the page for a failure the route did not answer itself; `message` is generic text. */
  readonly errorPage: (status: number, message: string) => HttpResult;
}

/**
 * {@link httpHandler} for routes that answer browsers with HTML: the same audit logger, the same
 * split between 4xx (stable reason to the audit log), 503 and a generic 500, but every failure is an
 * HTML page. Every response gets the page CSP, `Cache-Control: no-store` and the security headers
 * (`X-Frame-Options: DENY`, `Referrer-Policy: no-referrer`, ...).
 */
export function htmlHandler(route: Route, rejectionEvent: RejectionEvent, runtime: HandlerRuntime, options: HtmlHandlerOptions) {
  const run = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const audit = requestAudit(event, context, runtime);
    let result: HttpResult;
    try {
      result = await route(event, audit);
    } catch (error) {
      if (error instanceof OAuthError) {
        audit(rejectionEvent(event), { reason: error.reason, status: error.status });
        result = options.errorPage(error.status, error.description ?? 'The request could not be processed.');
      } else if (error instanceof TemporarilyUnavailableError) {
        audit('infra.fault', { reason: `${error.dependency}:${error.causeName}`, dependency: error.dependency });
        result = options.errorPage(503, 'The service is temporarily unavailable. Try again shortly.');
        result.headers = { ...result.headers, 'Retry-After': '1' };
      } else {
        const stack = (error as Error)?.stack?.split('\n').slice(1, 6).map((line) => line.trim());
        audit('infra.fault', { reason: 'unexpected', error: (error as Error)?.name ?? 'unknown', stack });
        result = options.errorPage(500, 'An unexpected error occurred.');
      }
    }
    result.headers = { ...result.headers, ...NO_STORE, 'Content-Security-Policy': options.contentSecurityPolicy };
    return result;
  };
  return middy(run).use(httpSecurityHeaders({ contentSecurityPolicy: false }));
}
