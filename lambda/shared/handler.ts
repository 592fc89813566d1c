import middy from '@middy/core';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { Context } from 'aws-lambda';
import { METHOD_NOT_ALLOWED_BODY, NOT_FOUND_BODY } from '../../lib/routes';
import { Audit, AuditFields, AuditSink, createAudit } from './audit';
import type { Clock } from './clock';
import { HttpEvent, HttpResult, jsonResponse, NO_STORE, oauthErrorResponse, singleHeader, sourceIp } from './http';
import { OAuthError, TemporarilyUnavailableError } from './oauth-error';

/**
 * The one HTTP kernel of the authorization-server handlers: an audit logger bound to each request, the
 * routes of one handler as a table keyed like the manifest (`POST /token`), one 404/405 behaviour (the
 * bodies API Gateway itself answers; test/shared/http-kernel.test.ts holds each table to the manifest), and one classification of failures rendered as JSON (OAuth error
 * bodies) or as HTML pages. No stack trace or input ever reaches the caller.
 */

export interface HandlerRuntime {
  readonly clock: Clock;
  readonly sink: AuditSink;
}

export type RouteHandler = (event: HttpEvent, audit: Audit) => Promise<HttpResult>;

/** A handler's routes, keyed `METHOD /manifest/path` (the `resource` of a REST proxy event). */
export type RouteTable = Readonly<Record<string, RouteHandler>>;

/** The audit event that records a refused request, per route (`token.rejected`, `register.rejected`, ...). */
export type RejectionEvent = (event: HttpEvent) => string;

/** A refusal that names its own audit event and may clear cookies: answered as a page, with generic text. */
export class PageRefusal extends Error {
  constructor(
    readonly status: number,
    readonly event: string,
    readonly reason: string,
    /** Generic text for the page; never input. */
    readonly userMessage: string,
    readonly fields: AuditFields = {},
    readonly cookies: string[] = [],
  ) {
    super(`${event}: ${reason}`);
    this.name = 'PageRefusal';
  }
}

/** What a failure becomes, before it is rendered as JSON or HTML. */
interface Failure {
  readonly status: number;
  readonly message: string;
  readonly headers?: Record<string, string>;
  readonly cookies?: string[];
  /** The OAuth error, for JSON answers (its body is the standard one). */
  readonly oauth?: OAuthError;
}

/** Classifies a failure and writes its one audit line (the stable reason, never the message of an unexpected error). */
function classify(error: unknown, event: HttpEvent, audit: Audit, rejectionEvent: RejectionEvent): Failure {
  if (error instanceof PageRefusal) {
    audit(error.event, { reason: error.reason, ...error.fields });
    return { status: error.status, message: error.userMessage, cookies: error.cookies };
  }
  if (error instanceof OAuthError) {
    audit(rejectionEvent(event), { reason: error.reason, status: error.status });
    return { status: error.status, message: error.description ?? 'The request could not be processed.', oauth: error };
  }
  if (error instanceof TemporarilyUnavailableError) {
    audit('infra.fault', { reason: `${error.dependency}:${error.causeName}`, dependency: error.dependency });
    return { status: 503, message: 'The service is temporarily unavailable. Try again shortly.', headers: { 'Retry-After': '1' } };
  }
  const stack = (error as Error)?.stack?.split('\n').slice(1, 6).map((line) => line.trim());
  audit('infra.fault', { reason: 'unexpected', error: (error as Error)?.name ?? 'unknown', stack });
  return { status: 500, message: 'An unexpected error occurred.' };
}

const JSON_ERROR = { 503: 'temporarily_unavailable', 500: 'server_error' } as Record<number, string>;

function jsonFailure(failure: Failure): HttpResult {
  if (failure.oauth) return oauthErrorResponse(failure.oauth);
  return jsonResponse(failure.status, { error: JSON_ERROR[failure.status] ?? 'server_error', error_description: failure.message }, failure.headers);
}

function headerOrUndefined(event: HttpEvent, name: string): string | undefined {
  try {
    return singleHeader(event, name);
  } catch {
    return undefined;
  }
}

function requestAudit(event: HttpEvent, context: Context, runtime: HandlerRuntime): Audit {
  return createAudit(
    { requestId: event.requestContext?.requestId ?? context?.awsRequestId ?? 'local', ip: sourceIp(event), userAgent: headerOrUndefined(event, 'user-agent') },
    runtime.sink,
    runtime.clock,
  );
}

/** The route path of a REST proxy event, relative to the stage (`resource` is the manifest path). */
export const routeOf = (event: HttpEvent): string => event.resource ?? event.path;

/**
 * What a request on no route of the table gets, as API Gateway answers it: 405 with the methods the
 * table serves on that path (and OPTIONS where preflights are answered), else 404.
 */
function unmatched(event: HttpEvent, table: RouteTable, answersPreflight: boolean): { status: 404 | 405; body: object; allow?: string } {
  const path = routeOf(event);
  const methods = Object.keys(table).filter((key) => key.slice(key.indexOf(' ') + 1) === path).map((key) => key.slice(0, key.indexOf(' ')));
  if (methods.length === 0) return { status: 404, body: NOT_FOUND_BODY };
  return { status: 405, body: METHOD_NOT_ALLOWED_BODY, allow: [...methods, ...(answersPreflight ? ['OPTIONS'] : [])].join(', ') };
}

function dispatch(table: RouteTable, event: HttpEvent, audit: Audit): Promise<HttpResult> | undefined {
  return table[`${event.httpMethod} ${routeOf(event)}`]?.(event, audit);
}

/** A JSON handler: OAuth error bodies for 4xx, 503 temporarily_unavailable for faults, a generic 500, security headers. */
export function httpHandler(table: RouteTable, rejectionEvent: RejectionEvent, runtime: HandlerRuntime, options: { answersPreflight?: boolean } = {}) {
  const run = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const audit = requestAudit(event, context, runtime);
    try {
      const answered = dispatch(table, event, audit);
      if (answered) return await answered;
      const miss = unmatched(event, table, options.answersPreflight ?? false);
      return jsonResponse(miss.status, miss.body, miss.allow ? { Allow: miss.allow } : {});
    } catch (error) {
      return jsonFailure(classify(error, event, audit, rejectionEvent));
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
  /** Renders the page for a failure; `message` is generic text. */
  readonly errorPage: (status: number, message: string, cookies: string[]) => HttpResult;
}

/**
 * {@link httpHandler} for routes that answer browsers with HTML: the same table, audit and
 * classification, but every failure (and a 404/405) is a page. Every response gets the page CSP,
 * `Cache-Control: no-store` and the security headers (`X-Frame-Options: DENY`, ...).
 */
export function htmlHandler(table: RouteTable, rejectionEvent: RejectionEvent, runtime: HandlerRuntime, options: HtmlHandlerOptions) {
  const run = async (event: HttpEvent, context: Context): Promise<HttpResult> => {
    const audit = requestAudit(event, context, runtime);
    let result: HttpResult;
    try {
      const answered = dispatch(table, event, audit);
      if (answered) {
        result = await answered;
      } else {
        const miss = unmatched(event, table, false);
        result = options.errorPage(miss.status, miss.status === 405 ? 'This address does not accept that kind of request.' : 'No such page.', []);
        if (miss.allow) result.headers = { ...result.headers, Allow: miss.allow };
      }
    } catch (error) {
      const failure = classify(error, event, audit, rejectionEvent);
      result = options.errorPage(failure.status, failure.message, failure.cookies ?? []);
      if (failure.headers) result.headers = { ...result.headers, ...failure.headers };
    }
    result.headers = { ...result.headers, ...NO_STORE, 'Content-Security-Policy': options.contentSecurityPolicy };
    return result;
  };
  return middy(run).use(httpSecurityHeaders({ contentSecurityPolicy: false }));
}
