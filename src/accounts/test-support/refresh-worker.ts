// Test worker process: fires N concurrent refreshes of every account in a directory, each one
// re-reading the files first like an independent request would. Prints a JSON summary (no tokens).
// Usage: node refresh-worker.ts <dir> <authUrl> <calls> [unauthorized|manual]
import { pace } from '../../../test/support/wait.ts';
import { TokenManager } from '../refresh.ts';
import { authDirSource } from '../sources/auth-dir.ts';

const [dir, authUrl, callsText, mode = 'manual'] = process.argv.slice(2);
const calls = Number(callsText);
const summary = { upstreamRefreshes: 0, refreshed: 0, adopted: 0, none: 0, failures: [] as string[] };
const manager = new TokenManager({
  refresh: 'allowed',
  authUrl,
  lockTimeoutMs: 60_000,
  // One 'refreshed' event per upstream call this process made (callers sharing a flight count once).
  onTokenEvent: (e) => {
    if (e.type === 'refreshed') summary.upstreamRefreshes++;
  },
});

async function one(): Promise<void> {
  await pace(Math.random() * 1500); // independent requests arrive spread out, not in lockstep
  const { accounts, errors } = await authDirSource(dir).load();
  if (errors.length) summary.failures.push(...errors.map((e) => `load: ${e.message}`));
  await Promise.all(
    accounts.map(async (account) => {
      const r =
        mode === 'unauthorized' ? await manager.refreshAfterUnauthorized(account) : await manager.refreshNow(account);
      if (r.ok) summary[r.action]++;
      else summary.failures.push(`${account.name}: ${r.code} ${r.message}`);
    }),
  );
}

await Promise.all(Array.from({ length: calls }, one));
process.stdout.write(JSON.stringify(summary));
