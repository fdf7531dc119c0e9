// CPA through its management API (the REAL CPA v7.2.140 from ../shared/cpa): the cost of one
// authenticated call (CPA bcrypt-checks the key every request), listing N auth files, and a
// server-inspection sweep of N accounts via api-call at 300 ms upstream latency, concurrency 5.
// Smaller runs: BENCH_CPA_ACCOUNTS=50 npm run bench -- cpa
import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import { CpaClient } from '../src/cpa/client.ts';
import { loadCpaAccounts } from '../src/cpa/source.ts';
import { probeCpaAccounts } from '../src/cpa/sweep.ts';
import { startSimulator } from '../src/sim/index.ts';
import { startCpa, waitForAuthFiles } from '../test/support/cpa.ts';
import type { BenchRow } from './types.ts';

const N = Number(process.env.BENCH_CPA_ACCOUNTS) || 200;
const LATENCY_MS = 300;
const CONCURRENCY = 5;
/** The CPA client's own cap (ban safety: fewer than 5 requests in flight per server). */
const CPA_IN_FLIGHT = 4;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export default async function cpaBench(): Promise<BenchRow[]> {
  const sim = await startSimulator({
    accounts: Array.from({ length: N }, (_, i) => ({ scenario: i % 5 === 0 ? 'exhausted' : 'healthy' })),
    latency: LATENCY_MS,
  });
  const cpa = await startCpa();
  try {
    const client = new CpaClient({ name: 'bench', url: cpa.url, managementKey: cpa.key });
    const names = (await sim.writeAuthFiles(cpa.authDir, 'cpa', { farExpiry: true })).map((p) => basename(p));
    await waitForAuthFiles(cpa, names, { timeoutMs: 60_000 });

    const callMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      const r = await client.listAuthFiles({ name: names[0] });
      if (!r.ok) throw new Error(r.error.message);
      callMs.push(performance.now() - t);
    }
    let t = performance.now();
    const accounts = await loadCpaAccounts(client);
    const listMs = performance.now() - t;
    if (!accounts.ok || accounts.value.length !== N) throw new Error('listing incomplete');

    t = performance.now();
    const results = await probeCpaAccounts(client, accounts.value, {
      chatgptUrl: sim.chatgptUrl,
      concurrency: CONCURRENCY,
    });
    const sweepMs = performance.now() - t;
    const idealMs = (N * LATENCY_MS) / Math.min(CONCURRENCY, CPA_IN_FLIGHT);
    const answered = results.filter((r) => r.state === 'ok' || r.state === 'exhausted').length;
    return [
      { name: 'CPA management call (key check), median of 20', value: median(callMs), unit: 'ms' },
      { name: `CPA list ${N} auth files → accounts`, value: listMs, unit: 'ms' },
      {
        name: `CPA inspection sweep, ${N} accounts via api-call`,
        value: sweepMs / 1000,
        unit: 's',
        target: `ideal ${(idealMs / 1000).toFixed(1)} s (N×${LATENCY_MS} ms/${Math.min(CONCURRENCY, CPA_IN_FLIGHT)} in flight)`,
      },
      { name: 'CPA sweep ratio to ideal', value: sweepMs / idealMs, unit: '×' },
      {
        // CPA bcrypt-checks the key on every api-call: with few cores that CPU, not latency, bounds a sweep.
        name: `CPA key-check CPU floor (N × median call / ${availableParallelism()} cores)`,
        value: (N * median(callMs)) / availableParallelism() / 1000,
        unit: 's',
      },
      { name: 'CPA sweep answered (ok or exhausted)', value: `${answered}/${N}`, unit: '', ok: answered === N },
    ];
  } finally {
    await cpa.stop();
    await sim.close();
  }
}
