// Operator words for quota facts that are not a window percentage: no rate-limit windows, spend
// controls, credits, which limit upstream says was reached. Pure; the classifier writes these into a
// probe's message and status/report/dashboard read the same functions, so every face says the same.
import type { Credits, ProbeReason, QuotaSnapshot, QuotaWindow } from './quota.ts';

/** What `rate_limit_reached_type.type` (codex-rs RateLimitReachedKind) means, in words. */
const REACHED_KIND_TEXT: Record<string, string> = {
  rate_limit_reached: 'usage limit reached',
  workspace_owner_credits_depleted: "the workspace owner's credits are used up",
  workspace_member_credits_depleted: "this member's workspace credits are used up",
  workspace_owner_usage_limit_reached: "the workspace owner's usage limit is reached",
  workspace_member_usage_limit_reached: "this member's workspace usage limit is reached",
};

export function reachedKindText(kind: string | null | undefined): string | null {
  if (!kind) return null;
  return REACHED_KIND_TEXT[kind] ?? `limit reached (${kind})`;
}

/** The spend budget windows of a snapshot (scope spend_control). */
export function spendControlWindows(snapshot: QuotaSnapshot | null | undefined): QuotaWindow[] {
  return snapshot ? snapshot.windows.filter((w) => w.scope === 'spend_control') : [];
}

/** The spend budget that binds: the fullest one. */
export function bindingSpendWindow(snapshot: QuotaSnapshot | null | undefined): QuotaWindow | null {
  let best: QuotaWindow | null = null;
  for (const w of spendControlWindows(snapshot)) {
    if (w.usedPercent == null) continue;
    if (best == null || (best.usedPercent ?? -1) < w.usedPercent) best = w;
  }
  return best ?? spendControlWindows(snapshot)[0] ?? null;
}

/** "spend control, 12% of budget used" (or without the percentage when upstream gave none). */
export function spendControlText(snapshot: QuotaSnapshot | null | undefined): string | null {
  const w = bindingSpendWindow(snapshot);
  if (!w) return snapshot?.spendControlReached === false ? 'spend control' : null;
  return w.usedPercent == null ? 'spend control' : `spend control, ${Math.round(w.usedPercent)}% of budget used`;
}

/** Credits worth showing: unlimited, or a balance when the account has credits. */
export function creditsText(credits: Credits | null | undefined): string | null {
  if (!credits) return null;
  if (credits.unlimited === true) return 'unlimited credits';
  if (credits.hasCredits === true) return credits.balance != null ? `credits, balance ${credits.balance}` : 'credits';
  return null;
}

/** Why an account without rate-limit windows can serve: "no rate-limit windows: spend control, 12% of budget used". */
export function windowlessText(snapshot: QuotaSnapshot | null | undefined): string {
  const why = [spendControlText(snapshot), creditsText(snapshot?.credits)].filter((t): t is string => t != null);
  return why.length ? `no rate-limit windows: ${why.join('; ')}` : 'no rate-limit windows apply';
}

/** What ran out, for an exhausted account: "spend limit reached", a reached kind, or "quota exhausted". */
export function exhaustedText(
  reason: ProbeReason | null | undefined,
  errorCode: string | null | undefined,
  snapshot: QuotaSnapshot | null | undefined,
): string {
  if (reason === 'spend_control_reached') {
    const w = bindingSpendWindow(snapshot);
    return w?.limitName ? `spend limit reached (${w.limitName} budget)` : 'spend limit reached';
  }
  const kind = errorCode ?? snapshot?.rateLimitReachedType ?? null;
  if (kind && kind !== 'rate_limit_reached' && kind in REACHED_KIND_TEXT) return reachedKindText(kind) as string;
  return 'quota exhausted';
}
