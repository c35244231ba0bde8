// Everything the identity routes share, built once per server.
import type { StateStore } from '../store/state-store';
import type { CodeStore } from './signin/codes';
import type { SmartLockout } from './signin/lockout';
import type { Mailbox } from './signin/mailbox';
import type { SessionStore } from './signin/sessions';
import type { TransactionStore } from './signin/transactions';
import type { UserStore } from './signin/users';
import type { ClientAuthDeps } from './client-auth/authenticate';
import type { ClusterIssuers } from './cluster/cluster-issuers';
import type { Directory } from './directory';
import type { KeyRing } from './keys/key-ring';

export interface IdentityContext extends ClientAuthDeps {
  directory: Directory;
  store: StateStore;
  keys: KeyRing;
  users: UserStore;
  lockout: SmartLockout;
  sessions: SessionStore;
  transactions: TransactionStore;
  codes: CodeStore;
  clusters: ClusterIssuers;
  /** One-time codes "sent" by email or SMS (no mail server here): /_dev/mailbox and the test API. */
  mailbox: Mailbox;
  /** https://host:port of this server (known once listening). */
  baseUrl(): string;
}
