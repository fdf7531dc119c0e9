// Usage payload (or x-codex-* headers) → QuotaSnapshot. Every field is optional upstream; missing or
// absurd values become null (unknown), never 0 and never "healthy". Windows are classified by their
// duration, never by slot: free plans put the weekly window in `primary_window`.
import type { Credits, QuotaSnapshot, QuotaWindow, WindowScope } from '../domain/quota.ts';
import { type HeaderBag, headerValue } from './response-headers.ts';
import { windowKindOfSeconds } from './window-kind.ts';

const DAY = 86400;
/** Anything further out than this is not a quota reset but a unit error (ms) or garbage. */
const MAX_RESET_SECONDS = 400 * DAY;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A finite number from a number or a numeric string; null otherwise. */
export function toFiniteNumber(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

function toBool(value: unknown): boolean | null {
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'True' || value === '1') return true;
  if (value === 'false' || value === 'False' || value === '0') return false;
  return null;
}

function toText(value: unknown): string | null {
  if (typeof value === 'string') return value.trim() === '' ? null : value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return null;
}

/** Used percent clamped to 0..100: overshoot above 100 is still "exhausted"; negatives are garbage. */
function usedPercent(value: unknown): number | null {
  const n = toFiniteNumber(value);
  if (n == null || n < 0) return null;
  return Math.min(100, n);
}

function positiveSeconds(value: unknown): number | null {
  const n = toFiniteNumber(value);
  return n != null && n > 0 && n <= MAX_RESET_SECONDS ? n : null;
}

/** Unix seconds from seconds, milliseconds (auto-detected) or an ISO string. */
export function toUnixSeconds(value: unknown): number | null {
  if (typeof value === 'string' && !/^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    const ms = Date.parse(value);
    return Number.isFinite(ms) ? ms / 1000 : null;
  }
  const n = toFiniteNumber(value);
  if (n == null || n <= 0) return null;
  return n > 1e11 ? n / 1000 : n;
}

/** Seconds until reset: reset_after_seconds preferred (clock-skew safe), then reset_at, then legacy names. */
export function resetAfterSeconds(window: Record<string, unknown>, nowMs: number): number | null {
  for (const key of ['reset_after_seconds', 'resets_in_seconds']) {
    const n = toFiniteNumber(window[key]);
    if (n != null) return n < 0 ? 0 : n <= MAX_RESET_SECONDS ? n : null;
  }
  for (const key of ['reset_at', 'resets_at']) {
    const at = toUnixSeconds(window[key]);
    if (at != null) {
      const after = at - nowMs / 1000;
      return after < 0 ? 0 : after <= MAX_RESET_SECONDS ? Math.round(after) : null;
    }
  }
  return null;
}

function isoAfter(nowMs: number, seconds: number | null): string | null {
  return seconds == null ? null : new Date(nowMs + seconds * 1000).toISOString();
}

function parseWindow(
  raw: unknown,
  scope: WindowScope,
  limitName: string | null,
  nowMs: number,
  windowSecondsOverride?: number | null,
): QuotaWindow | null {
  if (!isRecord(raw)) return null;
  const used = usedPercent(raw.used_percent);
  const windowSeconds = windowSecondsOverride ?? positiveSeconds(raw.limit_window_seconds);
  const resetAfter = resetAfterSeconds(raw, nowMs);
  if (used == null && windowSeconds == null && resetAfter == null) return null;
  return {
    kind: windowKindOfSeconds(windowSeconds),
    scope,
    limitName,
    usedPercent: used,
    remainingPercent: used == null ? null : Math.max(0, 100 - used),
    windowSeconds,
    resetAfterSeconds: resetAfter,
    resetsAt: isoAfter(nowMs, resetAfter),
  };
}

function parseRateLimit(raw: unknown, scope: WindowScope, limitName: string | null, nowMs: number): QuotaWindow[] {
  if (!isRecord(raw)) return [];
  const windows: QuotaWindow[] = [];
  for (const slot of ['primary_window', 'secondary_window'] as const) {
    const slotScope = scope === 'primary' && slot === 'secondary_window' ? 'secondary' : scope;
    const w = parseWindow(raw[slot], slotScope, limitName, nowMs);
    if (w) windows.push(w);
  }
  return windows;
}

function parseCredits(raw: unknown): Credits {
  if (!isRecord(raw)) return { hasCredits: null, unlimited: null, balance: null };
  return { hasCredits: toBool(raw.has_credits), unlimited: toBool(raw.unlimited), balance: toText(raw.balance) };
}

/**
 * `spend_control` (codex-rs `SpendControlStatusDetails`, spend_control_status_details.rs): `reached`,
 * `reached_limit_type` (individual, group_default, workspace_default, role_budget, group_shared,
 * workspace_shared) and one `<type>_limit` per budget that applies. A budget is
 * `SpendControlLimitDetails` {limit, used, remaining (money strings), used_percent, remaining_percent,
 * reset_after_seconds, reset_at}; the group ones wrap it as {group_id, group_name, details}. Each budget
 * becomes a spend_control window named by its type (never the group's name).
 */
const SPEND_LIMIT_TYPES = [
  'individual',
  'group_default',
  'workspace_default',
  'role_budget',
  'group_shared',
  'workspace_shared',
] as const;

function parseSpendControl(raw: unknown, nowMs: number): { reached: boolean | null; windows: QuotaWindow[] } {
  if (!isRecord(raw)) return { reached: null, windows: [] };
  const windows: QuotaWindow[] = [];
  for (const type of SPEND_LIMIT_TYPES) {
    const limit = raw[`${type}_limit`];
    const details = isRecord(limit) && isRecord(limit.details) ? limit.details : limit;
    if (!isRecord(details)) continue;
    // used_percent is the fact; remaining_percent stands in when only it is given.
    const remaining = usedPercent(details.remaining_percent);
    const used = details.used_percent ?? (remaining == null ? undefined : 100 - remaining);
    const w = parseWindow({ ...details, used_percent: used }, 'spend_control', type, nowMs);
    if (w) windows.push(w);
  }
  // The reached budget first: it is the one that decides when the member can spend again.
  const reachedType = toText(raw.reached_limit_type);
  windows.sort((a, b) => Number(b.limitName === reachedType) - Number(a.limitName === reachedType));
  return { reached: toBool(raw.reached), windows };
}

function reachedType(raw: unknown): string | null {
  if (typeof raw === 'string') return toText(raw);
  if (isRecord(raw)) return toText(raw.type) ?? toText(raw.limit_name);
  return null;
}

function emptySnapshot(nowMs: number): QuotaSnapshot {
  return {
    plan: null,
    allowed: null,
    limitReached: null,
    rateLimitReachedType: null,
    windows: [],
    credits: { hasCredits: null, unlimited: null, balance: null },
    fetchedAt: new Date(nowMs).toISOString(),
  };
}

/** A decoded usage payload → snapshot. Anything that is not an object gives an empty snapshot. */
export function parseUsagePayload(payload: unknown, nowMs: number): QuotaSnapshot {
  const snapshot = emptySnapshot(nowMs);
  if (!isRecord(payload)) return snapshot;
  snapshot.plan = toText(payload.plan_type)?.toLowerCase() ?? null;
  snapshot.credits = parseCredits(payload.credits);
  snapshot.rateLimitReachedType = reachedType(payload.rate_limit_reached_type);
  const rateLimit = payload.rate_limit;
  // `rate_limit: null` is an answer (no windows apply: credits or spend controls); a missing key is not.
  if (rateLimit === null) snapshot.windowless = true;
  if (isRecord(rateLimit)) {
    snapshot.allowed = toBool(rateLimit.allowed);
    snapshot.limitReached = toBool(rateLimit.limit_reached);
    snapshot.windows.push(...parseRateLimit(rateLimit, 'primary', null, nowMs));
  }
  snapshot.windows.push(...parseRateLimit(payload.code_review_rate_limit, 'code_review', 'code_review', nowMs));
  if (Array.isArray(payload.additional_rate_limits)) {
    for (const extra of payload.additional_rate_limits) {
      if (!isRecord(extra)) continue;
      const name = toText(extra.limit_name) ?? toText(extra.metered_feature);
      snapshot.windows.push(...parseRateLimit(extra.rate_limit, 'additional', name, nowMs));
    }
  }
  if ('spend_control' in payload) {
    const spend = parseSpendControl(payload.spend_control, nowMs);
    snapshot.spendControlReached = spend.reached;
    snapshot.windows.push(...spend.windows);
  }
  return snapshot;
}

export type ParsedBody = { ok: true; snapshot: QuotaSnapshot; json: unknown } | { ok: false; error: string };

/** Body text of a 200 → snapshot, or a clear error for non-JSON / truncated / non-object bodies. */
export function parseUsageBody(text: string | null | undefined, nowMs: number): ParsedBody {
  if (text == null || text.trim() === '') return { ok: false, error: 'empty response body' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, error: 'response body is not valid JSON (truncated or not JSON)' };
  }
  if (!isRecord(json)) return { ok: false, error: 'response body is JSON but not an object' };
  return { ok: true, snapshot: parseUsagePayload(json, nowMs), json };
}

function headerWindow(headers: HeaderBag, slot: 'primary' | 'secondary', nowMs: number): QuotaWindow | null {
  const get = (suffix: string) => headerValue(headers, `x-codex-${slot}-${suffix}`);
  const minutes = toFiniteNumber(get('window-minutes'));
  const raw = {
    used_percent: get('used-percent'),
    reset_after_seconds: get('reset-after-seconds') ?? undefined,
    reset_at: get('reset-at') ?? undefined,
  };
  return parseWindow(raw, slot, null, nowMs, minutes != null && minutes > 0 ? minutes * 60 : null);
}

/** x-codex-* response headers (POST /codex/responses) → snapshot; null when none are present. */
export function parseCodexHeaders(headers: HeaderBag | null | undefined, nowMs: number): QuotaSnapshot | null {
  if (!headers) return null;
  const snapshot = emptySnapshot(nowMs);
  snapshot.plan = toText(headerValue(headers, 'x-codex-plan-type'))?.toLowerCase() ?? null;
  snapshot.credits = {
    hasCredits: toBool(headerValue(headers, 'x-codex-credits-has-credits')),
    unlimited: toBool(headerValue(headers, 'x-codex-credits-unlimited')),
    balance: toText(headerValue(headers, 'x-codex-credits-balance')),
  };
  for (const slot of ['primary', 'secondary'] as const) {
    const w = headerWindow(headers, slot, nowMs);
    if (w) snapshot.windows.push(w);
  }
  const anyFact =
    snapshot.windows.length > 0 ||
    snapshot.plan != null ||
    snapshot.credits.hasCredits != null ||
    snapshot.credits.balance != null;
  return anyFact ? snapshot : null;
}
