import { createHmac, generateKeyPairSync, sign, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { loadAuthorizerRoutes, type AuthorizerConfig, type AuthorizerRoutes } from '../../lambda/authorizer/config';
import { keysFromJwks, pinKeys, type VerificationKeys } from '../../lambda/shared/verification-keys';

/**
 * Test keys and tokens in exactly the format the token endpoint issues (RFC 9068, see the brief):
 * header {alg, typ: at+jwt, kid}; payload {iss, sub, aud, client_id, scope, iat, exp, jti}.
 */

export const ISSUER = 'https://abc123.execute-api.eu-west-1.amazonaws.com/prod';
export const RESOURCE = `${ISSUER}/mcp`;
export const PRM_URL = `${ISSUER}/.well-known/oauth-protected-resource/mcp`;
export const METHOD_ARN = 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/POST/mcp';
/** A fixed "now" for the authorizer clock. */
export const NOW = 1_800_000_000;

export type Algorithm = 'RS256' | 'ES256';

export interface TestKey {
  readonly kid: string;
  readonly alg: Algorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JsonWebKey;
}

export function makeKey(alg: Algorithm, kid: string): TestKey {
  const { privateKey, publicKey } =
    alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { kid, alg, privateKey, publicKey, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}

const cache = new Map<string, TestKey>();
/** Keys are slow to generate; each test file shares one per (alg, kid). */
export function testKey(alg: Algorithm, kid = `${alg.toLowerCase()}-1`): TestKey {
  const id = `${alg}:${kid}`;
  if (!cache.has(id)) cache.set(id, makeKey(alg, kid));
  return cache.get(id)!;
}

export const b64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function signWith(key: { alg: Algorithm; privateKey: KeyObject }, signingInput: string): string {
  const data = Buffer.from(signingInput);
  const signature =
    key.alg === 'RS256' ? sign('sha256', data, key.privateKey) : sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  return signature.toString('base64url');
}

export function hs256(secret: Buffer | string, signingInput: string): string {
  return createHmac('sha256', secret).update(signingInput).digest('base64url');
}

export function accessTokenClaims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: 'user-123',
    aud: RESOURCE,
    client_id: 'client-abc',
    scope: 'mcp:tools',
    iat: NOW - 10,
    exp: NOW + 590,
    jti: 'jti-0001',
    ...overrides,
  };
}

export interface MintOptions {
  /** Members merged into the default header; `undefined` values remove a member. */
  readonly header?: Record<string, unknown>;
  /** Claims merged into the default payload; `undefined` values remove a claim. */
  readonly claims?: Record<string, unknown>;
  /** Raw JSON text instead of the serialized header or payload (duplicate members, arrays, non-JSON). */
  readonly rawHeader?: string;
  readonly rawPayload?: string;
}

function withoutUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, member]) => member !== undefined));
}

export function signingInputFor(key: TestKey, options: MintOptions = {}): string {
  const header = options.rawHeader ?? JSON.stringify(withoutUndefined({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...options.header }));
  const payload = options.rawPayload ?? JSON.stringify(withoutUndefined(accessTokenClaims(options.claims)));
  return `${b64url(header)}.${b64url(payload)}`;
}

/** A token signed by `key` (RS256 or ES256 as the key dictates), optionally with a forged header or payload. */
export function mint(key: TestKey, options: MintOptions = {}): string {
  const input = signingInputFor(key, options);
  return `${input}.${signWith(key, input)}`;
}

export function jwksOf(...keys: TestKey[]): { keys: JsonWebKey[] } {
  return { keys: keys.map((key) => key.jwk) };
}

export function verificationKeys(alg: Algorithm, ...keys: TestKey[]): VerificationKeys {
  return pinKeys(alg, keysFromJwks(jwksOf(...keys), alg));
}

export function authorizerConfig(env: Record<string, string> = {}): AuthorizerConfig {
  return authorizerRoutes(env).get('/mcp')!;
}

/** The routes the authorizer handler takes: one server at /mcp, configured as the construct would. */
export function authorizerRoutes(env: Record<string, string> = {}): AuthorizerRoutes {
  return loadAuthorizerRoutes({ ISSUER, ...env });
}

export interface EventOptions {
  readonly authorization?: string | string[];
  readonly headers?: Record<string, string | string[]>;
  readonly query?: Record<string, string>;
  readonly methodArn?: string;
  readonly requestId?: string;
}

/** A REST API REQUEST-authorizer event as API Gateway sends it for POST /mcp. */
export function authorizerEvent(options: EventOptions = {}): APIGatewayRequestAuthorizerEvent {
  const multiValueHeaders: Record<string, string[]> = { Host: ['abc123.execute-api.eu-west-1.amazonaws.com'], 'Content-Type': ['application/json'] };
  if (options.authorization !== undefined) {
    multiValueHeaders.Authorization = Array.isArray(options.authorization) ? options.authorization : [options.authorization];
  }
  for (const [name, value] of Object.entries(options.headers ?? {})) multiValueHeaders[name] = Array.isArray(value) ? value : [value];
  const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([name, values]) => [name, values[values.length - 1]]));
  return {
    type: 'REQUEST',
    methodArn: options.methodArn ?? METHOD_ARN,
    resource: '/mcp',
    path: '/mcp',
    httpMethod: 'POST',
    headers,
    multiValueHeaders,
    pathParameters: null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: options.query ? Object.fromEntries(Object.entries(options.query).map(([k, v]) => [k, [v]])) : null,
    stageVariables: null,
    requestContext: {
      requestId: options.requestId ?? 'req-1',
      identity: { sourceIp: '203.0.113.7', userAgent: 'test-client/1.0' },
    } as APIGatewayRequestAuthorizerEvent['requestContext'],
  };
}

/** An audit sink that keeps every line, parsed. */
export function captureAudit(): { sink: (line: string) => void; lines: string[]; events: () => Record<string, unknown>[] } {
  const lines: string[] = [];
  return { sink: (line) => lines.push(line), lines, events: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}
