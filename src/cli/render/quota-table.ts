import Table from 'cli-table3';
import pc from 'picocolors';
import { mainWindow, type QuotaRow } from '../../core/quota-rows.ts';
import type { AccountState } from '../../domain/quota.ts';
import { formatDuration } from '../../domain/time.ts';

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

function percent(value: number | null): string {
  return value == null ? '-' : `${Math.round(value)}%`;
}

function reset(resetsAt: string | null, resetAfterSeconds: number | null): string {
  if (resetsAt == null) return resetAfterSeconds == null ? '-' : `in ${formatDuration(resetAfterSeconds)}`;
  const d = new Date(resetsAt);
  const pad = (n: number) => String(n).padStart(2, '0');
  const local = `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return `${local} (${formatDuration(resetAfterSeconds)})`;
}

function credits(row: QuotaRow): string {
  const c = row.credits;
  if (c.unlimited) return 'unlimited';
  if (c.hasCredits == null && c.balance == null) return '-';
  if (c.hasCredits === false) return 'none';
  return c.balance ?? 'yes';
}

/** A workspace id short enough for a column (UUIDs: the first 8 characters, like git). */
function shortId(id: string | null): string {
  if (id == null) return '-';
  return id.length > 13 ? `${id.slice(0, 8)}…` : id;
}

/** The human table of `codex-fleet quota`; the JSON output comes from the same rows. */
export function renderQuotaTable(
  rows: QuotaRow[],
  colour = pc.isColorSupported && process.stdout.isTTY === true,
): string {
  const hasMonthly = rows.some((r) => mainWindow(r, 'monthly'));
  // Seats of one Team workspace: say which workspace each row is a seat of (only then: no noise otherwise).
  const workspaces = rows.map((r) => r.accountId).filter((w) => w != null);
  const hasSeats = new Set(workspaces).size < workspaces.length;
  const head = ['name', ...(hasSeats ? ['workspace'] : []), 'plan', '5h left', 'weekly left', 'weekly reset'];
  if (hasMonthly) head.push('monthly left', 'monthly reset');
  head.push('credits', 'state', 'source');
  const table = new Table({ head, style: colour ? { head: ['cyan'] } : { head: [], border: [] } });
  for (const row of rows) {
    const five = mainWindow(row, '5h');
    const week = mainWindow(row, 'weekly');
    const cells = [
      row.name,
      ...(hasSeats ? [shortId(row.accountId)] : []),
      row.plan ?? '-',
      percent(five?.remainingPercent ?? null),
      percent(week?.remainingPercent ?? null),
      week ? reset(week.resetsAt, week.resetAfterSeconds) : '-',
    ];
    if (hasMonthly) {
      const month = mainWindow(row, 'monthly');
      cells.push(
        percent(month?.remainingPercent ?? null),
        month ? reset(month.resetsAt, month.resetAfterSeconds) : '-',
      );
    }
    const state = row.state === 'ok' ? 'ok' : `${row.state} (${row.reason})`;
    cells.push(
      credits(row),
      colour ? STATE_COLOUR[row.state](state) : state,
      row.stale ? `${row.source}, stale` : row.source,
    );
    table.push(cells);
  }
  return table.toString();
}
