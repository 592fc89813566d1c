import { playBrowser } from '../support/browser-player';

export const REDIRECT_URI = 'http://127.0.0.1:33418/callback';

/**
 * An OAuthClientProvider (the shape both SDK generations use) whose redirectToAuthorization plays the
 * user's browser: upstream sign-in as `username`, consent approved, code captured from the redirect.
 */
export class HeadlessOAuthProvider {
  readonly redirectUrl = REDIRECT_URI;
  readonly clientMetadata: { client_name: string; redirect_uris: string[]; grant_types: string[]; response_types: string[]; token_endpoint_auth_method: string };
  private saved?: { access_token: string; refresh_token?: string; scope?: string };
  private verifier = '';
  /** Every authorization URL the client opened, and the callback URL each one ended at. */
  readonly authorizations: Array<{ request: URL; callback: URL }> = [];
  /** Every token set the client saved, in order. */
  readonly savedTokens: Array<{ access_token: string; refresh_token?: string; scope?: string }> = [];

  constructor(
    username: string,
    grantTypes: string[] = ['authorization_code', 'refresh_token'],
    /** How the user's browser is played: plain HTTP by default, or a real Chromium (signInWithBrowser). */
    private readonly signIn: (url: URL, redirectUri: string) => Promise<URL> = (url, redirectUri) => playBrowser(url, { username, password: username, redirectUri }),
  ) {
    this.clientMetadata = {
      client_name: 'Headless end-to-end test client',
      redirect_uris: [REDIRECT_URI],
      grant_types: grantTypes,
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }

  /** Several providers (one per MCP server) may share one registration: the client's, not the server's. */
  shareRegistrationWith(other: HeadlessOAuthProvider): this {
    this.registration = other.registration;
    return this;
  }
  private registration: { info?: unknown } = {};

  clientInformation() {
    return this.registration.info as never;
  }
  saveClientInformation(info: unknown) {
    this.registration.info = info;
  }
  tokens() {
    return this.saved as never;
  }
  saveTokens(tokens: { access_token: string; refresh_token?: string; scope?: string }) {
    this.saved = tokens;
    this.savedTokens.push(tokens);
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    return this.verifier;
  }
  async redirectToAuthorization(url: URL) {
    const callback = await this.signIn(url, REDIRECT_URI);
    this.authorizations.push({ request: url, callback });
  }
  get lastCallback(): URL {
    return this.authorizations[this.authorizations.length - 1].callback;
  }
}
