// Live quota sweeps through probeAll against the simulator: N accounts at a fixed latency and a
// concurrency limit. Target: wall time ≤ 1.15 × N × latency / concurrency.
// 1000 accounts is issue 3's benchmark; 50 is DESIGN.md's live-report case, where ramp-up costs most.
// Smaller runs: BENCH_QUOTA_ACCOUNTS=200 npm run bench -- quota
import type { ScenarioName } from '../src/sim/index.ts';
import { startSimulator } from '../src/sim/index.ts';
import { probeAll } from '../src/upstream/probe-runner.ts';
import type { UsagePathMemory } from '../src/upstream/usage-paths.ts';
import type { BenchRow } from './types.ts';

const LATENCY_MS = 300;
const CONCURRENCY = 5;
/** Scenarios that answer in one request, so the sweep measures the engine, not retries. */
const MIX: ScenarioName[] = [
  'healthy',
  'weekly-only-free',
  'team-monthly',
  'pro',
  'exhausted',
  'legacy-fields',
  'credits',
];

async function sweep(n: number): Promise<BenchRow[]> {
  const sim = await startSimulator({
    accounts: Array.from({ length: n }, (_, i) => ({ scenario: MIX[i % MIX.length] })),
    latency: LATENCY_MS,
  });
  try {
    const targets = sim.accounts.map((a) => ({ name: a.name, accessToken: a.accessToken, accountId: a.id }));
    const pathMemory: UsagePathMemory = {};
    // Untimed warm-up (one probe per connection): the in-process simulator's and the HTTP client's
    // first-call compile (~0.4 s) is not the sweep's scheduling, which is what the ratio measures.
    await probeAll(targets.slice(0, CONCURRENCY), { chatgptUrl: sim.chatgptUrl, concurrency: CONCURRENCY, pathMemory });
    const started = performance.now();
    const results = await probeAll(targets, { chatgptUrl: sim.chatgptUrl, concurrency: CONCURRENCY, pathMemory });
    const wallMs = performance.now() - started;
    const idealMs = (n * LATENCY_MS) / CONCURRENCY;
    const ratio = wallMs / idealMs;
    const answered = results.filter((r) => r.state === 'ok' || r.state === 'exhausted').length;
    const peak = sim.stats().peakInFlightPerIp;
    const label = `quota sweep N=${n}`;
    return [
      {
        name: `${label}: wall time (latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY})`,
        value: wallMs / 1000,
        unit: 's',
      },
      { name: `${label}: ideal N × latency / concurrency`, value: idealMs / 1000, unit: 's' },
      { name: `${label}: ratio wall / ideal`, value: ratio, unit: '×', target: '≤ 1.15', ok: ratio <= 1.15 },
      { name: `${label}: accounts answered`, value: answered, unit: 'accounts', target: `= ${n}`, ok: answered === n },
      {
        name: `${label}: peak requests in flight (one IP)`,
        value: peak,
        unit: 'requests',
        target: `≤ ${CONCURRENCY}`,
        ok: peak <= CONCURRENCY,
      },
    ];
  } finally {
    await sim.close();
  }
}

export default async function quotaBench(): Promise<BenchRow[]> {
  const big = Number(process.env.BENCH_QUOTA_ACCOUNTS) || 1000;
  const rows = [...(await sweep(50)), ...(await sweep(big))];
  // maxRSS is in KiB; the simulator runs in this process too, so this is an upper bound.
  rows.push({
    name: 'quota sweep: peak RSS (bench + simulator)',
    value: process.resourceUsage().maxRSS / 1024,
    unit: 'MB',
  });
  return rows;
}
