// The human table of `codex-fleet quota` (the JSON output comes from the same rows): each window's
// remaining % with its reset, when a rate-limited account can serve again, and a layout that fits the
// terminal: a wide one with dates, and under NARROW_BELOW columns a compact one with countdowns only.
import Table from 'cli-table3';
import pc from 'picocolors';
import { mainWindow, type QuotaRow, type QuotaRowWindow } from '../../core/quota-rows.ts';
import type { AccountState, QuotaWindow } from '../../domain/quota.ts';
import { formatDuration } from '../../domain/time.ts';

/** Terminals narrower than this get the compact layout. */
export const NARROW_BELOW = 120;

const STATE_COLOUR: Record<AccountState, (s: string) => string> = {
  ok: pc.green,
  exhausted: pc.yellow,
  auth_expired: pc.yellow,
  auth_invalid: pc.red,
  workspace_deactivated: pc.red,
  blocked: pc.red,
  no_codex: pc.red,
  unknown: pc.dim,
};

export interface QuotaTableOptions {
  colour?: boolean;
  /** Terminal columns; undefined (not a terminal) means no limit and the wide layout. */
  width?: number;
  /** For countdowns; rows carry absolute reset times. */
  now?: number;
}

function percent(value: number | null): string {
  return value == null ? '-' : `${Math.round(value)}%`;
}

function secondsUntil(iso: string, now: number): number {
  return Math.max(0, Math.round((Date.parse(iso) - now) / 1000));
}

function countdown(w: Pick<QuotaRowWindow, 'resetsAt' | 'resetAfterSeconds'>, now: number): number | null {
  return w.resetsAt != null ? secondsUntil(w.resetsAt, now) : w.resetAfterSeconds;
}

function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** Wide: "05-12 14:00 (2h 5m)"; narrow: "2h 5m". */
function reset(w: QuotaRowWindow | null, now: number, wide: boolean): string {
  if (!w) return '-';
  const left = countdown(w, now);
  if (left == null) return '-';
  return wide && w.resetsAt ? `${localTime(w.resetsAt)} (${formatDuration(left)})` : formatDuration(left);
}

/** A workspace id short enough for a column (UUIDs: the first 8 characters, like git). */
function shortId(id: string | null): string {
  if (id == null) return '-';
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

function credits(row: QuotaRow): string {
  const c = row.credits;
  if (c.unlimited) return 'unlimited';
  if (c.hasCredits == null && c.balance == null) return '-';
  if (c.hasCredits === false) return 'none';
  return c.balance ?? 'yes';
}

function state(row: QuotaRow, now: number, wide: boolean): string {
  let text = row.state === 'ok' ? 'ok' : `${row.state} (${row.reason})`;
  if (row.limitResetsAt) {
    const left = formatDuration(secondsUntil(row.limitResetsAt, now));
    // Its own line, so a narrow state column wraps between facts rather than inside them.
    text += wide ? `\nresets ${localTime(row.limitResetsAt)} (${left})` : `\nresets in ${left}`;
  }
  return text;
}

export function renderQuotaTable(rows: QuotaRow[], options: QuotaTableOptions = {}): string {
  const colour = options.colour ?? (pc.isColorSupported && process.stdout.isTTY === true);
  const width = options.width ?? (process.stdout.isTTY ? process.stdout.columns : undefined);
  const now = options.now ?? Date.now();
  if (width == null) return layout(rows, now, colour, true)!.toString();
  // The wide layout when the terminal has room for it, else the compact one, squeezed as far as it goes.
  const wide = width >= NARROW_BELOW ? layout(rows, now, colour, true, width) : null;
  return (wide ?? layout(rows, now, colour, false, width) ?? layout(rows, now, colour, false, width, true)!).toString();
}

/** The table in one layout, or null when it cannot be made `width` wide (unless `squeeze`). */
function layout(rows: QuotaRow[], now: number, colour: boolean, wide: boolean, width?: number, squeeze = false) {
  const kinds: QuotaWindow['kind'][] = ['5h', 'weekly'];
  if (rows.some((r) => mainWindow(r, 'monthly'))) kinds.push('monthly');

  // Seats of one Team workspace: say which workspace each row is a seat of (only then: no noise otherwise).
  const workspaces = rows.map((r) => r.accountId).filter((w) => w != null);
  const hasSeats = new Set(workspaces).size < workspaces.length;

  const head = ['name', ...(hasSeats ? ['workspace'] : []), 'plan'];
  for (const kind of kinds) head.push(wide ? `${kind} left` : kind, wide ? `${kind} reset` : 'reset');
  head.push(...(wide ? ['credits', 'state', 'source'] : ['state']));

  const body = rows.map((row) => {
    const cells = [
      row.stale ? `${row.name} (stale)` : row.name,
      ...(hasSeats ? [shortId(row.accountId)] : []),
      row.plan ?? '-',
    ];
    for (const kind of kinds) {
      const w = mainWindow(row, kind);
      cells.push(percent(w?.remainingPercent ?? null), reset(w, now, wide));
    }
    const st = state(row, now, wide);
    cells.push(colour ? STATE_COLOUR[row.state](st) : st);
    if (wide) cells.splice(cells.length - 1, 0, credits(row));
    if (wide) cells.push(row.source);
    return cells;
  });

  let fit = {};
  if (width != null) {
    const widths = fitColumns(head, body, width, colour, squeeze);
    if (!widths) return null;
    fit = { colWidths: widths, wordWrap: true };
  }
  const table = new Table({ head, style: colour ? { head: ['cyan'] } : { head: [], border: [] }, ...fit });
  for (const cells of body) table.push(cells);
  return table;
}

/**
 * Column widths so the table is at most `width` wide: the name and state columns (the long free text)
 * give up space first and wrap; the short numeric columns keep theirs. Null when that is not enough,
 * unless `squeeze` (a very narrow terminal), where the free-text columns shrink further.
 */
function fitColumns(head: string[], body: string[][], width: number, colour: boolean, squeeze: boolean) {
  const visible = (s: string) =>
    Math.max(...(colour ? s.replace(/\x1b\[[0-9;]*m/g, '') : s).split('\n').map((line) => line.length));
  // Each column: content + 1 space padding either side, plus 1 border each and 1 for the last border.
  const natural = head.map((h, i) => Math.max(visible(h), ...body.map((r) => visible(r[i]))) + 2);
  const total = () => natural.reduce((a, b) => a + b + 1, 1);
  const stateCol = head.indexOf('state');
  const floor = squeeze ? 8 : 0;
  for (const [col, min] of [
    [stateCol, squeeze ? floor : 25],
    [0, squeeze ? floor : 14],
  ]) {
    const excess = total() - width;
    if (excess <= 0) break;
    natural[col] = Math.max(min, natural[col] - excess);
  }
  return total() <= width || squeeze ? natural : null;
}
