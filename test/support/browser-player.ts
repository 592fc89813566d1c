/**
 * Plays a user's browser over plain HTTP for headless end-to-end tests: follows redirects with a
 * cookie jar, signs in at the upstream provider's login form and answers our consent page, until the
 * authorization server redirects to the client's redirect URI. Only the pages of this project and the
 * local upstream provider are understood (simple, server-rendered forms).
 */
export interface BrowserPlayOptions {
  readonly username: string;
  readonly password: string;
  /** The redirect URI the client registered (its prefix ends the walk). */
  readonly redirectUri: string;
  readonly decision?: 'approve' | 'deny';
  /** Safety bound on the number of requests. */
  readonly maxSteps?: number;
  /** The browser's cookies; pass one jar to several walks to keep sessions between them. @default - a new jar */
  readonly jar?: CookieJar;
  /** Every URL the walk requested is appended here (which hosts the user was sent to). */
  readonly visited?: URL[];
}

export class CookieJar {
  private readonly byOrigin = new Map<string, Map<string, string>>();

  header(url: URL): string | undefined {
    const cookies = this.byOrigin.get(url.origin);
    return cookies && cookies.size ? [...cookies].map(([name, value]) => `${name}=${value}`).join('; ') : undefined;
  }

  store(url: URL, response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const cookies = this.byOrigin.get(url.origin) ?? new Map<string, string>();
      if (/max-age=0/i.test(line) || value === '') cookies.delete(name);
      else cookies.set(name, value);
      this.byOrigin.set(url.origin, cookies);
    }
  }
}

function decodeEntities(value: string): string {
  return value.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

interface HtmlForm {
  action: string;
  fields: Map<string, string>;
  html: string;
}

function forms(html: string): HtmlForm[] {
  return [...html.matchAll(/<form[^>]*action="([^"]*)"[^>]*>([\s\S]*?)<\/form>/g)].map((match) => {
    const fields = new Map<string, string>();
    for (const input of match[2].matchAll(/<input[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(input[0])?.[1];
      const value = /value="([^"]*)"/.exec(input[0])?.[1] ?? '';
      if (name) fields.set(name, decodeEntities(value));
    }
    return { action: decodeEntities(match[1]), fields, html: match[2] };
  });
}

export async function playBrowser(authorizationUrl: string | URL, options: BrowserPlayOptions): Promise<URL> {
  const jar = options.jar ?? new CookieJar();
  let request: { url: URL; method: 'GET' | 'POST'; body?: URLSearchParams; origin?: string } = { url: new URL(authorizationUrl), method: 'GET' };
  for (let step = 0; step < (options.maxSteps ?? 20); step++) {
    if (request.url.href.startsWith(options.redirectUri)) return request.url;
    options.visited?.push(request.url);
    const headers: Record<string, string> = {};
    const cookie = jar.header(request.url);
    if (cookie) headers.cookie = cookie;
    if (request.body) headers['content-type'] = 'application/x-www-form-urlencoded';
    if (request.origin) headers.origin = request.origin;
    const response = await fetch(request.url, { method: request.method, headers, body: request.body, redirect: 'manual' });
    jar.store(request.url, response);
    if (response.status >= 300 && response.status < 400) {
      request = { url: new URL(response.headers.get('location')!, request.url), method: 'GET' };
      continue;
    }
    const html = await response.text();
    if (response.status !== 200) throw new Error(`the browser got HTTP ${response.status} at ${request.url.pathname}: ${html.slice(0, 300)}`);
    const page = forms(html);
    const login = page.find((form) => form.fields.has('username') || /name="username"/.test(form.html));
    const consent = page.find((form) => /name="decision"/.test(form.html));
    const origin = request.url.origin;
    if (login) {
      const body = new URLSearchParams({ username: options.username, password: options.password });
      request = { url: new URL(login.action, request.url), method: 'POST', body, origin };
    } else if (consent) {
      const body = new URLSearchParams([...consent.fields, ['decision', options.decision ?? 'approve']]);
      request = { url: new URL(consent.action, request.url), method: 'POST', body, origin };
    } else {
      throw new Error(`the browser does not know what to do on ${request.url.pathname}: ${html.slice(0, 300)}`);
    }
  }
  throw new Error('the browser walk did not reach the redirect URI');
}
