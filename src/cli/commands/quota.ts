// `codex-fleet quota [name]`: codex-quota's command, every option kept, over the programmatic core.
import type { Command } from 'commander';
import type { QuotaCheckResult } from '../../core/fleet.ts';
import { type QuotaRow, rowKeepingLastGood } from '../../core/quota-rows.ts';
import { jsonOutput } from '../json-output.ts';
import { renderQuotaTable } from '../render/quota-table.ts';
import { addFleetOptions, addProbeOptions, type CommonOptions, progressReporter, runCommand } from '../shared-args.ts';
import { withDemo } from './demo-env.ts';

interface QuotaOptions extends CommonOptions {
  rawJson?: boolean;
  rawHeaders?: boolean;
  refresh?: boolean;
  demo?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('quota')
    .argument('[name]', 'only this account (file name without .auth.json/.json, email or id)')
    .description('Quota of every account: plan, 5h/weekly/monthly remaining, resets, credits, state')
    .option('--json', 'print the rows as JSON (stable contract, see README)')
    .option('--raw-json', 'print the raw upstream JSON body per account (may contain personal data)')
    .option('--raw-headers', 'print the raw upstream response headers per account')
    .option('--refresh', 'ignore the cache and ask upstream now')
    .option('--demo', 'run against the built-in simulator with demo accounts');
  addFleetOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (name: string | undefined, options: QuotaOptions) => {
    process.exitCode = await withDemo(options, (opts) => runQuota(name, opts));
  });
}

export async function runQuota(name: string | undefined, options: QuotaOptions): Promise<number> {
  return runCommand('quota', options, async (fleet) => {
    const config = fleet.config;
    const loaded = await fleet.loadAccounts();
    for (const e of loaded.errors) console.error(`codex-fleet: skipped ${e.message}`);
    if (loaded.accounts.length === 0) {
      console.error(
        `codex-fleet quota: no accounts found. Put auth files in ${config.accountDir} (or pass --account-dir), ` +
          'or import one with `codex-fleet accounts import <path>`.',
      );
      return 1;
    }
    const result: QuotaCheckResult = await fleet.checkQuota({
      names: name ? [name] : undefined,
      force: options.refresh,
      tokenRefresh: 'never',
      captureRaw: options.rawJson || options.rawHeaders,
      onProgress: progressReporter('checking quota', loaded.accounts.length > 10 && !options.json),
    });
    if (name && result.checks.length === 0) {
      console.error(
        `codex-fleet quota: no account named "${name}". Known: ${loaded.accounts.map((a) => a.name).join(', ')}`,
      );
      return 1;
    }
    if (options.rawJson || options.rawHeaders) {
      printRaw(result, options);
    } else {
      const now = fleet.clock();
      const rows: QuotaRow[] = result.checks.map((c) => rowKeepingLastGood(c.account, c.result, c.lastGood, now));
      console.log(options.json ? jsonOutput(rows) : renderQuotaTable(rows, { now }));
    }
    const unread = result.checks.filter((c) => c.result.transient);
    if (unread.length > 0 && !options.json) {
      console.error(
        `codex-fleet quota: ${unread.length} account(s) could not be read now (${unread.map((c) => `${c.account.name}: ${c.result.reason}`).join(', ')})`,
      );
    }
    return unread.length > 0 || result.errors.length > 0 ? 1 : 0;
  });
}

function printRaw(result: QuotaCheckResult, options: QuotaOptions): void {
  const out = result.checks.map((c) => {
    const raw = c.result.raw;
    const entry: Record<string, unknown> = { name: c.account.name, status: raw?.status ?? null };
    if (options.rawHeaders) entry.headers = raw?.headers ?? null;
    if (options.rawJson) {
      try {
        entry.body = raw?.body == null ? null : JSON.parse(raw.body);
      } catch {
        entry.body = raw?.body ?? null;
      }
    }
    if (!raw) entry.note = c.fromCache ? 'answered from cache' : 'no upstream answer';
    return entry;
  });
  console.log(jsonOutput(out));
}
