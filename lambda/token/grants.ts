import { formatScopes, knownScopeNames, OFFLINE_ACCESS, parseScopeParameter } from '../../lib/scopes';
import { mintAccessToken, AccessTokenClaims } from '../shared/access-token';
import type { Audit } from '../shared/audit';
import {
  type AuthenticatedClient,
  authenticateClient,
  isConfidential,
  machineClientFor,
  machineClientRecord,
  PresentedClient,
  presentedClient,
  storedClientId,
  tokenEndpointClient,
  unauthorizedClient,
} from '../shared/client-auth';
import type { MachineClientConfig } from '../../lib/machine-clients';
import type { Clock } from '../shared/clock';
import { serverFor, type AuthServerConfig } from '../shared/config';
import { randomToken, sha256 } from '../shared/crypto';
import type { FormParameters } from '../shared/http';
import { invalidGrant, invalidRequest, invalidScope, invalidTarget, OAuthError, TemporarilyUnavailableError } from '../shared/oauth-error';
import { isPkceValue, s256Challenge } from '../shared/pkce';
import type { JwtSigner } from '../shared/signer';
import { ClientRecord, CodeRecord, GrantRecord, grantIdForCode, grantState, MAX_CODE_FAILURES, RETIRED_HASHES_KEPT, Stores } from '../shared/stores';

export interface TokenDeps {
  readonly config: AuthServerConfig;
  readonly stores: Stores;
  readonly signer: JwtSigner;
  readonly clock: Clock;
  readonly audit: Audit;
  /** Reads a machine client's secret (Secrets Manager, cached per container); needed only when machine clients exist. */
  readonly machineSecret?: (client: MachineClientConfig) => Promise<string>;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  refresh_token?: string;
}

/** Our codes and refresh-token secrets are 43 characters; anything far longer is not ours (CODE-07). */
const MAX_CODE_LENGTH = 256;
const B64URL_43 = /^[A-Za-z0-9_-]{43}$/;

/** Refresh tokens are `<grant id>.<256 random bits>`: opaque to clients, stored only as a hash. */
function newRefreshToken(grantId: string): string {
  return `${grantId}.${randomToken(32)}`;
}

function parseRefreshToken(token: string): { grantId: string } | undefined {
  const [grantId, secret, ...rest] = token.split('.');
  if (rest.length > 0 || !B64URL_43.test(grantId ?? '') || !B64URL_43.test(secret ?? '')) return undefined;
  return { grantId };
}

/**
 * RFC 8707 for a code or refresh token: it is bound to the resource it was issued for, so `resource` may
 * be absent or name exactly that resource; another server's is invalid_target (MRS-02, MRS-04).
 */
function checkResource(form: FormParameters, expected: string): void {
  const resource = form.get('resource');
  if (resource !== undefined && resource !== expected) throw invalidTarget('unknown_resource');
}

function issuedAudit(claims: AccessTokenClaims, grantId: string | undefined) {
  return {
    client_id: claims.client_id,
    sub: claims.sub,
    grant_id: grantId,
    jti_hash: sha256(claims.jti).slice(0, 22),
    aud: claims.aud,
    scope: claims.scope,
    exp: claims.exp,
  };
}

function respond(claims: AccessTokenClaims, token: string, refreshToken?: string): TokenResponse {
  return {
    access_token: token,
    token_type: 'Bearer',
    expires_in: claims.exp - claims.iat,
    scope: claims.scope,
    ...(refreshToken ? { refresh_token: refreshToken } : {}),
  };
}

/** `offline_access` asks for a refresh token; it means nothing to the resource server, so tokens omit it. */
const accessTokenScope = (scope: string) => scope.split(' ').filter((s) => s && s !== OFFLINE_ACCESS).join(' ');

/**
 * AS-15: every client that registered the `refresh_token` grant gets a refresh token, whether or not
 * it asked for `offline_access`: MCP clients that never ask (the AI SDK, the 1.x SDK) would otherwise
 * send their users back to sign in whenever a token expires. A refresh can never widen the grant: a
 * client that asks for more scope on refresh gets invalid_scope and re-authorizes (step-up). A
 * metadata-document client is known here only through its code, which carries the grants its document
 * listed (REV-12); codes issued before that field existed keep the old rule.
 */
const mayRefresh = (client: ClientRecord, code?: CodeRecord) => (code?.clientGrantTypes ?? client.metadata.grant_types).includes('refresh_token');

/**
 * A client that POSTs the same code twice within this many seconds (ChatGPT does, on a slow first
 * response) is retrying, not replaying: the second request fails without revoking the grant the first
 * one created. Later, a valid redemption is a replay and revokes (CODE-01). docs/SECURITY.md weighs it.
 */
export const CODE_RETRY_WINDOW_SECONDS = 5;

/**
 * The token endpoint's one read (code and/or grant with the client, a single BatchGetItem) followed by
 * client authentication. Shared by every grant, revocation and introspection.
 */
export async function readAuthenticated(
  presented: PresentedClient,
  lookup: { codeHash?: string; grantId?: string },
  deps: Pick<TokenDeps, 'stores' | 'config' | 'machineSecret'>,
  now: number,
): Promise<{ client: AuthenticatedClient; code?: CodeRecord; grant?: GrantRecord }> {
  const machine = machineClientFor(presented, deps.config.machineClients);
  // A machine client's secret is read alongside the table, so it adds no round trip.
  const [read, machineSecret] = await Promise.all([
    deps.stores.readForToken({ ...lookup, clientId: storedClientId(presented) }, now),
    machine ? readMachineSecret(machine, deps) : undefined,
  ]);
  const candidate = machine ? machineClientRecord(machine, presented, machineSecret!) : tokenEndpointClient(presented, read.client, deps.config.cimdEnabled);
  const client = authenticateClient(presented, candidate);
  return { client, code: read.code, grant: read.grant };
}

async function readMachineSecret(machine: MachineClientConfig, deps: Pick<TokenDeps, 'machineSecret'>): Promise<string> {
  if (!deps.machineSecret) throw new Error('machine clients are configured without a secret reader');
  try {
    return await deps.machineSecret(machine);
  } catch (error) {
    throw new TemporarilyUnavailableError('secretsmanager', error instanceof Error ? error.name : 'unknown');
  }
}

/** One access token for this deployment: our issuer, the configured lifetime, one KMS Sign. */
function mint(deps: TokenDeps, now: number, subject: { resource: string; sub: string; clientId: string; scope: string; username?: string; machine?: boolean }) {
  return mintAccessToken(deps.signer, { ...subject, issuer: deps.config.issuer, now, lifetime: deps.config.lifetimes.accessToken });
}

export async function exchangeToken(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const grantType = form.get('grant_type');
  switch (grantType) {
    case undefined:
      throw invalidRequest('grant_type_missing', 'grant_type is required.');
    case 'authorization_code':
      return redeemCode(form, authorization, deps);
    case 'refresh_token':
      return refresh(form, authorization, deps);
    case 'client_credentials':
      return clientCredentials(form, authorization, deps);
    default:
      throw new OAuthError(400, 'unsupported_grant_type', 'unsupported_grant_type', 'The grant type is not supported.');
  }
}

/** authorization_code: one BatchGetItem (code, client, any earlier grant), one KMS Sign, one conditional Put. */
async function redeemCode(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const { config, stores, clock, audit } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const code = form.get('code');
  if (code === undefined) throw invalidRequest('code_missing', 'code is required.');
  const codeHash = sha256(code.length > MAX_CODE_LENGTH ? code.slice(0, MAX_CODE_LENGTH) : code);
  const grantId = grantIdForCode(codeHash);
  const { code: record, client, grant: earlier } = await readAuthenticated(presented, { codeHash, grantId }, deps, now);
  if (!client.metadata.grant_types.includes('authorization_code')) throw unauthorizedClient('grant_not_registered');

  if (!record || code.length > MAX_CODE_LENGTH) throw invalidGrant('code_unknown');
  if (record.expiresAt <= now) throw invalidGrant('code_expired');
  if (record.failures >= MAX_CODE_FAILURES) throw invalidGrant('code_burned');
  if (record.clientId !== client.clientId) throw invalidGrant('client_mismatch');

  // Failed bindings do not consume the code (OAuth 2.1 §7.5.2) but count towards burning it.
  const bindingFailure = async (reason: string) => {
    await stores.recordCodeFailure(codeHash);
    return invalidGrant(reason);
  };
  if (form.get('redirect_uri') !== record.redirectUri) throw await bindingFailure('redirect_mismatch');
  const verifier = form.get('code_verifier');
  if (verifier === undefined) throw await bindingFailure('pkce_missing');
  if (!isPkceValue(verifier)) throw await bindingFailure('pkce_malformed');
  if (s256Challenge(verifier) !== record.codeChallenge) throw await bindingFailure('pkce_mismatch');
  checkResource(form, record.resource);

  // Every binding holds, yet the code was already redeemed: the same client, with the same verifier.
  // Moments later it is a retry and the first grant stands; after that, a replay that revokes it.
  if (earlier && now - earlier.createdAt < CODE_RETRY_WINDOW_SECONDS) throw invalidGrant('code_retried');
  if (earlier) {
    await stores.revokeGrant(grantId, 'code_replay', now);
    audit('security.code_replay', { client_id: client.clientId, sub: record.sub, grant_id: grantId, severity: 'HIGH' });
    throw invalidGrant('code_replay');
  }

  // Sign first, then commit: a KMS failure leaves the code redeemable (FAULT-03).
  const { token, claims } = await mint(deps, now, {
    resource: record.resource,
    sub: record.sub,
    clientId: client.clientId,
    scope: accessTokenScope(record.scope),
    username: record.username,
  });
  const refreshToken = mayRefresh(client, record) ? newRefreshToken(grantId) : undefined;
  const created = await stores.createGrant({
    grantId,
    clientId: client.clientId,
    sub: record.sub,
    username: record.username,
    scope: record.scope,
    resource: record.resource,
    createdAt: now,
    expiresAt: now + (refreshToken ? config.lifetimes.refreshToken : config.lifetimes.accessToken),
    ...(refreshToken
      ? { currentHash: sha256(refreshToken), idleExpiresAt: now + config.lifetimes.refreshTokenIdle, rotatedAt: now, retiredHashes: [] }
      : {}),
  });
  if (created === 'exists') {
    // A parallel redemption won the race (CODE-02) just now: a retry, so it fails and the winner's grant stands.
    throw invalidGrant('code_retried');
  }
  audit('token.issued', { ...issuedAudit(claims, grantId), grant_type: 'authorization_code', refresh: refreshToken !== undefined });
  return respond(claims, token, refreshToken);
}

/** Narrows the scope of one access token; the grant (and the new refresh token) keep the original (RT-05). */
function narrowedScope(form: FormParameters, granted: string): string {
  const raw = form.get('scope');
  if (raw === undefined) return granted;
  const requested = parseScopeParameter(raw);
  const held = new Set(granted.split(' ').filter(Boolean));
  if (!requested || requested.some((scope) => !held.has(scope))) throw invalidScope('scope_wider_than_grant');
  return formatScopes(requested);
}

type RefreshPresentation = 'current' | 'grace' | 'reused' | 'unknown';

function classify(grant: GrantRecord, hash: string, now: number, graceSeconds: number): RefreshPresentation {
  if (grant.currentHash !== undefined && hash === grant.currentHash) return 'current';
  if (hash === grant.previousHash && grant.rotatedAt !== undefined && now - grant.rotatedAt < graceSeconds) return 'grace';
  if (hash === grant.previousHash || (grant.retiredHashes ?? []).includes(hash)) return 'reused';
  return 'unknown';
}

/**
 * refresh_token: one BatchGetItem (grant, client), one KMS Sign, one conditional Update.
 * Rotation on every use. Grace window (docs/SECURITY.md section 2.1, RT-09): for `refreshGrace` seconds after
 * a rotation, the previous token may be presented again (a response lost in transit); that rotates
 * once more and supersedes the token the lost response carried. Any other retired token is reuse and
 * revokes the family (RT-02). A family never has more than one current token.
 */
async function refresh(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const { config, stores, clock, audit } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const refreshToken = form.get('refresh_token');
  if (refreshToken === undefined) throw invalidRequest('refresh_token_missing', 'refresh_token is required.');
  const parsed = parseRefreshToken(refreshToken);
  const read = await readAuthenticated(presented, { grantId: parsed?.grantId }, deps, now);
  const client = read.client;
  if (!mayRefresh(client)) throw unauthorizedClient('grant_not_registered');
  let grant = read.grant;
  if (!parsed || !grant) throw invalidGrant('refresh_unknown');
  if (grant.clientId !== client.clientId) throw invalidGrant('client_mismatch');
  const hash = sha256(refreshToken);

  let signed: { token: string; claims: AccessTokenClaims } | undefined;
  // A lost rotation race is retried once with the winner's state (then it is a grace presentation).
  for (let attempt = 0; attempt < 2; attempt++) {
    const state = grantState(grant, now);
    if (state === 'revoked') throw invalidGrant('grant_revoked');
    if (state === 'expired') throw invalidGrant('refresh_expired');
    const presentation = classify(grant, hash, now, config.lifetimes.refreshGrace);
    if (presentation === 'unknown') throw invalidGrant('refresh_unknown');
    // A request that lost a rotation race to a parallel one (same token, same moment) and then finds
    // its token superseded is refused without revoking: a refresh storm is not theft (RT-03). Its
    // token still succeeds at most once in all (REV-06).
    if (presentation === 'reused' && attempt > 0) throw invalidGrant('refresh_race');
    if (presentation === 'reused') {
      await stores.revokeGrant(grant.grantId, 'refresh_reuse', now);
      audit('security.refresh_reuse', { client_id: client.clientId, sub: grant.sub, grant_id: grant.grantId, severity: 'HIGH' });
      throw invalidGrant('refresh_reuse');
    }
    checkResource(form, grant.resource);
    const scope = narrowedScope(form, grant.scope);
    signed ??= await mint(deps, now, {
      resource: grant.resource,
      sub: grant.sub,
      clientId: client.clientId,
      scope: accessTokenScope(scope),
      username: grant.username,
    });
    const next = newRefreshToken(grant.grantId);
    const retire = presentation === 'current' ? hash : grant.currentHash!;
    const rotated = await stores.rotateRefreshToken(grant, {
      currentHash: sha256(next),
      // The grace window admits the previous token once (REV-06): after that retry it is only a
      // retired hash, so presenting it again is reuse and revokes the family.
      previousHash: presentation === 'current' ? hash : undefined,
      retiredHashes: [...(grant.retiredHashes ?? []), retire].slice(-RETIRED_HASHES_KEPT),
      rotatedAt: presentation === 'current' ? now : grant.rotatedAt!,
      idleExpiresAt: Math.min(now + config.lifetimes.refreshTokenIdle, grant.expiresAt),
    });
    if (rotated === 'written') {
      audit('token.refreshed', { ...issuedAudit(signed.claims, grant.grantId), grace: presentation === 'grace' });
      return respond(signed.claims, signed.token, next);
    }
    const latest = await stores.getGrant(grant.grantId);
    if (!latest) throw invalidGrant('refresh_unknown');
    grant = latest;
  }
  throw invalidGrant('refresh_race');
}

/**
 * client_credentials: only the operator's machine clients (REV-01), never a registered client, whatever
 * its stored metadata says (records written before open registration refused the grant included).
 * Scopes are limited to the operator's ceiling for that client.
 */
async function clientCredentials(form: FormParameters, authorization: string | undefined, deps: TokenDeps): Promise<TokenResponse> {
  const { config, clock, audit } = deps;
  const now = clock();
  const presented = presentedClient(form, authorization);
  const { client } = await readAuthenticated(presented, {}, deps, now);
  if (!client.machine) throw unauthorizedClient(isConfidential(client) ? 'not_machine_client' : 'public_client_credentials');
  // No code binds a resource here: the request names one of the servers, or means the default (MRS-06).
  const server = serverFor(config.servers, form.get('resource'));
  if (!server) throw invalidTarget(form.get('resource') !== undefined ? 'unknown_resource' : 'resource_required');
  // The ceiling applies per server: only the scopes this server's model declares (MRS-09).
  const known = knownScopeNames(server.scopeModel);
  const allowed = client.machine.scopes.filter((scope) => known.includes(scope));
  const raw = form.get('scope');
  const requested = raw === undefined ? allowed : parseScopeParameter(raw);
  if (!requested || requested.length === 0 || requested.some((scope) => !allowed.includes(scope))) {
    throw invalidScope('scope_not_allowed');
  }
  const { token, claims } = await mint(deps, now, { resource: server.resource, sub: client.clientId, clientId: client.clientId, scope: formatScopes(requested), machine: true });
  audit('token.issued', { ...issuedAudit(claims, undefined), grant_type: 'client_credentials' });
  return respond(claims, token);
}

export { parseRefreshToken };
