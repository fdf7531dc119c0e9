// Live quota sweep through probeAll against the simulator: N accounts at a fixed latency and a
// concurrency limit. Target: wall time ≤ 1.15 × N × latency / concurrency.
// Smaller runs: BENCH_QUOTA_ACCOUNTS=200 npm run bench -- quota
import type { ScenarioName } from '../src/sim/index.ts';
import { startSimulator } from '../src/sim/index.ts';
import { probeAll } from '../src/upstream/probe-runner.ts';
import type { UsagePathMemory } from '../src/upstream/usage-paths.ts';
import type { BenchRow } from './types.ts';

const N = Number(process.env.BENCH_QUOTA_ACCOUNTS) || 1000;
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

export default async function quotaBench(): Promise<BenchRow[]> {
  const sim = await startSimulator({
    accounts: Array.from({ length: N }, (_, i) => ({ scenario: MIX[i % MIX.length] })),
    latency: LATENCY_MS,
  });
  try {
    const targets = sim.accounts.map((a) => ({ name: a.name, accessToken: a.accessToken, accountId: a.id }));
    const pathMemory: UsagePathMemory = {};
    const started = performance.now();
    const results = await probeAll(targets, { chatgptUrl: sim.chatgptUrl, concurrency: CONCURRENCY, pathMemory });
    const wallMs = performance.now() - started;
    const idealMs = (N * LATENCY_MS) / CONCURRENCY;
    const ratio = wallMs / idealMs;
    const answered = results.filter((r) => r.state === 'ok' || r.state === 'exhausted').length;
    const stats = sim.stats();
    // maxRSS is in KiB; the simulator runs in this process too, so this is an upper bound.
    const peakRssMb = process.resourceUsage().maxRSS / 1024;
    return [
      {
        name: `quota sweep: accounts (latency ${LATENCY_MS} ms, concurrency ${CONCURRENCY})`,
        value: N,
        unit: 'accounts',
      },
      { name: 'quota sweep: wall time', value: wallMs / 1000, unit: 's' },
      { name: 'quota sweep: ideal N × latency / concurrency', value: idealMs / 1000, unit: 's' },
      { name: 'quota sweep: ratio wall / ideal', value: ratio, unit: '×', target: '≤ 1.15', ok: ratio <= 1.15 },
      {
        name: 'quota sweep: accounts answered',
        value: answered,
        unit: 'accounts',
        target: `= ${N}`,
        ok: answered === N,
      },
      {
        name: 'quota sweep: peak requests in flight (one IP)',
        value: stats.peakInFlightPerIp,
        unit: 'requests',
        target: `≤ ${CONCURRENCY}`,
        ok: stats.peakInFlightPerIp <= CONCURRENCY,
      },
      { name: 'quota sweep: peak RSS (bench + simulator)', value: peakRssMb, unit: 'MB' },
    ];
  } finally {
    await sim.close();
  }
}
