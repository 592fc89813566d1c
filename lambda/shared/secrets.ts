import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A client secret held in Secrets Manager (the upstream client's, a machine client's), or undefined for a public client. */
export type SecretSource = (signal: AbortSignal) => Promise<string | undefined>;

/** A secret is re-read after this long, so a rotation reaches warm containers (INFRA-08: never an env var). */
const SECRET_CACHE_MS = 10 * 60 * 1000;

/**
 * Reads a client secret from Secrets Manager by ARN (or name) at run time and caches it per container. The
 * secret string is the client secret itself. A failed read is not cached.
 */
export function secretsManagerSecret(client: SecretsManagerClient, secretId: string, now: () => number = Date.now): SecretSource {
  let cached: { value: Promise<string>; until: number } | undefined;
  return (signal) => {
    if (cached && cached.until > now()) return cached.value;
    const value = client.send(new GetSecretValueCommand({ SecretId: secretId }), { abortSignal: signal }).then((output) => {
      if (!output.SecretString) throw new Error('The client secret has no SecretString');
      return output.SecretString;
    });
    const entry = { value, until: now() + SECRET_CACHE_MS };
    cached = entry;
    value.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return value;
  };
}

/** No secret: the upstream client is public. */
export const noSecret: SecretSource = async () => undefined;
