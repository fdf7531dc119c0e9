// Server inspection schedules: every N minutes (slots aligned to the epoch, so every instance agrees on
// them), or daily HH:MM points in an IANA time zone (croner computes those, DST included). Pure parts
// here; the worker loop that claims slots lives in scheduler.ts.
import { Cron } from 'croner';
import { z } from 'zod';

export const SCHEDULE_SETTING = 'inspection.schedule';
export const SCHEDULE_MODES = ['off', 'interval', 'daily'] as const;

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'daily times are HH:MM, 00:00 to 23:59');

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

export const scheduleSchema = z
  .object({
    mode: z.enum(SCHEDULE_MODES),
    intervalMinutes: z
      .number()
      .int()
      .min(1, 'the interval is at least 1 minute')
      .max(7 * 24 * 60)
      .nullable()
      .default(null),
    dailyTimes: z.array(hhmm).max(48).default([]),
    timeZone: z
      .string()
      .refine(isTimeZone, 'unknown time zone (use an IANA name such as Europe/Berlin)')
      .default('UTC'),
    /** Inspection runs older than this are deleted. */
    retentionDays: z.number().int().min(1).max(3650).default(30),
    /** Probes of a scheduled run spread over this much of the interval, so they do not burst. */
    spreadSeconds: z.number().int().min(0).max(3600).default(0),
  })
  .superRefine((s, ctx) => {
    if (s.mode === 'interval' && s.intervalMinutes == null)
      ctx.addIssue({ code: 'custom', message: 'interval mode needs intervalMinutes' });
    if (s.mode === 'daily' && s.dailyTimes.length === 0)
      ctx.addIssue({ code: 'custom', message: 'daily mode needs at least one HH:MM time' });
  });

export type Schedule = z.infer<typeof scheduleSchema>;
export const DEFAULT_SCHEDULE: Schedule = {
  mode: 'off',
  intervalMinutes: null,
  dailyTimes: [],
  timeZone: 'UTC',
  retentionDays: 30,
  spreadSeconds: 0,
};

/** The first slot strictly after `after` (ms), or null when the schedule is off. */
export function nextSlot(schedule: Schedule, after: number): number | null {
  if (schedule.mode === 'off') return null;
  if (schedule.mode === 'interval') {
    const step = (schedule.intervalMinutes ?? 60) * 60_000;
    return (Math.floor(after / step) + 1) * step;
  }
  let best: number | null = null;
  for (const time of schedule.dailyTimes) {
    const [h, m] = time.split(':');
    const next = new Cron(`${Number(m)} ${Number(h)} * * *`, { timezone: schedule.timeZone }).nextRun(new Date(after));
    if (next && (best == null || next.getTime() < best)) best = next.getTime();
  }
  return best;
}

/** The latest slot at or before `now`, for deciding whether a slot was missed or is due. */
export function currentSlot(schedule: Schedule, now: number): number | null {
  if (schedule.mode === 'off') return null;
  if (schedule.mode === 'interval') {
    const step = (schedule.intervalMinutes ?? 60) * 60_000;
    return Math.floor(now / step) * step;
  }
  // Daily: the latest point within the last 24 hours.
  const next = nextSlot(schedule, now - 24 * 3600_000 - 1);
  let slot: number | null = null;
  for (let t = next; t != null && t <= now; t = nextSlot(schedule, t)) slot = t;
  return slot;
}

export function describeSchedule(s: Schedule): string {
  if (s.mode === 'off') return 'off';
  if (s.mode === 'interval') return `every ${s.intervalMinutes} minute(s)`;
  return `daily at ${s.dailyTimes.join(', ')} (${s.timeZone})`;
}
