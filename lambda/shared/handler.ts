import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { Context } from 'aws-lambda';
import { Audit, AuditSink, createAudit } from './audit';
import type { Clock } from './clock';
import { HttpEvent, HttpResult, jsonResponse, oauthErrorResponse, singleHeader, sourceIp } from './http';
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

/**
 * Turns a route into a Lambda handler: an audit logger bound to the request, OAuth error bodies for
 * 4xx (their stable reason goes to the audit log, generic text to the caller), 503
 * temporarily_unavailable for DynamoDB/KMS faults, a generic 500 for anything else (no stack trace
 * on the wire), and security headers on every response.
 */
export function httpHandler(route: Route, rejectionEvent: RejectionEvent, runtime: HandlerRuntime) {
  const run = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const audit = createAudit(
      {
        requestId: event.requestContext?.requestId ?? context?.awsRequestId ?? 'local',
        ip: sourceIp(event),
        userAgent: headerOrUndefined(event, 'user-agent'),
      },
      runtime.sink,
      runtime.clock,
    );
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
