// Issue 5 item 5: the cached `report --json` for 1000 accounts, as a ratio to `node -e 0` process
// time (target ≤ 1.5×). The store is filled through the product's own repositories; the report
// itself runs as a real CLI process, as an operator or cron would run it.
// Smaller runs: BENCH_REPORT_ACCOUNTS=200 npm run bench -- report
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveConfig } from '../src/core/config.ts';
import { Fleet } from '../src/core/fleet.ts';
import type { ProbeResult } from '../src/domain/quota.ts';
import { startSimulator } from '../src/sim/index.ts';
import type { BenchRow } from './types.ts';

const ACCOUNTS = Number(process.env.BENCH_REPORT_ACCOUNTS) || 1000;
const RUNS = 5;
const run = promisify(execFile);
const cli = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');

async function medianMs(args: string[]): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function probeAt(at: number, used5h: number, usedWeek: number): ProbeResult {
  const fetchedAt = new Date(at).toISOString();
  const window = (kind: '5h' | 'weekly', used: number, seconds: number) => ({
    kind,
    scope: kind === '5h' ? ('primary' as const) : ('secondary' as const),
    limitName: null,
    usedPercent: used,
    remainingPercent: 100 - used,
    windowSeconds: seconds,
    resetAfterSeconds: seconds / 2,
    resetsAt: new Date(at + (seconds / 2) * 1000).toISOString(),
  });
  return {
    state: 'ok',
    reason: 'quota_available',
    httpStatus: 200,
    errorCode: null,
    message: null,
    snapshot: {
      plan: 'plus',
      allowed: true,
      limitReached: false,
      rateLimitReachedType: null,
      windows: [window('5h', used5h, 18000), window('weekly', usedWeek, 604800)],
      credits: { hasCredits: null, unlimited: null, balance: null },
      fetchedAt,
    },
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: false,
    source: 'network',
    fetchedAt,
    attempts: 1,
    usagePath: '/wham/usage',
  };
}

export default async function reportBench(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'codex-fleet-bench-report-'));
  const sim = await startSimulator({ count: ACCOUNTS });
  try {
    const accountDir = join(dir, 'account');
    const dataDir = join(dir, 'data');
    // Only the auth files come from the simulator; no request is made to it.
    await sim.writeAuthFiles(accountDir, 'cpa');
    const fleet = await Fleet.open(resolveConfig({ dataDir, accountDir }, {}));
    try {
      const { accounts } = await fleet.accounts();
      const now = Date.now();
      for (const [i, a] of accounts.entries()) {
        await fleet.repos.snapshots.insertProbe(a.id, probeAt(now - 60_000, i % 100, (i * 7) % 100));
      }
    } finally {
      await fleet.close();
    }
    const args = [cli, 'report', '--json', '--data-dir', dataDir, '--account-dir', accountDir];
    const { stdout } = await run(process.execPath, args, { maxBuffer: 64 * 1024 * 1024 });
    const shown = (JSON.parse(stdout) as { accounts: unknown[] }).accounts.length;
    if (shown !== ACCOUNTS) throw new Error(`report showed ${shown} of ${ACCOUNTS} accounts`);

    // In-process: the store read plus the pure builder, without process startup.
    const inProcess = await Fleet.open(resolveConfig({ dataDir, accountDir }, {}));
    let buildMs: number;
    try {
      const started = performance.now();
      await inProcess.healthReport();
      buildMs = performance.now() - started;
    } finally {
      await inProcess.close();
    }

    const baseline = await medianMs(['-e', '0']);
    const startup = await medianMs([cli, '--version']);
    const report = await medianMs(args);
    const ratio = report / baseline;
    return [
      { name: 'report: `node -e 0` (baseline)', value: baseline, unit: 'ms' },
      { name: 'report: `codex-fleet --version` (CLI startup)', value: startup, unit: 'ms' },
      { name: `report: healthReport() in process, ${ACCOUNTS} accounts`, value: buildMs, unit: 'ms' },
      { name: `report: cached report --json, ${ACCOUNTS} accounts`, value: report, unit: 'ms' },
      { name: 'report: cached report / node -e 0', value: ratio, unit: '×', target: '≤ 1.5', ok: ratio <= 1.5 },
    ];
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
