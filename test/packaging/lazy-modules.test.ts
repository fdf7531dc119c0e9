// Start-up (issue 14): a read-only command loads only what it needs. The report and the quota table of
// local accounts, and --help, must not load zod (schemas are for input a change brings), hono (the
// server), the Redis client (the collector) or croner (schedules). A module hook in the child records
// every resolved URL, so the test sees the real import graph, not a guess.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const HOOK = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; const seen = new Set();" +
    'registerHooks({ resolve(s, c, next) { const r = next(s, c); seen.add(r.url); return r; } });' +
    "process.on('exit', () => process.stderr.write('\\nLOADED ' + JSON.stringify([...seen]) + '\\n'));",
)}`;
const HEAVY = /node_modules\/(zod|hono|@hono|ioredis|redis|@redis|croner)\//;
// Monitoring ingest and queries, the request/account join and the inspection rules: none of them has a part
// in a cached report or quota table (the store's schema names the rollup columns from a module of its own).
const NOT_FOR_READS =
  /\/src\/(monitor\/(ingest|queries|record|dictionary)|core\/request-outcomes|inspect\/inspection)\.ts$/;

const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-lazy-'));
let sim: Simulator;
before(async () => {
  sim = await startSimulator({ count: 3 });
  await sim.writeAuthFiles(join(tmp, 'account'), 'cpa');
});
after(async () => {
  await sim?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Async: the simulator answering the quota probes runs in this process. */
async function loaded(args: string[]): Promise<{ status: number | null; urls: string[]; stderr: string }> {
  const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
    execFile(process.execPath, ['--import', HOOK, main, ...args], { timeout: 60_000 }, (error, _stdout, stderr) =>
      resolve({ status: error ? ((error as { code?: number }).code ?? null) : 0, stderr }),
    );
  });
  const line = r.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  assert.ok(line, `the hook reported the loaded modules (stderr: ${r.stderr.slice(0, 500)})`);
  return { status: r.status, urls: JSON.parse(line.slice('LOADED '.length)) as string[], stderr: r.stderr };
}

it('report --json, quota --json and --help load no zod, hono, Redis client, croner, or monitoring and inspection code', async () => {
  const store = [
    ...['--data-dir', join(tmp, 'data'), '--account-dir', join(tmp, 'account')],
    ...['--chatgpt-url', sim.chatgptUrl, '--auth-url', sim.authUrl],
  ];
  for (const args of [['quota', '--json', ...store], ['report', '--json', ...store], ['--help']]) {
    const { status, urls, stderr } = await loaded(args);
    assert.equal(status, 0, `${args[0]} exits 0 (stderr: ${stderr.slice(0, 500)})`);
    assert.ok(
      urls.some((u) => u.includes('/src/cli/')),
      `${args[0]}: the hook saw the CLI's own modules`,
    );
    const heavy = urls.filter((u) => HEAVY.test(u)).map((u) => u.replace(/.*node_modules\//, ''));
    assert.deepEqual(heavy, [], `${args[0]} loads none of zod, hono, the Redis client, croner`);
    const own = urls.filter((u) => NOT_FOR_READS.test(u)).map((u) => u.replace(/.*\/src\//, 'src/'));
    assert.deepEqual(own, [], `${args[0]} loads no monitoring ingest or query module, join or inspection rules`);
  }
});

it('a plain report --json line runs without commander; --help still goes through it', async () => {
  const store = ['--data-dir', join(tmp, 'data'), '--account-dir', join(tmp, 'account')];
  const commander = (urls: string[]) => urls.some((u) => /node_modules\/commander\//.test(u));
  const report = await loaded(['report', '--json', ...store]);
  assert.equal(report.status, 0, `report exits 0 (stderr: ${report.stderr.slice(0, 500)})`);
  assert.equal(commander(report.urls), false, 'report --json loads no commander (src/cli/plain-args.ts)');
  // An ESM import of either loads fs/promises, the fs streams and the watchers (src/runtime/fs.ts).
  const fsImports = report.urls.filter((u) => u === 'node:fs' || u === 'node:fs/promises');
  assert.deepEqual(fsImports, [], 'report --json takes node:fs through process.getBuiltinModule');
  const help = await loaded(['report', '--help']);
  assert.equal(help.status, 0);
  assert.equal(commander(help.urls), true, 'report --help goes through commander');
});
