import { generateKeyPairSync } from 'node:crypto';
import { AUTHORIZER_ENV, ENV, GUARD_ENV } from '../../lib/environment';
import { DEFAULT_SCOPE_MODEL } from '../../lib/scopes';

/** Every variable name of the contract (lib/environment.ts): the construct's, the authorizer's and the guard's. */
export const EVERY_VARIABLE: readonly string[] = [...Object.values(ENV), ...Object.values(AUTHORIZER_ENV), ...Object.values(GUARD_ENV)];

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });

/**
 * A valid value for every variable of lib/environment.ts, so any function's loader succeeds on it: the
 * environment a loader runs over to show which variables it reads.
 */
export function everyVariable(): Record<string, string> {
  const values: Record<string, string> = {
    [ENV.issuer]: 'https://mcp.example.com/prod',
    [ENV.scopeModel]: JSON.stringify(DEFAULT_SCOPE_MODEL),
    [ENV.protectedResources]: JSON.stringify({ servers: [{ path: '/mcp', scopeModel: DEFAULT_SCOPE_MODEL, authorizerCacheTtlSeconds: 0 }], challenges: 'gateway' }),
    [ENV.clientsTable]: 'clients',
    [ENV.codesTable]: 'codes',
    [ENV.grantsTable]: 'grants',
    [ENV.pendingTable]: 'pending',
    [ENV.consentsTable]: 'consents',
    [ENV.signingKeyArn]: 'arn:aws:kms:us-east-1:000000000000:key/signing',
    [ENV.signingAlgorithm]: 'RS256',
    [ENV.previousSigningKeyArns]: 'arn:aws:kms:us-east-1:000000000000:key/previous',
    [ENV.accessTokenTtl]: '900',
    [ENV.refreshTokenTtl]: '86400',
    [ENV.refreshTokenIdleTtl]: '3600',
    [ENV.refreshGrace]: '10',
    [ENV.unusedClientTtl]: '7200',
    [ENV.maxRegistrationsPerDay]: '1000',
    [ENV.allowedRedirectHosts]: 'claude.ai',
    [ENV.extraRedirectSchemes]: 'cursor',
    [ENV.cimdEnabled]: 'false',
    [ENV.machineClients]: JSON.stringify([{ clientId: 'machine.batch', secretId: 'mcp/batch', scopes: ['mcp:tools'], introspection: false }]),
    [ENV.upstreamIssuer]: 'https://idp.example.com',
    [ENV.upstreamClientId]: 'client',
    [ENV.upstreamClientSecretArn]: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:upstream-AbCdEf',
    [ENV.upstreamScopes]: 'openid email',
    [ENV.upstreamTimeout]: '5',
    [ENV.consentTtl]: '600',
    [ENV.signInSessionTtl]: '1800',
    [AUTHORIZER_ENV.trustedJwks]: JSON.stringify({ keys: [{ ...signingKey, kid: 'test', alg: 'RS256', use: 'sig' }] }),
    [AUTHORIZER_ENV.jwksUri]: 'https://mcp.example.com/prod/jwks.json',
    [AUTHORIZER_ENV.cacheTtl]: '0',
    [AUTHORIZER_ENV.clockTolerance]: '30',
    [GUARD_ENV.allowedOrigins]: 'https://app.example',
    [GUARD_ENV.resourcePath]: '/mcp',
  };
  const missing = EVERY_VARIABLE.filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new Error(`test/support/environment.ts has no value for ${missing.join(', ')}`);
  return values;
}
