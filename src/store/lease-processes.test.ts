// Leases are atomic across processes on SQLite too: several processes race for the same leases on
// one database file, and each lease ends up with exactly one winner.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { openStore } from './open.ts';

const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-lease-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const here = pathToFileURL(join(import.meta.dirname, '/')).href;
const CHILD = `
import { openStore } from '${here}open.ts';
import { LeaseStore } from '${here}lease.ts';
const [dir, holder, goAt] = process.argv.slice(1);
const db = await openStore({ dataDir: dir, env: {} });
const leases = new LeaseStore(db);
// Every process tries round r at the same moment, so the acquires really contend for the write lock.
const until = (t) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now()))); // sleep-ok: a start barrier so the children contend, not a wait for a result
const won = [];
for (let round = 0; round < 20; round++) {
  await until(Number(goAt) + round * 40);
  if (await leases.acquire('race-' + round, holder, 60000)) won.push(round);
}
await db.close();
process.stdout.write(JSON.stringify(won));
`;

it('SQLite: 4 processes race for 20 leases, each lease has exactly one winner', async () => {
  const dir = join(tmp, 'race');
  await (await openStore({ dataDir: dir, env: {} })).close(); // migrate once, up front
  const goAt = String(Date.now() + 3000);
  const results = await Promise.all(
    ['p0', 'p1', 'p2', 'p3'].map(
      (holder) =>
        new Promise<number[]>((resolve, reject) => {
          const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, dir, holder, goAt], {
            stdio: ['ignore', 'pipe', 'inherit'],
          });
          let out = '';
          child.stdout.on('data', (d: Buffer) => {
            out += d;
          });
          child.on('exit', (code) =>
            code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`exit ${code}`)),
          );
        }),
    ),
  );
  const wins = results.flat().sort((a, b) => a - b);
  console.error(`lease race: wins per process ${results.map((r) => r.length).join('/')}`);
  assert.deepEqual(
    wins,
    Array.from({ length: 20 }, (_, i) => i),
    'every round won exactly once',
  );
  const db = await openStore({ dataDir: dir, env: {} });
  const rows = await db.query<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE name LIKE 'race-%'");
  assert.equal(Number(rows[0].n), 20);
  await db.close();
});
