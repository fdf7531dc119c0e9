// Loads the evidence the pure report/forecast/metrics builders need: from the store (default, no
// network) or after a live probe of every account. Shared by `report`, `forecast` and `metrics`.
import type { Fleet } from '../../core/fleet.ts';
import type { Account } from '../../domain/account.ts';
import type { ProbeResult, QuotaSnapshot } from '../../domain/quota.ts';
import type { FlagState, TokenState } from '../../domain/report.ts';
import type { SnapshotHistory } from '../../inspect/forecast.ts';
import type { AccountEvidence } from '../../inspect/status.ts';
import type { StoredAccount, TokenState as StoredTokenState } from '../../store/index.ts';
import { probeFromSnapshot } from '../../store/snapshots-repo.ts';

export interface HealthData {
  evidence: AccountEvidence[];
  /** The Codex CLI's current account (from --codex-home), when known. */
  currentAccountId: string | null;
  /** Sources that could not be read, in operator words. */
  errors: string[];
}

export interface LoadOptions {
  live: boolean;
  /** With live: probe through POST /codex/responses with this model. */
  model?: string;
  onProgress?: (p: { done: number; total: number }) => void;
}

/** Forecast history reaches back a little over one weekly window. */
export const HISTORY_MS = 8 * 24 * 3_600_000;

export async function loadHealthEvidence(fleet: Fleet, opts: LoadOptions): Promise<HealthData> {
  const errors: string[] = [];
  const live = new Map<string, { account: Account; probe: ProbeResult; lastGood: ProbeResult | null }>();
  let accounts: Array<Account | StoredAccount>;
  if (opts.live) {
    const result = await fleet.checkQuota({
      force: true,
      tokenRefresh: 'never',
      model: opts.model,
      onProgress: opts.onProgress,
    });
    for (const e of result.errors) errors.push(e.message);
    for (const c of result.checks) {
      const { raw: _raw, ...probe } = c.result;
      live.set(c.account.id, { account: c.account, probe, lastGood: c.lastGood });
    }
    accounts = result.checks.map((c) => c.account);
  } else {
    accounts = await fleet.repos.accounts.list();
    if (!accounts.length) {
      // First run: nothing stored yet, so read the local sources (files only, no network).
      const loaded = await fleet.accounts();
      for (const e of loaded.errors) errors.push(e.message);
      accounts = loaded.accounts;
    }
  }

  const [attempts, conclusive, tokens, flags] = await Promise.all([
    fleet.repos.snapshots.latestPerAccount({ conclusive: false }),
    fleet.repos.snapshots.latestPerAccount(),
    fleet.repos.accounts.listTokenStates(),
    fleet.repos.flags.list(),
  ]);
  const latestAttempt = new Map(attempts.map((s) => [s.accountId, probeFromSnapshot(s)]));
  const latestGood = new Map(conclusive.filter((s) => !s.transient).map((s) => [s.accountId, probeFromSnapshot(s)]));
  const tokenById = new Map(tokens.map((t) => [t.accountId, t]));
  const flagById = new Map(flags.map((f) => [f.accountId, f]));

  const evidence = accounts.map((a): AccountEvidence => {
    const fresh = live.get(a.id);
    const account = fresh?.account ?? withoutCredentials(a, tokenById.get(a.id));
    const f = flagById.get(a.id);
    const flag: FlagState | null = f
      ? {
          flaggedAt: f.flaggedAt,
          flaggedReason: f.flaggedReason,
          lastVerified: f.lastVerified,
          verificationCount: f.verificationCount,
        }
      : null;
    return {
      account,
      probe: fresh?.probe ?? latestAttempt.get(a.id) ?? null,
      lastGood: fresh ? (fresh.lastGood ?? latestGood.get(a.id) ?? null) : (latestGood.get(a.id) ?? null),
      token: tokenStateFrom(account, tokenById.get(a.id)),
      flag,
    };
  });
  const current = evidence.find((e) => e.account.sourceKind === 'codex-home');
  return { evidence, currentAccountId: current ? (current.account.accountId ?? current.account.id) : null, errors };
}

/** Snapshot history per account for the forecast (conclusive answers with windows only). */
export async function loadHistories(
  fleet: Fleet,
  evidence: readonly AccountEvidence[],
  now: number,
): Promise<SnapshotHistory[]> {
  const out: SnapshotHistory[] = [];
  for (const e of evidence) {
    const rows = await fleet.repos.snapshots.history(e.account.id, now - HISTORY_MS);
    const snapshots = rows
      .filter((s) => !s.transient && s.windows.length > 0)
      .map((s) => probeFromSnapshot(s).snapshot)
      .filter((s): s is QuotaSnapshot => s != null);
    const unusable = e.account.disabled || e.flag != null;
    out.push({ accountId: e.account.id, name: e.account.name, usable: !unusable, snapshots });
  }
  return out;
}

/** A stored account carries no secrets; the status rules only need token facts, taken from token_state. */
function withoutCredentials(a: Account | StoredAccount, t: StoredTokenState | undefined): Account {
  if ('credentials' in a) return a;
  const { createdAt: _c, updatedAt: _u, ...rest } = a;
  return {
    ...rest,
    credentials: {
      accessToken: null,
      refreshToken: null,
      idToken: null,
      accountId: a.accountId,
      expiresAt: t?.accessExpiresAt ?? null,
      lastRefresh: t?.lastRefresh != null ? new Date(t.lastRefresh).toISOString() : null,
    },
  };
}

function tokenStateFrom(account: Account, t: StoredTokenState | undefined): TokenState {
  const hasSecrets = account.credentials.accessToken != null || account.credentials.refreshToken != null;
  return {
    expiresAt: t?.accessExpiresAt ?? account.credentials.expiresAt,
    lastRefreshAt: t?.lastRefresh ?? parseTime(account.credentials.lastRefresh),
    refreshFailures: t?.refreshFailures ?? 0,
    // From the store the secret itself is not known: codex-quota files are the only format without one.
    hasRefreshToken: hasSecrets ? account.credentials.refreshToken != null : account.format !== 'codex-quota',
  };
}

function parseTime(iso: string | null): number | null {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isFinite(t) ? t : null;
}
