// The simulator's own cost, so other benchmarks know it is not their bottleneck. The simulator runs
// as `codex-fleet sim` in a child process, so its CPU time is measured apart from the client's.
// Smaller runs: BENCH_SIM_REQUESTS=1000 npm run bench -- sim
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import pLimit from 'p-limit';
import type { BenchRow } from './types.ts';

const REQUESTS = Number(process.env.BENCH_SIM_REQUESTS) || 5000;
const LATENCY_MS = 300;
const MAIN = join(import.meta.dirname, '../src/cli/main.ts');

interface Running {
  child: ChildProcess;
  chatgptUrl: string;
  authUrl: string;
  accounts: Array<{ accessToken: string; refreshToken: string }>;
}

async function startSim(args: string[]): Promise<Running> {
  const child = spawn(process.execPath, [MAIN, 'sim', '--json', '--format', 'cpa', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`codex-fleet sim exited with ${code}`)));
  });
  const out = JSON.parse(line) as { chatgptUrl: string; authUrl: string; files: string[] };
  const accounts = out.files.map((f) => {
    const file = JSON.parse(readFileSync(f, 'utf8'));
    return { accessToken: file.access_token as string, refreshToken: file.refresh_token as string };
  });
  return { child, chatgptUrl: out.chatgptUrl, authUrl: out.authUrl, accounts };
}

async function stopSim(sim: Running): Promise<void> {
  const exited = new Promise((resolve) => sim.child.once('exit', resolve));
  sim.child.kill('SIGTERM');
  await exited;
}

/** CPU time (user + system) of a child process so far, in ms, from /proc. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function timed(n: number, concurrency: number, one: (i: number) => Promise<void>) {
  const limit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => limit(() => one(i))));
  return performance.now() - started;
}

function usageCall(sim: Running) {
  return async (i: number) => {
    const res = await fetch(`${sim.chatgptUrl}/wham/usage`, {
      headers: {
        authorization: `Bearer ${sim.accounts[i % sim.accounts.length].accessToken}`,
        originator: 'codex_cli_rs',
      },
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`usage answered ${res.status}`);
  };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

export default async function simBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const fast = await startSim(['--scenarios', 'healthy:50']);
  try {
    const usage = usageCall(fast);
    await timed(500, 50, usage); // warm-up: connections open, routes compiled
    const cpuBefore = cpuMs(fast.child.pid!);
    const ms = await timed(REQUESTS, 50, usage);
    const serverMs = cpuMs(fast.child.pid!) - cpuBefore;
    rows.push({ name: 'sim: usage requests (no latency, concurrency 50)', value: REQUESTS, unit: 'requests' });
    rows.push({
      name: 'sim: usage throughput (client in another process)',
      value: REQUESTS / (ms / 1000),
      unit: 'req/s',
    });
    const perRequest = serverMs / REQUESTS;
    rows.push({
      name: 'sim: server CPU per usage request',
      value: perRequest,
      unit: 'ms',
      target: '≤ 1',
      ok: perRequest <= 1,
    });

    const refreshes = Math.min(1000, REQUESTS);
    let i = 0;
    const refreshMs = await timed(refreshes, 20, async () => {
      // Each account's current refresh token, rotated in turn, as a careful client would.
      const a = fast.accounts[i++ % fast.accounts.length];
      const res = await fetch(fast.authUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: a.refreshToken }),
      });
      const body = (await res.json()) as { refresh_token?: string };
      if (res.status === 200 && body.refresh_token) a.refreshToken = body.refresh_token;
    });
    rows.push({ name: 'sim: token endpoint throughput', value: refreshes / (refreshMs / 1000), unit: 'req/s' });
  } finally {
    await stopSim(fast);
  }

  const slow = await startSim(['--scenarios', 'healthy:5', '--latency-ms', String(LATENCY_MS)]);
  try {
    const usage = usageCall(slow);
    await timed(20, 5, usage);
    const overheads: number[] = [];
    await timed(200, 5, async (n) => {
      const t = performance.now();
      await usage(n);
      overheads.push(performance.now() - t - LATENCY_MS);
    });
    overheads.sort((a, b) => a - b);
    const p95 = quantile(overheads, 0.95);
    rows.push({
      name: `sim: time above ${LATENCY_MS} ms latency, p50 (concurrency 5)`,
      value: quantile(overheads, 0.5),
      unit: 'ms',
    });
    // The quota benchmark allows 15% above N × latency / concurrency: at 300 ms that is 45 ms a request.
    rows.push({
      name: `sim: time above ${LATENCY_MS} ms latency, p95 (concurrency 5)`,
      value: p95,
      unit: 'ms',
      target: '≤ 45',
      ok: p95 <= 45,
    });
  } finally {
    await stopSim(slow);
  }
  return rows;
}
