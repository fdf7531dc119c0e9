// Request monitoring: ingest rate, bytes per event, query p95 at 1M and 10M events, peak RSS.
// The work runs in a child process (monitor.worker.ts) so its peak RSS is measured alone.
// MONITOR_BENCH_EVENTS=1000000 stops at 1M (10M takes several minutes).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { BenchRow } from './types.ts';

export default function monitorBench(): Promise<BenchRow[]> {
  return new Promise((resolve, reject) => {
    // A bounded heap: V8 otherwise grows it lazily with garbage, and RSS measures that, not the work.
    const flags = ['--max-old-space-size=96', '--max-semi-space-size=4'];
    const child = spawn(process.execPath, [...flags, join(import.meta.dirname, 'monitor.worker.ts')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`monitor bench worker exited with ${code}`));
      else resolve(JSON.parse(out) as BenchRow[]);
    });
  });
}
