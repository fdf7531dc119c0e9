// Two auth files that hold the same seat (same account id: workspace + user) are one account. Which copy
// is used: never a dead one while a live one exists, then the one that can still work, then the newest
// tokens; the other copies are reported naming both files. Pure: accounts and facts in, decision out.
import type { Account } from '../domain/account.ts';

export interface DuplicateOptions {
  /** ms since epoch: decides whether an access token has expired. */
  now: number;
  /** True when this copy's refresh token is known dead (its refresh journal says so). */
  isDead?: (account: Account) => boolean;
}

export interface DuplicateCopy {
  /** The account id both copies share. */
  id: string;
  kept: Account;
  dropped: Account;
  /** Operator words: which file is used and why, naming both files. Never file content. */
  message: string;
}

export interface DuplicateResolution {
  /** One account per id, in the order the first copy of each appeared. */
  accounts: Account[];
  duplicates: DuplicateCopy[];
}

/** Where a copy lives, as people name it: the file, and the entry for a multi-account file. */
export function copyLabel(a: Account): string {
  const where = a.sourcePath ?? a.name;
  return a.sourceIndex == null ? where : `${where} (entry ${a.sourceIndex})`;
}

interface Ranked {
  account: Account;
  order: number;
  dead: boolean;
  usable: boolean;
  exp: number;
  refreshed: number;
}

function rank(account: Account, order: number, options: DuplicateOptions): Ranked {
  const c = account.credentials;
  const expired = c.expiresAt != null && c.expiresAt <= options.now;
  const refreshed = c.lastRefresh == null ? Number.NaN : Date.parse(c.lastRefresh);
  return {
    account,
    order,
    dead: options.isDead?.(account) ?? false,
    // Can serve without anyone signing in again: enabled, and a live access token or a way to get one.
    usable: !account.disabled && (c.refreshToken != null || (c.accessToken != null && !expired)),
    exp: c.expiresAt ?? Number.NEGATIVE_INFINITY,
    refreshed: Number.isFinite(refreshed) ? refreshed : Number.NEGATIVE_INFINITY,
  };
}

/** Negative when a is the better copy. */
function compare(a: Ranked, b: Ranked): number {
  if (a.dead !== b.dead) return a.dead ? 1 : -1;
  if (a.usable !== b.usable) return a.usable ? -1 : 1;
  // The token's own exp first (a later refresh mints a later exp), then the file's last_refresh.
  if (a.exp !== b.exp) return b.exp - a.exp;
  if (a.refreshed !== b.refreshed) return b.refreshed - a.refreshed;
  return a.order - b.order;
}

function why(kept: Ranked, dropped: Ranked): string {
  if (dropped.dead && !kept.dead) return "the other copy's refresh token is dead";
  if (kept.usable && !dropped.usable) {
    return dropped.account.disabled ? 'the other copy is disabled' : 'the other copy has expired and cannot refresh';
  }
  if (kept.exp !== dropped.exp || kept.refreshed !== dropped.refreshed) return 'its tokens are newer';
  return 'both are equally new: the first one read wins';
}

export function resolveDuplicates(accounts: readonly Account[], options: DuplicateOptions): DuplicateResolution {
  const groups = new Map<string, Ranked[]>();
  accounts.forEach((account, i) => {
    const group = groups.get(account.id);
    const r = rank(account, i, options);
    if (group) group.push(r);
    else groups.set(account.id, [r]);
  });
  const kept: Ranked[] = [];
  const duplicates: DuplicateCopy[] = [];
  for (const [id, group] of groups) {
    const sorted = [...group].sort(compare);
    const best = sorted[0];
    // The winner keeps the place of the group's first copy, so listings stay in file order.
    kept.push({ ...best, order: group[0].order });
    for (const other of sorted.slice(1)) {
      const seat = best.account.email ?? id;
      const identity =
        best.account.userId == null && best.account.email == null
          ? `the same workspace (${id}) with no user or email in the tokens to tell seats apart`
          : `the same seat (${seat} in workspace ${best.account.accountId ?? id})`;
      duplicates.push({
        id,
        kept: best.account,
        dropped: other.account,
        message: `${copyLabel(other.account)} holds ${identity} as ${copyLabel(best.account)}; using ${copyLabel(best.account)} because ${why(best, other)}. Keep one file per seat: both copies refreshing would spend each other's single-use refresh token`,
      });
    }
  }
  kept.sort((a, b) => a.order - b.order);
  return { accounts: kept.map((k) => k.account), duplicates };
}
