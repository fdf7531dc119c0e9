// The dashboard's server over the real core and the simulator (as `serve --demo` runs it): how fast
// the page data answers, how fast a change reaches many open dashboards over SSE, and that a burst of
// refresh requests costs one refresh. BENCH_SERVER_ACCOUNTS=200 npm run bench -- server

import { startDemoServer } from '../test/support/demo-server.ts';
import { ApiClient } from '../test/support/fleet-server.ts';
import type { BenchRow } from './types.ts';

const ACCOUNTS = Number(process.env.BENCH_SERVER_ACCOUNTS) || 100;
const REQUESTS = 200;
const SSE_CLIENTS = 200;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function timeGets(api: ApiClient, path: string): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    const res = await api.request('GET', path);
    await res.arrayBuffer();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b);
}

/** Opens n SSE streams; resolves each one's arrival time of the first event of `type`. */
async function openStreams(url: string, n: number, type: string) {
  const ctrl = new AbortController();
  const arrivals: Array<Promise<number>> = [];
  const ready: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const res = await fetch(`${url}/api/events`, { signal: ctrl.signal });
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let buf = '';
    let hello!: () => void;
    ready.push(new Promise((r) => (hello = r)));
    arrivals.push(
      (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return Number.NaN;
          buf += dec.decode(value);
          if (buf.includes('event: hello')) hello();
          if (buf.includes(`event: ${type}`)) return performance.now();
        }
      })(),
    );
  }
  await Promise.all(ready);
  return { arrivals, close: () => ctrl.abort() };
}

export default async function (): Promise<BenchRow[]> {
  const s = await startDemoServer(ACCOUNTS);
  try {
    const api = await new ApiClient(s.url).start();
    await api.json('POST', '/api/refresh?wait=true');
    const accounts = await timeGets(api, '/api/accounts');
    const pool = await timeGets(api, '/api/pool');
    const shell = await timeGets(api, '/');

    const streams = await openStreams(s.url, SSE_CLIENTS, 'accounts');
    const first = (await api.json<{ accounts: Array<{ id: string }> }>('GET', '/api/accounts')).body.accounts[0].id;
    const sent = performance.now();
    await api.json('POST', `/api/accounts/${encodeURIComponent(first)}/disable`);
    const got = (await Promise.all(streams.arrivals)).map((t) => t - sent).sort((a, b) => a - b);
    streams.close();

    const burst = await Promise.all(
      Array.from({ length: 50 }, () => api.json<{ status: string }>('POST', '/api/refresh')),
    );
    const started = burst.filter((r) => r.body.status === 'started').length;
    await api.json('POST', '/api/refresh?wait=true');

    return [
      { name: `GET /api/accounts p50 (${ACCOUNTS} accounts)`, value: +percentile(accounts, 50).toFixed(2), unit: 'ms' },
      { name: `GET /api/accounts p95 (${ACCOUNTS} accounts)`, value: +percentile(accounts, 95).toFixed(2), unit: 'ms' },
      { name: 'GET /api/pool p95', value: +percentile(pool, 95).toFixed(2), unit: 'ms' },
      { name: 'GET / (app shell) p95', value: +percentile(shell, 95).toFixed(2), unit: 'ms' },
      { name: `change → all ${SSE_CLIENTS} SSE clients, p95`, value: +percentile(got, 95).toFixed(2), unit: 'ms' },
      // Joined while one runs; a refresh answered from the cache can end before the burst does, so a
      // second may start after it (the no-duplicate guarantee is tested with a held probe in app.test.ts).
      { name: 'refreshes started by a burst of 50 POST /api/refresh', value: started, unit: 'refreshes' },
    ];
  } finally {
    await s.close();
  }
}
