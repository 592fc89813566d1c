import { AUTHORIZATION_SERVER_FUNCTIONS, FUNCTION_ENVIRONMENTS, type AuthorizationServerFunction, type FunctionEnvironmentSpec } from '../../lib/functions';
import { environmentOf } from '../../lib/environment-reader';
import { EVERY_VARIABLE, everyVariable } from '../support/environment';
import { FUNCTION_LOADERS } from '../support/loaders';

/**
 * Each function's loader (what its index.ts runs at init) reads only the variables of its spec in
 * lib/functions.ts, the ones the construct, the local stack and the harness give it: run over an
 * environment holding every variable of lib/environment.ts, the names it reads are recorded.
 */

/** `env` behind a Proxy that records every name read from it. */
function recording(env: Record<string, string>) {
  const read = new Set<string>();
  const proxy = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.get(target, name);
    },
    has(target, name) {
      if (typeof name === 'string') read.add(name);
      return Reflect.has(target, name);
    },
  });
  return { proxy, read };
}

/**
 * Required variables a loader still reads with a default: the construct always sets them, and the
 * tests and the local stack rely on the default (the values are those the handlers had before the per-function loaders).
 * PROTECTED_RESOURCES falls back to the one server at /mcp of the 0.2 configuration (SCOPE_MODEL).
 */
const DEFAULTED: Record<AuthorizationServerFunction, Record<string, string | undefined>> = {
  metadata: { PROTECTED_RESOURCES: undefined, SIGNING_ALGORITHM: 'RS256', CIMD_ENABLED: 'true' },
  register: { PROTECTED_RESOURCES: undefined, UNUSED_CLIENT_TTL_SECONDS: '86400' },
  token: {
    PROTECTED_RESOURCES: undefined,
    SIGNING_ALGORITHM: 'RS256',
    CIMD_ENABLED: 'true',
    ACCESS_TOKEN_TTL_SECONDS: '600',
    REFRESH_TOKEN_TTL_SECONDS: String(30 * 86400),
    REFRESH_TOKEN_IDLE_TTL_SECONDS: String(7 * 86400),
  },
  authorize: {
    PROTECTED_RESOURCES: undefined,
    CIMD_ENABLED: 'true',
    CONSENT_TTL_SECONDS: String(30 * 86400),
    SIGN_IN_SESSION_TTL_SECONDS: '3600',
    // Unset, the upstream client is public (PKCE only).
    UPSTREAM_CLIENT_SECRET_ARN: undefined,
    UPSTREAM_SCOPES: 'openid email profile',
  },
  // Either TRUSTED_JWKS or JWKS_URI suffices (the deployment sets JWKS_URI; tests pin TRUSTED_JWKS).
  authorizer: { PROTECTED_RESOURCES: undefined, SIGNING_ALGORITHM: 'RS256', JWKS_URI: undefined },
};

/** Set by the construct but not read: the authorizer's key ARNs only make a key rotation change its configuration. */
const SET_NOT_READ: Partial<Record<AuthorizationServerFunction, readonly string[]>> = { authorizer: ['SIGNING_KEY_ARN'] };

/** A loaded configuration as plain data: functions (the authorizer's scope satisfiers) are left out. */
const data = (value: unknown) => JSON.parse(JSON.stringify(value, (_key, item) => (item instanceof Map ? [...item] : typeof item === 'function' ? undefined : item)));

describe.each(AUTHORIZATION_SERVER_FUNCTIONS.map((name) => [name]))('the %s function', (name) => {
  const spec: FunctionEnvironmentSpec = FUNCTION_ENVIRONMENTS[name];
  const load = FUNCTION_LOADERS[name];
  const without = (variable: string) => {
    const { [variable]: _dropped, ...rest } = everyVariable();
    return rest;
  };

  test('its loader reads no variable outside its spec', () => {
    const { proxy, read } = recording(everyVariable());
    load(proxy);
    const allowed = new Set([...spec.required, ...spec.optional]);
    expect([...read].filter((variable) => !allowed.has(variable))).toEqual([]);
    // The recording sees what is read: the functions read their variables from this object.
    expect(read.has('ISSUER')).toBe(true);
    expect(EVERY_VARIABLE.length).toBeGreaterThan(allowed.size);
    for (const variable of SET_NOT_READ[name] ?? []) expect(read.has(variable)).toBe(false);
  });

  test('every required variable it cannot default fails the init with its name', () => {
    for (const variable of spec.required.filter((required) => !(required in DEFAULTED[name]) && !SET_NOT_READ[name]?.includes(required))) {
      expect(() => load(without(variable))).toThrow(`Missing required environment variable ${variable}`);
    }
  });

  test('a required variable it defaults loads exactly as its default does', () => {
    for (const [variable, fallback] of Object.entries(DEFAULTED[name])) {
      expect(spec.required).toContain(variable);
      const unset = data(load(without(variable)));
      if (fallback !== undefined) expect(unset).toEqual(data(load({ ...everyVariable(), [variable]: fallback })));
      else expect(() => load(without(variable))).not.toThrow();
    }
  });
});

test('the reader refuses, at compile time, a variable the function is not given', () => {
  const token = environmentOf('token', everyVariable());
  const authorizer = environmentOf('authorizer', everyVariable());
  // @ts-expect-error -- the token function is given no upstream provider
  void token.UPSTREAM_ISSUER;
  // @ts-expect-error -- the authorizer is given no table
  void authorizer.CLIENTS_TABLE;
  expect(token.ACCESS_TOKEN_TTL_SECONDS).toBe('900');
});
