// `--demo`: start the built-in simulator with a realistic mix of accounts, write their auth files to a
// private temp dir, and point the command at it. Nothing real is touched; everything is removed after.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommonOptions } from '../shared-args.ts';

export const DEMO_ACCOUNT_COUNT = 30;

export async function withDemo<T extends CommonOptions & { demo?: boolean }>(
  options: T,
  run: (options: T) => Promise<number>,
): Promise<number> {
  if (!options.demo) return run(options);
  // The simulator (and its HTTP stack) loads only in demo mode.
  const { startSimulator } = await import('../../sim/index.ts');
  const dir = await mkdtemp(join(tmpdir(), 'codex-fleet-demo-'));
  const sim = await startSimulator({ count: DEMO_ACCOUNT_COUNT, latency: { kind: 'uniform', minMs: 80, maxMs: 400 } });
  try {
    const accountDir = join(dir, 'account');
    await sim.writeAuthFiles(accountDir, 'mixed');
    console.error(`codex-fleet: demo mode: ${sim.accounts.length} simulated accounts at ${sim.chatgptUrl}`);
    return await run({
      ...options,
      accountDir,
      dataDir: options.dataDir ?? join(dir, 'data'),
      chatgptUrl: sim.chatgptUrl,
      authUrl: sim.authUrl,
    });
  } finally {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  }
}
