// One interface for every auth-file format of UPSTREAM.md §4. A format reads a parsed JSON document
// into accounts, and changes tokens / the disabled flag IN the same document object, so unknown
// fields and key order survive a write-back.
import type { Account, AccountSourceKind, AuthFileFormat } from '../../domain/account.ts';
import type { JsonStyle } from './json-style.ts';

/** The new pair from a refresh. Fields the upstream omitted are null and leave the file's value alone. */
export interface TokenUpdate {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  /** Seconds until the access token expires, as the token endpoint said. */
  expiresIn: number | null;
  refreshedAt: Date;
}

export interface FormatContext {
  path: string;
  /** File name without .auth.json / .json. */
  name: string;
  sourceKind: AccountSourceKind;
}

/** A bad entry inside an otherwise readable file (e.g. one multi-auth account without tokens). */
export interface EntryProblem {
  index: number | null;
  message: string;
}

export interface AuthFormat {
  readonly format: AuthFileFormat;
  /** Default style for files this tool creates; existing files keep their own (see json-style.ts). */
  readonly defaultStyle: JsonStyle;
  detect(doc: unknown, fileName: string): boolean;
  /** Accounts in the document; problems name the entry and what is wrong. */
  read(doc: unknown, ctx: FormatContext): { accounts: Account[]; problems: EntryProblem[] };
  /** Index of the entry that holds `account` (multi-auth: by index, checked against ids), or -1. */
  locate(doc: unknown, account: Account): number;
  applyTokens(doc: unknown, index: number, update: TokenUpdate): void;
  setDisabled(doc: unknown, index: number, disabled: boolean): void;
}
