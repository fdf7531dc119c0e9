// One interface for every place accounts come from. Adding a source means adding a module.
import type { Account, AccountSourceKind } from '../../domain/account.ts';
import type { AccountLoadError } from '../formats/index.ts';

export interface AccountLoad {
  accounts: Account[];
  /** One per unreadable file or entry; the other accounts still load. */
  errors: AccountLoadError[];
}

export interface AccountSource {
  readonly kind: AccountSourceKind;
  /** Where it reads from, for messages (a directory, a file, a URL). */
  readonly location: string;
  load(): Promise<AccountLoad>;
}
