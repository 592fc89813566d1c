import { randomBytes } from 'node:crypto';
import { randomToken, sha256 } from '../../lambda/shared/crypto';
import { s256Challenge } from '../../lambda/shared/pkce';
import type { ClientRecord, ClientStore, TokenEndpointAuthMethod } from '../../lambda/shared/client-store';
import type { CodeStore } from '../../lambda/shared/code-store';
import { RESOURCE } from './harness';

export const REDIRECT = 'http://127.0.0.1:33418/callback';

export async function seedClient(
  stores: { clients: Pick<ClientStore, 'create'> },
  now: number,
  options: { method?: TokenEndpointAuthMethod; grantTypes?: string[]; scope?: string } = {},
): Promise<{ client: ClientRecord; secret?: string }> {
  const method = options.method ?? 'none';
  const secret = method === 'none' ? undefined : randomToken(32);
  const client: ClientRecord = {
    clientId: randomToken(16),
    metadata: {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: method,
      grant_types: options.grantTypes ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      client_name: 'Test client',
      ...(options.scope ? { scope: options.scope } : {}),
    },
    secretHash: secret ? sha256(secret) : undefined,
    registrationTokenHash: sha256(randomToken(32)),
    createdAt: now,
  };
  await stores.clients.create(client);
  return { client, secret };
}

/** Issues a code the way the authorize flow does (without the browser flow: the code item is written directly). */
export async function seedCode(
  stores: { codes: Pick<CodeStore, 'create'> },
  now: number,
  clientId: string,
  options: { scope?: string; sub?: string; username?: string; resource?: string; expiresIn?: number; clientGrantTypes?: string[] } = {},
) {
  const code = randomToken(32);
  const verifier = randomBytes(48).toString('base64url');
  await stores.codes.create({
    codeHash: sha256(code),
    clientId,
    redirectUri: REDIRECT,
    codeChallenge: s256Challenge(verifier),
    resource: options.resource ?? RESOURCE,
    scope: options.scope ?? 'mcp:tools offline_access',
    sub: options.sub ?? 'user-alice',
    username: options.username ?? 'alice',
    createdAt: now,
    expiresAt: now + (options.expiresIn ?? 60),
    failures: 0,
    ...(options.clientGrantTypes ? { clientGrantTypes: options.clientGrantTypes } : {}),
  });
  return { code, verifier };
}

