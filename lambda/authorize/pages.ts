import { createHash } from 'node:crypto';
import type { HttpResult } from '../shared/http';
import type { RedirectDestination } from '../shared/redirect-uri';

/**
 * Server-rendered pages of the authorize flow (AS-19, CONS-01, CONS-05): no script, no external asset,
 * one inline stylesheet allowed by its hash, every dynamic value escaped.
 */

const STYLE = [
  'body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.45}',
  'h1{font-size:1.4rem}',
  '.client{overflow-wrap:anywhere}',
  '.warning{border-left:4px solid #b35c00;background:#fff4e5;padding:.5rem .75rem;margin:.75rem 0}',
  'ul.scopes{padding-left:1.2rem}',
  'code{overflow-wrap:anywhere}',
  '.actions{display:flex;gap:1rem;margin-top:1.5rem}',
  'button{font-size:1rem;padding:.5rem 1.25rem;cursor:pointer}',
  'button[value=approve]{background:#0b57d0;color:#fff;border:0;border-radius:4px}',
  'button[value=deny]{background:#fff;border:1px solid #888;border-radius:4px}',
].join('');

const styleHash = createHash('sha256').update(STYLE).digest('base64');

/**
 * The policy of every page. `form-action` is deliberately absent: browsers apply it to the redirects
 * that follow a form post, and the consent form's answer redirects to the upstream provider or to the
 * client's redirect URI (often a loopback port or a private-use scheme).
 */
export const PAGE_CSP = `default-src 'none'; style-src 'sha256-${styleHash}'; script-src 'none'; img-src 'none'; base-uri 'none'; frame-ancestors 'none'`;

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ENTITIES[character]);
}

/** Longest client name shown; registration caps names at 200 characters, a CIMD document may not. */
const MAX_DISPLAYED_NAME = 120;

/**
 * A client-chosen name made safe to look at: control and format characters (bidi overrides,
 * zero-width joiners) become U+FFFD so they can neither hide nor reorder text, and long names are cut.
 * Returns undefined when nothing visible remains.
 */
export function displayName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const visible = name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '\uFFFD').trim();
  if (visible.replace(/\uFFFD/g, '').trim() === '') return undefined;
  const characters = [...visible];
  return characters.length > MAX_DISPLAYED_NAME ? `${characters.slice(0, MAX_DISPLAYED_NAME).join('')}…` : visible;
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><main>${body}</main></body></html>`;
}

function htmlResponse(statusCode: number, html: string, cookies: string[] = []): HttpResult {
  return {
    statusCode,
    headers: { 'Content-Type': 'text/html; charset=utf-8' },
    ...(cookies.length > 0 ? { multiValueHeaders: { 'Set-Cookie': cookies } } : {}),
    body: html,
  };
}

/** A redirect destination in words: a web host, or the app that claims a private-use scheme (REV-07). */
function destinationHtml(destination: RedirectDestination): string {
  if (destination.kind === 'web') return `<strong id="redirect-host">${escapeHtml(destination.host)}</strong>`;
  return `the application on your device that handles <strong id="redirect-host">${escapeHtml(destination.scheme)}:</strong> addresses (<code>${escapeHtml(destination.uri)}</code>)`;
}

function destinationText(destination: RedirectDestination): string {
  return destination.kind === 'web' ? destination.host : `${destination.scheme}:`;
}

export interface ErrorPageOptions {
  /** A link the user may follow back to the application, for refusals that are not auto-redirected (AZR-13, REV-03). */
  readonly returnLink?: { readonly href: string; readonly destination: RedirectDestination };
  readonly cookies?: string[];
}

export function errorPage(status: number, message: string, options: ErrorPageOptions = {}): HttpResult {
  const link = options.returnLink
    ? `<p>You can return to ${destinationHtml(options.returnLink.destination)}. Only do so if you started this sign-in yourself and trust it.</p>
<p><a href="${escapeHtml(options.returnLink.href)}">Return to ${escapeHtml(destinationText(options.returnLink.destination))}</a></p>`
    : '<p>Close this window and start again from your application.</p>';
  const title = status >= 500 ? 'Sign-in is temporarily unavailable' : 'This sign-in request cannot continue';
  return htmlResponse(status, layout(title, `<h1>${escapeHtml(title)}</h1>\n<p role="alert">${escapeHtml(message)}</p>\n${link}`), options.cookies);
}

export interface ConsentScope {
  readonly name: string;
  readonly description: string;
}

export interface ConsentView {
  /** The client's display name, already passed through {@link displayName}. */
  readonly clientName?: string;
  readonly clientId: string;
  /** For a URL-shaped (CIMD) client id: the domain that publishes the client's metadata. */
  readonly metadataDomain?: string;
  /** True for a dynamically registered client: its name is self-asserted. */
  readonly selfRegistered: boolean;
  /** Where the user is sent afterwards (REV-07). */
  readonly redirectTarget: RedirectDestination;
  /** Every registered redirect URI is on a loopback host (CIMD-8). */
  readonly localhostOnly: boolean;
  readonly scopes: ConsentScope[];
  /** The MCP server (resource) access is asked for: consent covers this one only (MRS-08). */
  readonly resource: string;
  /** Issuer host: the service the user grants access to. */
  readonly serviceName: string;
  /** Set when consent is asked after sign-in. */
  readonly signedInAs?: string;
  readonly formAction: string;
  readonly handle: string;
  readonly csrfToken: string;
}

/** The consent page (AS-19, CIMD-8). */
export function consentPage(view: ConsentView, cookies: string[] = []): HttpResult {
  const name = view.clientName ?? 'An unnamed application';
  const warnings: string[] = [];
  if (view.selfRegistered) {
    warnings.push('This application registered itself with this server. Its name has not been verified: check that you started it yourself.');
  }
  if (view.metadataDomain !== undefined) {
    warnings.push(`This application is identified by a document published at <strong>${escapeHtml(view.metadataDomain)}</strong>.`);
  }
  if (view.localhostOnly) {
    warnings.push('This application receives the result on this computer (localhost). Any program on this computer could claim to be it.');
  }
  const scopes = view.scopes.map((scope) => `<li><code>${escapeHtml(scope.name)}</code>: ${escapeHtml(scope.description)}</li>`).join('\n');
  const body = `<h1>Allow <bdi class="client">${escapeHtml(name)}</bdi> to access ${escapeHtml(view.serviceName)}?</h1>
${view.signedInAs !== undefined ? `<p>Signed in as <strong>${escapeHtml(view.signedInAs)}</strong>.</p>` : ''}
<p>Client id: <code>${escapeHtml(view.clientId)}</code></p>
<p>MCP server: <code>${escapeHtml(view.resource)}</code></p>
<p>After you decide you will be sent to ${destinationHtml(view.redirectTarget)}.</p>
${warnings.map((warning) => `<p class="warning" role="note">${warning}</p>`).join('\n')}
<p>It asks for:</p>
<ul class="scopes">
${scopes}
</ul>
<p>You will only be granted what your account is entitled to.</p>
<form method="post" action="${escapeHtml(view.formAction)}">
<input type="hidden" name="request" value="${escapeHtml(view.handle)}">
<input type="hidden" name="csrf" value="${escapeHtml(view.csrfToken)}">
<div class="actions">
<button type="submit" name="decision" value="approve">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</div>
</form>`;
  return htmlResponse(200, layout(`Allow ${name}?`, body), cookies);
}
