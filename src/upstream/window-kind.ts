// The one rule that names a quota window by its length, used by every probe path (usage body,
// x-codex-* headers of /codex/responses, CPA's api-call, the Codex CLI's app-server). Lengths in the
// wild are not exact (17940 s for 5 h, 604740 s for a week; the CLI rounds to whole minutes), so a
// window is the nearest known duration within a tolerance, never its slot (UPSTREAM.md §1, §2).
import type { WindowKind } from '../domain/quota.ts';

const HOUR = 3600;
const DAY = 24 * HOUR;

interface KnownDuration {
  kind: Exclude<WindowKind, 'other'>;
  /** The nominal length, for "nearest". */
  seconds: number;
  min: number;
  max: number;
}

/**
 * Known lengths and how far off they may be. 5 h and a week: ±5% (±15 min, ±8.4 h), far wider than
 * any rounding seen and far from each other. Monthly (Team/Business, the go plan's one window): a
 * calendar month is 28–31 days, plus an hour of slack at both ends for rounding (27 or 32 days is
 * not a month).
 */
const KNOWN: readonly KnownDuration[] = [
  { kind: '5h', seconds: 5 * HOUR, min: 5 * HOUR * 0.95, max: 5 * HOUR * 1.05 },
  { kind: 'weekly', seconds: 7 * DAY, min: 7 * DAY * 0.95, max: 7 * DAY * 1.05 },
  { kind: 'monthly', seconds: 30 * DAY, min: 28 * DAY - HOUR, max: 31 * DAY + HOUR },
];

/** Seconds → window kind: the nearest known duration whose tolerance holds it, else 'other'. */
export function windowKindOfSeconds(seconds: number | null | undefined): WindowKind {
  if (seconds == null || !Number.isFinite(seconds) || seconds <= 0) return 'other';
  let best: KnownDuration | null = null;
  for (const known of KNOWN) {
    if (seconds < known.min || seconds > known.max) continue;
    // Nearest on a log scale: "twice as long" and "half as long" are equally far.
    const distance = Math.abs(Math.log(seconds / known.seconds));
    if (best == null || distance < Math.abs(Math.log(seconds / best.seconds))) best = known;
  }
  return best?.kind ?? 'other';
}

/** Minutes (x-codex-*-window-minutes, the CLI's windowDurationMins) → window kind. */
export function windowKindOfMinutes(minutes: number | null | undefined): WindowKind {
  return minutes == null || !Number.isFinite(minutes) ? 'other' : windowKindOfSeconds(minutes * 60);
}
