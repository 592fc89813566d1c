import type { AuthorizationServerFunction } from '../../lib/functions';
import { loadAuthorizeConfig } from '../../lambda/authorize/config';
import { loadAuthorizerConfig } from '../../lambda/authorizer/config';
import { loadMetadataConfig } from '../../lambda/metadata/config';
import { loadRegisterConfig } from '../../lambda/register/config';
import type { Environment } from '../../lib/environment-reader';
import { loadTokenConfig } from '../../lambda/token/config';

/** Each function's loader, as its lambda/<name>/index.ts calls it at init. */
export const FUNCTION_LOADERS = {
  metadata: loadMetadataConfig,
  register: loadRegisterConfig,
  token: loadTokenConfig,
  authorize: loadAuthorizeConfig,
  authorizer: (env: Environment) => loadAuthorizerConfig(env),
} as const satisfies Record<AuthorizationServerFunction, (env: Environment) => unknown>;

/** The typed configuration function `F` loads. */
export type FunctionConfig<F extends AuthorizationServerFunction> = ReturnType<(typeof FUNCTION_LOADERS)[F]>;

export function loadFunctionConfig<F extends AuthorizationServerFunction>(name: F, env: Environment): FunctionConfig<F> {
  return FUNCTION_LOADERS[name](env) as FunctionConfig<F>;
}
