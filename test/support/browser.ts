import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/**
 * The one way the tests start a browser: the Chromium that the `@sparticuz/chromium` devDependency ships
 * inside its npm package (brotli-compressed), driven by playwright-core. Nothing is taken from the
 * machine, so `npm ci && npm test` needs no system browser and no apt-get.
 */

const PACKAGE = '@sparticuz/chromium';

/**
 * Flags of the package's list that switch off the web's security model (same-origin policy, mixed-content
 * blocking, site isolation). The tests play a user's browser, and some of them (the framed consent page)
 * are about exactly that model, so the browser must keep it.
 */
const WEAKENING_FLAGS = ['--disable-web-security', '--allow-running-insecure-content', '--disable-site-isolation-trials'];
const WEAKENING_FEATURES = ['IsolateOrigins', 'site-per-process'];
/**
 * `--single-process` is a Lambda workaround (its kernel refuses the sandbox's prctl); in one process the
 * browser exits when a test closes its last context, so the next test would find no browser.
 */
const LAMBDA_ONLY_FLAGS = ['--single-process'];

/** No traffic beyond the loopback servers a test starts (component updates, sync, QUIC probes). */
const QUIET_FLAGS = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

interface Inflated {
  readonly executablePath: string;
  readonly args: readonly string[];
}

// The package exports no ./package.json; its entry point is build/index.js.
const packageVersion = (): string => (JSON.parse(readFileSync(join(dirname(require.resolve(PACKAGE)), '..', 'package.json'), 'utf8')) as { version: string }).version;

/**
 * Inflates the packaged Chromium once per package version into `<tmpdir>/cdk-secure-mcp-server-chromium-<version>`.
 * The package itself inflates into the shared `<tmpdir>/chromium` and trusts any file it finds there, so two
 * test files (or two checkouts) starting at once could launch a half-written binary or another version's.
 * Here each inflation runs in a child process whose TMPDIR is a fresh staging directory, which is renamed
 * into place only when complete; the first rename wins and the others discard their copy.
 */
function inflate(): Inflated {
  const target = join(tmpdir(), `cdk-secure-mcp-server-chromium-${packageVersion()}`);
  const manifest = join(target, 'launch.json');
  if (!existsSync(manifest)) {
    const staging = mkdtempSync(`${target}.partial-`);
    try {
      // The package is ESM-only and reads TMPDIR when it inflates: a plain node child keeps both out of jest.
      const script = `import(${JSON.stringify(PACKAGE)}).then(async ({ default: c }) => {
        process.stdout.write(JSON.stringify({ executable: await c.executablePath(), args: c.args }));
      })`;
      const printed = JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TMPDIR: staging }, encoding: 'utf8' })) as { executable: string; args: string[] };
      if (printed.executable !== join(staging, 'chromium')) throw new Error(`${PACKAGE} inflated into ${printed.executable}, expected ${staging}`);
      writeFileSync(join(staging, 'launch.json'), JSON.stringify({ args: printed.args }));
      renameSync(staging, target);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(manifest)) throw error;
    }
  }
  const { args } = JSON.parse(readFileSync(manifest, 'utf8')) as { args: string[] };
  return { executablePath: join(target, 'chromium'), args };
}

/** The package's recommended flags, less those that weaken web security or only suit Lambda, plus the quiet ones. */
export function chromiumArgs(packaged: readonly string[]): string[] {
  const args = packaged
    .filter((flag) => !WEAKENING_FLAGS.includes(flag) && !LAMBDA_ONLY_FLAGS.includes(flag))
    .map((flag) => {
      if (!flag.startsWith('--disable-features=')) return flag;
      const kept = flag
        .slice('--disable-features='.length)
        .split(',')
        .filter((feature) => !WEAKENING_FEATURES.includes(feature));
      return kept.length ? `--disable-features=${kept.join(',')}` : undefined;
    })
    .filter((flag): flag is string => flag !== undefined);
  return [...args, ...QUIET_FLAGS];
}

/** A headless Chromium for one test file; close it in afterAll. */
export async function launchBrowser(): Promise<Browser> {
  const { executablePath, args } = inflate();
  return chromium.launch({ executablePath, headless: true, args: chromiumArgs(args) });
}

export interface BrowserSignIn {
  readonly username: string;
  readonly password: string;
  /** The client's registered redirect URI: the sign-in ends when the browser requests it. */
  readonly redirectUri: string;
}

/**
 * A user at a real Chromium finishing an authorization a client started: our consent page (Allow),
 * the upstream sign-in form, then the browser's own request to the client's redirect URI, which is
 * returned (with code, state and iss). Nothing is faked: the browser follows every redirect, keeps the
 * cookies, and delivers the callback itself (to a client's loopback server when one listens).
 */
export async function signInWithBrowser(browser: Browser, authorizationUrl: string | URL, signIn: BrowserSignIn): Promise<URL> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const callback = page.waitForRequest((request) => request.url().startsWith(signIn.redirectUri), { timeout: 30_000 });
    await page.goto(String(authorizationUrl));
    await page.click('button[name="decision"][value="approve"]');
    await page.waitForSelector('input[name="username"]');
    await page.fill('input[name="username"]', signIn.username);
    await page.fill('input[name="password"]', signIn.password);
    await page.click('button[type="submit"]');
    const url = new URL((await callback).url());
    // Let the client's own server answer the request before the context goes.
    await page.waitForLoadState('load').catch(() => undefined);
    return url;
  } finally {
    await context.close();
  }
}
