// Start-up of the installed CLI (dist/, built first) as a ratio to `node -e 0` on the same Node, paired run
// by run: each run times the baseline and then every command, so a busy machine slows both alike and the
// median of the per-run ratios is what is reported. Targets (issue 14): --help ≤ 2×, cached
// `report --json` for 1000 accounts ≤ 3×. The compile cache and the parsed-account cache are warmed first
// (and checked: every quota row from the snapshot cache, every auth file in the parsed-account cache).
// Smaller runs: BENCH_STARTUP_ACCOUNTS=200 BENCH_STARTUP_RUNS=5 npm run bench -- startup
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FRESH_MS } from '../src/accounts/parsed-cache.ts';
import { resolveConfig } from '../src/core/config.ts';
import { Fleet } from '../src/core/fleet.ts';
import { startSimulator } from '../src/sim/index.ts';
import { openStore } from '../src/store/open.ts';
import { probeAt } from './report.bench.ts';
import type { BenchRow } from './types.ts';

const ACCOUNTS = Number(process.env.BENCH_STARTUP_ACCOUNTS) || 1000;
const RUNS = Number(process.env.BENCH_STARTUP_RUNS) || 9;
const root = join(import.meta.dirname, '..');
const bin = join(root, 'dist', 'codex-fleet.js');

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function startupBench(): Promise<BenchRow[]> {
  execFileSync(process.execPath, [join(root, 'scripts', 'build.ts')], { stdio: 'ignore' });
  const dir = await mkdtemp(join(tmpdir(), 'codex-fleet-bench-startup-'));
  const sim = await startSimulator({ count: ACCOUNTS });
  try {
    const accountDir = join(dir, 'account');
    const dataDir = join(dir, 'data');
    await sim.writeAuthFiles(accountDir, 'cpa');
    // Upstream is the simulator, so a cache miss would be a loopback probe (and is detected below).
    const store = [
      '--data-dir',
      dataDir,
      '--account-dir',
      accountDir,
      '--chatgpt-url',
      sim.chatgptUrl,
      '--auth-url',
      sim.authUrl,
    ];
    const fill = async () => {
      const fleet = await Fleet.open(resolveConfig({ dataDir, accountDir }, {}));
      try {
        const { accounts } = await fleet.accounts();
        const now = Date.now();
        for (const [i, a] of accounts.entries())
          await fleet.repos.snapshots.insertProbe(a.id, probeAt(now, i % 100, (i * 7) % 100));
      } finally {
        await fleet.close();
      }
    };
    await fill();
    const commands: Record<string, string[]> = {
      '--version': ['--version'],
      '--help': ['--help'],
      [`report --json, cached, ${ACCOUNTS} accounts`]: ['report', '--json', ...store],
      [`quota --json, cached, ${ACCOUNTS} accounts`]: ['quota', '--json', ...store],
    };
    const env = { ...process.env, NODE_COMPILE_CACHE: join(dir, 'compile-cache') };
    // stdout is a pipe this process reads, as for a script (`report --json | jq`, cron capturing the output):
    // /dev/null, which nobody reads, would be a terminal-like character device to the CLI's JSON rule.
    const time = (args: string[]) => {
      const started = performance.now();
      execFileSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'], env, maxBuffer: 1 << 26 });
      return performance.now() - started;
    };
    for (const args of Object.values(commands)) time([bin, ...args]); // warm the compile cache
    // The cached report answers unchanged auth files from the parsed-account cache; files written less than
    // FRESH_MS ago are read every run, so warm again until every file is in it (a real fleet's files are old).
    const cachedFiles = async () => {
      const db = await openStore({ dataDir });
      try {
        const row = await db.get<{ value: string }>("SELECT value FROM auth_file_cache WHERE scope = 'files'");
        return row ? (JSON.parse(row.value) as { entries: unknown[] }).entries.length : 0;
      } finally {
        await db.close();
      }
    };
    const warmUntil = Date.now() + 4 * FRESH_MS;
    while ((await cachedFiles()) < ACCOUNTS) {
      if (Date.now() > warmUntil)
        throw new Error(`the parsed-account cache holds ${await cachedFiles()} of ${ACCOUNTS} files`);
      await new Promise((r) => setTimeout(r, FRESH_MS / 4));
      time([bin, ...commands[`report --json, cached, ${ACCOUNTS} accounts`]]);
    }
    const base: number[] = [];
    const ms: Record<string, number[]> = {};
    const ratio: Record<string, number[]> = {};
    for (let run = 0; run < RUNS; run++) {
      const b = time(['-e', '0']);
      base.push(b);
      for (const [name, args] of Object.entries(commands)) {
        const t = time([bin, ...args]);
        ms[name] = [...(ms[name] ?? []), t];
        ratio[name] = [...(ratio[name] ?? []), t / b];
      }
    }
    // The quota runs must have been answered from the cache (a fresh probe would not be a start-up time).
    const rows = JSON.parse(
      execFileSync(process.execPath, [bin, 'quota', '--json', ...store], { env, maxBuffer: 1 << 26 }).toString(),
    ) as { source: string }[];
    const cached = rows.filter((r) => r.source === 'cache').length;
    if (cached !== ACCOUNTS) throw new Error(`quota answered ${cached} of ${ACCOUNTS} accounts from the cache`);
    const targets: Record<string, number> = { '--help': 2, [`report --json, cached, ${ACCOUNTS} accounts`]: 3 };
    const out: BenchRow[] = [
      { name: `startup: node -e 0 (${process.version}, baseline)`, value: median(base), unit: 'ms' },
    ];
    for (const name of Object.keys(commands)) {
      out.push({ name: `startup: ${name}`, value: median(ms[name]), unit: 'ms' });
      const r = median(ratio[name]);
      const target = targets[name];
      out.push({
        name: `startup: ${name} / node -e 0`,
        value: r,
        unit: '×',
        ...(target ? { target: `≤ ${target}`, ok: r <= target } : {}),
      });
    }
    return out;
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
