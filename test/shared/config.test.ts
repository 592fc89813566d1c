import { parseMachineClients, parseScopeModel } from '../../lambda/shared/config';
import { loadTokenConfig } from '../../lambda/token/config';
import { AUTHORIZATION_SERVER_FUNCTIONS, functionEnvironment } from '../../lib/functions';
import { DEFAULT_SCOPE_MODEL, entitledScopes, knownScopeNames, expandScopes, parseScopeParameter, requiredScopesFor, satisfiesScopes } from '../../lib/scopes';
import { everyVariable } from '../support/environment';
import { loadFunctionConfig } from '../support/loaders';

/** The functions that serve HTTP routes: each one's configuration holds the issuer and the MCP servers. */
const SERVING = ['metadata', 'register', 'token', 'authorize'] as const;

/** Function `name`'s variables of a complete environment, with `overrides`. */
const environmentFor = (name: (typeof AUTHORIZATION_SERVER_FUNCTIONS)[number], overrides: Record<string, string> = {}) => ({ ...functionEnvironment(name, everyVariable()), ...overrides });

describe('configuration', () => {
  test('AS-9 the issuer must be https, except http on loopback for local development', () => {
    for (const name of SERVING) {
      // Without PROTECTED_RESOURCES: the one server at /mcp of the 0.2 configuration.
      const load = (issuer: string) => {
        const { PROTECTED_RESOURCES: _servers, ...env } = environmentFor(name, { ISSUER: issuer });
        return loadFunctionConfig(name, env);
      };
      expect(() => load('http://mcp.example.com/prod')).toThrow(/must use https/);
      expect(() => load('https://mcp.example.com/prod/')).toThrow(/no trailing slash/);
      expect(() => load('not a url')).toThrow(/absolute URL/);
      expect(load('http://127.0.0.1:4000/prod').servers.defaultServer?.resource).toBe('http://127.0.0.1:4000/prod/mcp');
      expect(load('https://mcp.example.com/prod').servers.defaultServer?.metadataUrl).toBe(
        'https://mcp.example.com/prod/.well-known/oauth-protected-resource/mcp',
      );
    }
  });

  test('a missing issuer and out-of-range lifetimes fail fast with what was received', () => {
    for (const name of AUTHORIZATION_SERVER_FUNCTIONS) expect(() => loadFunctionConfig(name, {})).toThrow('Missing required environment variable ISSUER');
    expect(() => loadTokenConfig(environmentFor('token', { ACCESS_TOKEN_TTL_SECONDS: '7200' }))).toThrow(/between 5 and 1800, got "7200"/);
    for (const name of ['metadata', 'token', 'authorizer'] as const) {
      expect(() => loadFunctionConfig(name, environmentFor(name, { SIGNING_ALGORITHM: 'HS256' }))).toThrow(/RS256 or ES256, got HS256/);
    }
  });

  test('an inconsistent scope model is refused with every problem named', () => {
    const broken = JSON.stringify({ scopes: [{ name: 'a b', description: '' }], toolScopes: { t: ['missing'] }, entitlements: [] });
    expect(() => parseScopeModel(broken)).toThrow(/not a valid OAuth scope token.*undeclared scope missing.*isDefault/);
  });
});

describe('scope model', () => {
  test('RS-8 a broader scope implies the narrower ones', () => {
    expect(expandScopes(DEFAULT_SCOPE_MODEL, ['mcp:admin'])).toEqual(new Set(['mcp:admin', 'mcp:tools']));
    expect(satisfiesScopes(DEFAULT_SCOPE_MODEL, ['mcp:admin'], requiredScopesFor(DEFAULT_SCOPE_MODEL, 'tools/call', 'echo'))).toBe(true);
    expect(satisfiesScopes(DEFAULT_SCOPE_MODEL, ['mcp:tools'], requiredScopesFor(DEFAULT_SCOPE_MODEL, 'tools/call', 'admin_stats'))).toBe(false);
  });

  test('entitlements restrict a scope to users whose claims grant it', () => {
    expect(entitledScopes(DEFAULT_SCOPE_MODEL, { groups: ['admins'] })).toContain('mcp:admin');
    expect(entitledScopes(DEFAULT_SCOPE_MODEL, { groups: ['users'] })).not.toContain('mcp:admin');
    expect(entitledScopes(DEFAULT_SCOPE_MODEL, {})).toContain('mcp:tools');
  });

  test('AZR-15 scope parsing is order-insensitive, tolerates spaces and refuses the grammar\'s exclusions', () => {
    expect(parseScopeParameter('  mcp:admin   mcp:tools ')).toEqual(['mcp:admin', 'mcp:tools']);
    for (const bad of ['a"b', 'a\\b', 'a\u0001b', 'caf\u00e9']) expect(parseScopeParameter(bad)).toBeUndefined();
  });
});

describe('REV-02 MACHINE_CLIENTS fails fast on anything but what the construct writes', () => {
  const model = knownScopeNames(parseScopeModel(undefined));
  const entry = { clientId: 'machine.batch', secretId: 'mcp/batch', scopes: ['mcp:tools'], introspection: false };

  test('REV-02 the construct\'s list is read as written; absent means no machine client', () => {
    expect(parseMachineClients(undefined, model)).toEqual([]);
    expect(parseMachineClients(JSON.stringify([entry]), model)).toEqual([entry]);
  });

  test.each([
    ['not JSON', '{', /not JSON/],
    ['not a list', '{}', /not a JSON array/],
    ['a registered-looking id', JSON.stringify([{ ...entry, clientId: 'AbCdEfGhIjKlMnOpQrStUv' }]), /clientId "AbCdEfGhIjKlMnOpQrStUv"/],
    ['an invalid name', JSON.stringify([{ ...entry, clientId: 'machine.Batch Job' }]), /clientId "machine.Batch Job"/],
    ['a duplicate', JSON.stringify([entry, entry]), /duplicate clientId machine.batch/],
    ['no secret', JSON.stringify([{ ...entry, secretId: '' }]), /secretId of machine.batch/],
    ['no scope', JSON.stringify([{ ...entry, scopes: [] }]), /needs at least one scope/],
    ['offline_access', JSON.stringify([{ ...entry, scopes: ['offline_access'] }]), /got "offline_access"/],
  ])('REV-02 %s is refused', (_, raw, message) => {
    expect(() => parseMachineClients(raw, model)).toThrow(message);
  });
});
