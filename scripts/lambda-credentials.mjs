// Replaces @aws-sdk/credential-provider-node in the Lambda bundles (see scripts/bundle.mjs).
// Lambda always hands a function its role's credentials in environment variables (and container
// runtimes through the container credentials endpoint), so the default chain's SSO, INI, process,
// web-identity and IMDS providers — about 90 KB with their nested STS/SSO clients — never run there.
import { fromEnv } from '@aws-sdk/credential-provider-env';
import { fromHttp } from '@aws-sdk/credential-provider-http';
import { chain, memoize } from '@smithy/core/config';

export const defaultProvider = (init = {}) =>
  memoize(
    // fromHttp validates its configuration when created, so create it only if the environment has none.
    chain(fromEnv(init), () => fromHttp(init)()),
    (credentials) => credentials.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000,
    (credentials) => credentials.expiration !== undefined,
  );
