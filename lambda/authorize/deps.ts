import type { Audit } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthorizeConfig } from './config';
import type { Stores } from '../shared/stores';
import type { ClientLookup } from './clients';
import type { FlowStore } from './flow-store';
import type { UpstreamProvider } from './upstream';

/** Everything one request of the authorize flow works with; built per request by the handler. */
export interface AuthorizeDeps {
  readonly config: AuthorizeConfig;
  readonly stores: Pick<Stores, 'createCode' | 'markClientUsed'>;
  readonly flows: FlowStore;
  readonly clients: ClientLookup;
  readonly upstream: UpstreamProvider;
  readonly clock: Clock;
  readonly audit: Audit;
}
