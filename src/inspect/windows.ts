// Reading the quota windows that decide status: the main rate limit (primary/secondary slots),
// classified by duration. Code-review and additional limits never gate Codex requests.
import type { QuotaSnapshot, QuotaWindow, WindowKind } from '../domain/quota.ts';

const MAIN_SCOPES = new Set(['primary', 'secondary']);

/** The main-limit window of one kind, or null when the payload did not carry it. */
export function mainWindow(snapshot: QuotaSnapshot | null | undefined, kind: WindowKind): QuotaWindow | null {
  if (!snapshot) return null;
  return snapshot.windows.find((w) => w.kind === kind && MAIN_SCOPES.has(w.scope)) ?? null;
}

export function mainWindows(snapshot: QuotaSnapshot | null | undefined): QuotaWindow[] {
  if (!snapshot) return [];
  return snapshot.windows.filter((w) => MAIN_SCOPES.has(w.scope) && w.kind !== 'other');
}

/** Remaining %, from remainingPercent or 100 − usedPercent; null when neither is known. */
export function remainingOf(w: QuotaWindow | null): number | null {
  if (!w) return null;
  if (w.remainingPercent != null) return clampPercent(w.remainingPercent);
  if (w.usedPercent != null) return clampPercent(100 - w.usedPercent);
  return null;
}

export function usedOf(w: QuotaWindow | null): number | null {
  if (!w) return null;
  if (w.usedPercent != null) return clampPercent(w.usedPercent);
  if (w.remainingPercent != null) return clampPercent(100 - w.remainingPercent);
  return null;
}

/** Reset time in ms: resetsAt when present, else fetchedAt + resetAfterSeconds. */
export function resetAtMs(w: QuotaWindow | null, fetchedAt: string | null | undefined): number | null {
  if (!w) return null;
  if (w.resetsAt) {
    const t = Date.parse(w.resetsAt);
    if (Number.isFinite(t)) return t;
  }
  if (w.resetAfterSeconds != null && fetchedAt) {
    const f = Date.parse(fetchedAt);
    if (Number.isFinite(f)) return f + w.resetAfterSeconds * 1000;
  }
  return null;
}

/** The window with the least remaining quota (the one that binds first). */
export function tightestWindow(snapshot: QuotaSnapshot | null | undefined): QuotaWindow | null {
  let best: QuotaWindow | null = null;
  for (const w of mainWindows(snapshot)) {
    const r = remainingOf(w);
    if (r == null) continue;
    const br = remainingOf(best);
    if (best == null || br == null || r < br) best = w;
  }
  return best;
}

export function clampPercent(n: number): number {
  if (!Number.isFinite(n)) return 0;
  return Math.min(100, Math.max(0, n));
}
