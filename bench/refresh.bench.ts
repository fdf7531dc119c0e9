// Token refresh cost per format (lock + re-read + upstream + atomic write), against the simulator
// on loopback, and the same with 2 processes × 50 concurrent refreshes (reused tokens must be 0).
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TokenManager } from '../src/accounts/refresh.ts';
import { authDirSource } from '../src/accounts/sources/auth-dir.ts';
import { codexCliFile, cpaFile, multiAuthFile } from '../src/sim/auth-files.ts';
import { startSimulator } from '../src/sim/index.ts';
import type { BenchRow } from './types.ts';

const ROUNDS = 50;

export default async function (): Promise<BenchRow[]> {
  const sim = await startSimulator({
    accounts: [
      { id: 'b-cli', email: 'cli@example.com' },
      { id: 'b-cpa', email: 'cpa@example.com' },
      { id: 'b-m1', email: 'm1@example.com' },
    ],
  });
  const dir = await mkdtemp(join(tmpdir(), 'fleet-bench-refresh-'));
  const rows: BenchRow[] = [];
  try {
    const [cli, cpa, m1] = sim.accounts;
    await writeFile(join(dir, 'auth.json'), JSON.stringify(codexCliFile(cli), null, 2));
    await writeFile(join(dir, 'codex-cpa@example.com.json'), JSON.stringify(cpaFile(cpa), null, 2));
    await writeFile(join(dir, 'openai-codex-accounts.json'), JSON.stringify(multiAuthFile([m1]), null, 2));
    const manager = new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl });
    const times = new Map<string, number[]>();
    for (let i = 0; i < ROUNDS; i++) {
      for (const account of (await authDirSource(dir).load()).accounts) {
        const t = performance.now();
        const r = await manager.refreshNow(account);
        if (!r.ok) throw new Error(`refresh failed: ${r.code}`);
        const list = times.get(account.format) ?? [];
        list.push(performance.now() - t);
        times.set(account.format, list);
      }
    }
    for (const [format, list] of times) {
      list.sort((a, b) => a - b);
      rows.push({
        name: `refresh ${format} p50 (lock + reread + POST + atomic write)`,
        value: +list[Math.floor(list.length / 2)].toFixed(1),
        unit: 'ms',
      });
    }

    const worker = join(import.meta.dirname, '../src/accounts/test-support/refresh-worker.ts');
    const run = () =>
      new Promise<{ upstreamRefreshes: number; failures: string[] }>((resolve, reject) => {
        const child = spawn(process.execPath, [worker, dir, sim.authUrl, '50', 'manual'], {
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        let out = '';
        child.stdout.on('data', (d) => {
          out += d;
        });
        child.on('exit', (code) =>
          code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`worker exited ${code}`)),
        );
      });
    const before = sim.stats();
    const t = performance.now();
    const [a, b] = await Promise.all([run(), run()]);
    const after = sim.stats();
    rows.push({
      name: '2 processes × 50 concurrent refreshes: wall time',
      value: +((performance.now() - t) / 1000).toFixed(2),
      unit: 's',
    });
    rows.push({ name: '2 × 50: upstream refreshes', value: a.upstreamRefreshes + b.upstreamRefreshes, unit: 'calls' });
    const reused = after.reusedRefreshTokens - before.reusedRefreshTokens;
    rows.push({
      name: '2 × 50: refresh_token_reused',
      value: reused,
      unit: 'count',
      target: '0',
      ok: reused === 0 && a.failures.length + b.failures.length === 0,
    });
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}
