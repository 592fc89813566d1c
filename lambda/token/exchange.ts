import type { Audit } from '../shared/audit';
import type { MachineClientConfig } from '../../lib/machine-clients';
import type { Clock } from '../shared/clock';
import type { TokenConfig } from './config';
import type { FormParameters } from '../shared/http';
import { invalidRequest, OAuthError } from '../shared/oauth-error';
import type { JwtSigner } from '../shared/signer';
import type { CodeStore } from '../shared/code-store';
import type { GrantStore } from '../shared/grant-store';
import type { TokenRecordReader } from './token-records';
import { redeemCode } from './grants/authorization-code';
import { refresh } from './grants/refresh-token';
import { clientCredentials } from './grants/client-credentials';

/** POST /token: the grant types this authorization server supports, and what each one needs. */

/** What the token endpoint reads and writes: one BatchGetItem across the tables, then one write to a store. */
export interface TokenStores {
  readonly records: Pick<TokenRecordReader, 'read'>;
  readonly codes: Pick<CodeStore, 'recordFailure'>;
  readonly grants: Pick<GrantStore, 'create' | 'get' | 'rotateRefreshToken' | 'revoke'>;
}

export interface TokenDeps {
  readonly config: TokenConfig;
  readonly stores: TokenStores;
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
