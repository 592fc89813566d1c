import type { Audit } from '../shared/audit';
import type { Clock } from '../shared/clock';
import type { AuthorizeConfig } from './config';
import type { ClientStore } from '../shared/client-store';
import type { CodeStore } from '../shared/code-store';
import type { ClientLookup } from './clients';
import type { ConsentStore } from './consent-store';
import type { ChallengeCounter, PendingAuthorizationStore, SignInSessionStore, UpstreamSignInStore } from './pending-table';
import type { UpstreamProvider } from './upstream';

/** The stores the authorize flow reads and writes: one per kind of item, each over its own table. */
export interface AuthorizeStores {
  /** Registered clients are looked up (`clients` below) and marked used, nothing else (REV-13). */
  readonly clients: Pick<ClientStore, 'get' | 'markUsed'>;
  readonly codes: Pick<CodeStore, 'create'>;
  readonly pendingAuthorizations: PendingAuthorizationStore;
  readonly signIns: UpstreamSignInStore;
  readonly sessions: SignInSessionStore;
  readonly challenges: ChallengeCounter;
  readonly consents: ConsentStore;
}

/** Everything one request of the authorize flow works with; built per request by the handler. */
export interface AuthorizeDeps {
  readonly config: AuthorizeConfig;
  readonly stores: AuthorizeStores;
  readonly clients: ClientLookup;
  readonly upstream: UpstreamProvider;
  readonly clock: Clock;
  readonly audit: Audit;
}
