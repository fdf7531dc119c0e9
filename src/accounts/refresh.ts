// Keeps access tokens fresh without ever losing a refresh token (UPSTREAM.md §3).
// - Refresh when the JWT exp minus a skew is past, or once after a 401.
// - One refresh per account at a time in this process (single-flight), and across processes the
//   file lock (lock.ts). Under the lock the file is READ AGAIN: another process may already have
//   rotated the pair, and then we adopt it instead of spending a token that is already used.
// - The new pair is written (atomically) before anyone gets to use it.
// - A dead refresh token flags the account auth_invalid with the upstream code, and the journal
//   remembers it so no process sends that token again. Transient failures keep the old tokens.
// - Read-only callers construct the manager with refresh: 'never'; it then cannot refresh at all.
// - Shutdown: after `stop` no token request is sent (old tokens kept, nothing spent); one already sent
//   is read to the end and saved (upstream spent the old token on receipt), unless `cutoff` comes first.
import type { Account } from '../domain/account.ts';
import { type Clock, systemClock } from '../domain/time.ts';
import { fsPromises } from '../runtime/fs.ts';
import { type RefreshOutcome, refreshTokens } from '../upstream/oauth.ts';
import { createSingleFlight, LockError, withFileLock } from './lock.ts';
import { readJournal, tokenHash, updateJournal } from './refresh-journal.ts';
import { type LocatedEntry, locateAccount, saveLocated } from './write-back.ts';

export const DEFAULT_REFRESH_SKEW_MS = 5 * 60_000;
/** Test-only: path of a marker file; the refresh then stops between the upstream answer and the write. */
export const TEST_PAUSE_ENV = 'CODEX_FLEET_TEST_PAUSE_AFTER_REFRESH';
const RECHECK_MS = 1_000;
const RECHECK_STEP_MS = 50;

export type TokenEvent =
  | { type: 'refreshed'; accountId: string; name: string; expiresAt: number | null; at: number }
  | { type: 'adopted'; accountId: string; name: string; expiresAt: number | null; at: number }
  | {
      type: 'refresh_failed' | 'auth_invalid';
      accountId: string;
      name: string;
      code: string;
      httpStatus: number | null;
      message: string;
      at: number;
    };

export type TokenFailureState = 'auth_invalid' | 'transient' | 'read_only' | 'unsupported';

export type TokenResult =
  | { ok: true; account: Account; action: 'none' | 'refreshed' | 'adopted' }
  | {
      ok: false;
      /** The latest known copy (old tokens on a transient failure). */
      account: Account;
      state: TokenFailureState;
      code: string;
      httpStatus: number | null;
      message: string;
    };

export interface TokenManagerOptions {
  /** Required on purpose: read-only commands pass 'never' and so can never refresh. */
  refresh: 'allowed' | 'never';
  authUrl: string;
  timeoutMs?: number;
  skewMs?: number;
  clock?: Clock;
  fetch?: (input: string, init?: RequestInit) => Promise<Response>;
  lockTimeoutMs?: number;
  /** For the store: token state changes. Errors thrown here are ignored. */
  onTokenEvent?: (event: TokenEvent) => void | Promise<void>;
  env?: NodeJS.ProcessEnv;
  /** Aborted when the process starts shutting down: send no new token request. */
  stop?: AbortSignal;
  /** Aborted at the shutdown deadline: cut a token request still waiting for its answer. */
  cutoff?: AbortSignal;
}

type Trigger = 'expiry' | 'unauthorized' | 'manual';

export class TokenManager {
  readonly #opts: TokenManagerOptions;
  readonly #clock: Clock;
  readonly #skewMs: number;
  readonly #flight = createSingleFlight<TokenResult>();
  /** Results of a `refresh_token_reused`, with the spent token: checked again after the lock is released. */
  readonly #recheck = new WeakMap<TokenResult, string>();

  constructor(options: TokenManagerOptions) {
    if (options.refresh !== 'allowed' && options.refresh !== 'never') {
      throw new Error("TokenManager: refresh must be 'allowed' or 'never'");
    }
    this.#opts = options;
    this.#clock = options.clock ?? systemClock;
    this.#skewMs = options.skewMs ?? DEFAULT_REFRESH_SKEW_MS;
  }

  get canRefresh(): boolean {
    return this.#opts.refresh === 'allowed';
  }

  /** True when the access token's expiry (minus the skew) is past. Unknown expiry: false. */
  needsRefresh(account: Account): boolean {
    const exp = account.credentials.expiresAt;
    return exp != null && exp - this.#skewMs <= this.#clock();
  }

  /** Returns the account with a usable access token, refreshing first if it is about to expire. */
  async ensureFresh(account: Account): Promise<TokenResult> {
    if (!this.needsRefresh(account)) return { ok: true, account, action: 'none' };
    return this.#run(account, 'expiry');
  }

  /** The quota probe's onUnauthorized hook: refresh once after a 401 (or adopt a newer pair). */
  refreshAfterUnauthorized(account: Account): Promise<TokenResult> {
    return this.#run(account, 'unauthorized');
  }

  /** Operator-requested refresh (e.g. `accounts refresh`): refreshes unless the file moved on already. */
  refreshNow(account: Account): Promise<TokenResult> {
    return this.#run(account, 'manual');
  }

  #run(account: Account, trigger: Trigger): Promise<TokenResult> {
    if (!this.canRefresh) {
      return Promise.resolve(
        this.#fail(account, 'read_only', 'read_only', null, 'token refresh is off for read-only commands'),
      );
    }
    // CPA refreshes its own accounts (api-call substitutes $TOKEN$); their path is on the CPA host.
    if (!account.sourcePath || account.sourceKind === 'cpa') {
      return Promise.resolve(
        this.#fail(account, 'unsupported', 'no_source_file', null, `${account.name}: tokens are managed elsewhere`),
      );
    }
    const key = `${account.sourcePath}#${account.sourceIndex ?? ''}`;
    return this.#flight(key, () => this.#refreshLocked(account, trigger));
  }

  async #refreshLocked(account: Account, trigger: Trigger): Promise<TokenResult> {
    try {
      const result = await withFileLock(account.sourcePath!, account.format, () => this.#underLock(account, trigger), {
        timeoutMs: this.#opts.lockTimeoutMs,
      });
      const spent = this.#recheck.get(result);
      return spent ? await this.#afterReused(result, spent) : result;
    } catch (error) {
      if (error instanceof LockError) return this.#fail(account, 'transient', 'lock_timeout', null, error.message);
      const errno = (error as NodeJS.ErrnoException).code;
      if (errno === 'EACCES' || errno === 'EPERM' || errno === 'EROFS') {
        // Found before any token was sent (the journal is written first): nothing is spent.
        return this.#fail(
          account,
          'transient',
          'not_writable',
          null,
          `${account.sourcePath}: its directory is not writable, so a refreshed pair could not be saved; not refreshing (fix the permissions)`,
        );
      }
      return this.#fail(account, 'transient', 'refresh_error', null, (error as Error).message);
    }
  }

  /** Uses a pair another process (or the Codex CLI) already saved, instead of spending a token. */
  async #adopt(current: Account): Promise<TokenResult> {
    await this.#emit({
      type: 'adopted',
      ...this.#who(current),
      expiresAt: current.credentials.expiresAt,
      at: this.#clock(),
    });
    return { ok: true, account: current, action: 'adopted' };
  }

  async #underLock(account: Account, trigger: Trigger): Promise<TokenResult> {
    const entry = await locateAccount(account);
    if (!('parsed' in entry)) return this.#fail(account, 'transient', entry.code, null, entry.message);
    const current = entry.current;
    // Someone (another process, the Codex CLI) already rotated the pair: use theirs.
    if (current.credentials.refreshToken !== account.credentials.refreshToken && !this.needsRefresh(current)) {
      return this.#adopt(current);
    }
    if (trigger === 'expiry' && !this.needsRefresh(current)) return { ok: true, account: current, action: 'none' };
    if (trigger === 'unauthorized' && current.credentials.accessToken !== account.credentials.accessToken) {
      return this.#adopt(current);
    }
    const refreshToken = current.credentials.refreshToken;
    if (!refreshToken) {
      return this.#invalid(
        current,
        'no_refresh_token',
        null,
        `${current.name}: no refresh token in ${current.sourcePath}; sign in again`,
      );
    }
    // The journal sits beside the real file, so a symlinked copy shares it.
    const path = await fsPromises()
      .realpath(current.sourcePath!)
      .catch(() => current.sourcePath!);
    const hash = tokenHash(refreshToken);
    const known = (await readJournal(path))[hash];
    if (known?.state === 'dead') {
      return this.#invalid(
        current,
        known.code ?? 'refresh_token_dead',
        null,
        `${known.message ?? 'refresh token is dead'} (recorded ${known.at})`,
      );
    }
    // The last moment to stay out: past this line a token is sent and upstream spends the old one.
    if (this.#opts.stop?.aborted) {
      return this.#fail(
        current,
        'transient',
        'shutting_down',
        null,
        `${current.name}: not refreshing while codex-fleet shuts down (old tokens kept)`,
      );
    }
    const interruptedAt = known?.state === 'pending' ? known.at : null;
    const startedAt = new Date(this.#clock()).toISOString();
    await updateJournal(path, hash, { state: 'pending', at: startedAt }, this.#clock());

    const cutoff = this.#opts.cutoff;
    const baseFetch = this.#opts.fetch ?? fetch;
    const outcome = await refreshTokens({
      authUrl: this.#opts.authUrl,
      refreshToken,
      timeoutMs: this.#opts.timeoutMs ?? 15_000,
      fetch: cutoff
        ? (input, init) =>
            baseFetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, cutoff]) : cutoff })
        : this.#opts.fetch,
    });
    if (!outcome.ok && cutoff?.aborted) {
      // Upstream may have spent the token already: the pending journal entry stays and says so next time.
      outcome.message = `the token request was cut by shutdown before its answer arrived; if upstream received it, the old refresh token is spent (old tokens kept)`;
    }
    await this.#testPause();
    if (outcome.ok) return this.#store(entry, path, hash, outcome);
    if (outcome.permanent) {
      const why = interruptedAt
        ? `${outcome.message} A refresh started at ${interruptedAt} was interrupted before its new tokens were saved, so this refresh token was already spent upstream; sign in again.`
        : `${outcome.message} (sign in again)`;
      await updateJournal(
        path,
        hash,
        { state: 'dead', at: startedAt, code: outcome.code, message: why },
        this.#clock(),
      );
      if (outcome.code === 'refresh_token_reused') {
        // Someone who does not take our lock (the Codex CLI posts before locking, CPA refreshes its own
        // files) may have spent it and be about to write the new pair: look again once we let go.
        const result = this.#fail(current, 'auth_invalid', outcome.code, outcome.httpStatus, why);
        this.#recheck.set(result, refreshToken);
        return result;
      }
      return this.#invalid(current, outcome.code, outcome.httpStatus, why);
    }
    // Transient: old tokens stay; the pending entry stays too (the request may have reached upstream).
    await this.#emit({ type: 'refresh_failed', ...this.#who(current), ...this.#err(outcome), at: this.#clock() });
    return this.#fail(current, 'transient', outcome.code, outcome.httpStatus, outcome.message);
  }

  /** Up to RECHECK_MS for another writer to save the pair it got for our spent token; else flag it. */
  async #afterReused(result: TokenResult, spent: string): Promise<TokenResult> {
    if (result.ok) return result;
    for (let waited = 0; waited <= RECHECK_MS; waited += RECHECK_STEP_MS) {
      const entry = await locateAccount(result.account);
      const current = 'parsed' in entry ? entry.current : null;
      if (current?.credentials.refreshToken && current.credentials.refreshToken !== spent) {
        return this.#adopt(current);
      }
      await new Promise((r) => setTimeout(r, RECHECK_STEP_MS));
    }
    return this.#invalid(result.account, result.code, result.httpStatus, result.message);
  }

  async #store(
    entry: LocatedEntry,
    path: string,
    hash: string,
    outcome: Extract<RefreshOutcome, { ok: true }>,
  ): Promise<TokenResult> {
    entry.parsed.format.applyTokens(entry.parsed.doc, entry.index, {
      ...outcome.tokens,
      refreshedAt: new Date(this.#clock()),
    });
    let saved: Account;
    try {
      saved = await saveLocated(entry);
    } catch (error) {
      // The old token is spent upstream and the new one could not be saved: say so plainly.
      const why = `new tokens could not be saved to ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); the old refresh token is already spent, so sign in again after fixing the file`;
      await updateJournal(
        path,
        hash,
        { state: 'dead', at: new Date(this.#clock()).toISOString(), code: 'write_failed', message: why },
        this.#clock(),
      ).catch(() => {});
      return this.#invalid(entry.current, 'write_failed', null, why);
    }
    await updateJournal(path, hash, null, this.#clock()).catch(() => {});
    await this.#emit({
      type: 'refreshed',
      ...this.#who(saved),
      expiresAt: saved.credentials.expiresAt,
      at: this.#clock(),
    });
    return { ok: true, account: saved, action: 'refreshed' };
  }

  async #testPause(): Promise<void> {
    const marker = (this.#opts.env ?? process.env)[TEST_PAUSE_ENV];
    if (!marker) return;
    await fsPromises().writeFile(marker, 'paused-after-upstream-answer');
    // Hold here (with the lock) until the test kills this process.
    await new Promise<never>(() => setInterval(() => {}, 60_000));
  }

  #who(account: Account) {
    return { accountId: account.id, name: account.name };
  }

  #err(outcome: { code: string; httpStatus: number | null; message: string }) {
    return { code: outcome.code, httpStatus: outcome.httpStatus, message: outcome.message };
  }

  async #invalid(account: Account, code: string, httpStatus: number | null, message: string) {
    await this.#emit({ type: 'auth_invalid', ...this.#who(account), code, httpStatus, message, at: this.#clock() });
    return this.#fail(account, 'auth_invalid', code, httpStatus, message);
  }

  #fail(
    account: Account,
    state: TokenFailureState,
    code: string,
    httpStatus: number | null,
    message: string,
  ): TokenResult {
    return { ok: false, account, state, code, httpStatus, message };
  }

  async #emit(event: TokenEvent): Promise<void> {
    try {
      await this.#opts.onTokenEvent?.(event);
    } catch {
      // A recorder failing must not undo a refresh that is already on disk.
    }
  }
}
