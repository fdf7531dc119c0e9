// The simulator's own cost, so other benchmarks know it is not their bottleneck: raw usage
// throughput, the overhead it adds on top of a configured latency, and token refresh throughput.
// Smaller runs: BENCH_SIM_REQUESTS=1000 npm run bench -- sim
import pLimit from 'p-limit';
import { startSimulator } from '../src/sim/index.ts';
import type { BenchRow } from './types.ts';

const REQUESTS = Number(process.env.BENCH_SIM_REQUESTS) || 5000;
const LATENCY_MS = 300;

async function timed(n: number, concurrency: number, one: (i: number) => Promise<void>) {
  const limit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => limit(() => one(i))));
  return performance.now() - started;
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export default async function simBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const sim = await startSimulator({ count: 100 });
  try {
    const tokens = sim.accounts.filter((a) => a.scenario === 'healthy').map((a) => a.accessToken);
    const usage = async (i: number) => {
      const res = await fetch(`${sim.chatgptUrl}/wham/usage`, {
        headers: { authorization: `Bearer ${tokens[i % tokens.length]}`, originator: 'codex_cli_rs' },
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`usage answered ${res.status}`);
    };
    const ms = await timed(REQUESTS, 50, usage);
    rows.push({ name: `sim: usage requests (no latency, concurrency 50)`, value: REQUESTS, unit: 'requests' });
    // Client (fetch) and server share this process, so this is a lower bound for the server alone.
    rows.push({
      name: 'sim: usage throughput (client + server, one process)',
      value: REQUESTS / (ms / 1000),
      unit: 'req/s',
    });

    const refreshable = sim.accounts.filter((a) => a.scenario === 'healthy' || a.scenario === 'pro');
    const refreshes = 1000;
    const refreshMs = await timed(refreshes, 20, async (i) => {
      const a = refreshable[i % refreshable.length];
      const res = await fetch(sim.authUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: a.refreshToken }),
      });
      await res.arrayBuffer();
      // Twenty in flight over a few accounts: some lose the race and see refresh_token_reused, as upstream.
      if (res.status !== 200 && res.status !== 401) throw new Error(`token endpoint answered ${res.status}`);
    });
    rows.push({ name: 'sim: token endpoint throughput', value: refreshes / (refreshMs / 1000), unit: 'req/s' });
  } finally {
    await sim.close();
  }

  const slow = await startSimulator({ accounts: [{ scenario: 'healthy' }], latency: LATENCY_MS });
  try {
    const token = slow.accounts[0].accessToken;
    const overheads: number[] = [];
    await timed(200, 20, async () => {
      const t = performance.now();
      const res = await fetch(`${slow.chatgptUrl}/wham/usage`, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      overheads.push(performance.now() - t - LATENCY_MS);
    });
    overheads.sort((a, b) => a - b);
    const p95 = quantile(overheads, 0.95);
    // The quota benchmark allows 15% above N × latency / concurrency: at 300 ms that is 45 ms a request.
    rows.push({
      name: `sim: overhead above ${LATENCY_MS} ms latency, p50`,
      value: quantile(overheads, 0.5),
      unit: 'ms',
    });
    rows.push({
      name: `sim: overhead above ${LATENCY_MS} ms latency, p95`,
      value: p95,
      unit: 'ms',
      target: '≤ 45 (15% of latency)',
      ok: p95 <= 45,
    });
  } finally {
    await slow.close();
  }
  return rows;
}
