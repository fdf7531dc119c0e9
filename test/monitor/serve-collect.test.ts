// End to end, as an operator runs it: `codex-fleet serve --collect local` (a real process) drains the REAL
// CPA's usage queue on the leader, and a request sent through CPA shows up in the realtime list of the
// JSON API. Ban safety: only the right management key is ever sent.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { resolveConfig } from '../../src/core/config.ts';
import { Fleet } from '../../src/core/fleet.ts';
import { CpaServers } from '../../src/cpa/servers.ts';
import { startSimulator } from '../../src/sim/index.ts';
import { mountOpenAiCompat } from '../../src/sim/openai-compat.ts';
import { CLI } from '../support/cli.ts';
import { CPA_CLIENT_KEY, freePort, type StartedCpa, tryStartCpa } from '../support/cpa.ts';
import { waitFor } from '../support/wait.ts';

const sim = await startSimulator({
  accounts: [],
  extraRoutes: (app) => mountOpenAiCompat(app, { failNext: { count: 0 } }),
});
const started = await tryStartCpa({ upstreamBaseUrl: `${sim.baseUrl}/v1` });
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const dir = mkdtempSync(join(tmpdir(), 'cf-serve-collect-'));
let server: ChildProcess | null = null;

after(async () => {
  server?.kill('SIGTERM');
  await new Promise((r) => (server && server.exitCode == null ? server.once('exit', r) : r(null)));
  await cpa?.stop();
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

test('serve --collect: a request through the real CPA reaches /api/monitor/requests', async (t) => {
  if (!cpa) return t.skip('skip' in started ? started.skip : 'no CPA');
  const dataDir = join(dir, 'data');
  // CPA-only: the local account directory exists and is empty.
  mkdirSync(join(dir, 'account'));
  const fleet = await Fleet.open(resolveConfig({ dataDir, accountDir: join(dir, 'account') }, {}));
  assert.ok(
    (await new CpaServers(fleet.repos.settings).upsert({ name: 'local', url: cpa.url, managementKey: cpa.key })).ok,
  );
  await fleet.close();

  const port = await freePort();
  let log = '';
  server = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      String(port),
      '--data-dir',
      dataDir,
      '--account-dir',
      join(dir, 'account'),
      '--interval-seconds',
      '0',
      '--collect',
      'local:resp',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
    },
  );
  server.stderr?.on('data', (d) => {
    log += d;
  });
  const base = `http://127.0.0.1:${port}`;
  const child = server;
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`the server exited: ${log}`);
      return (await fetch(`${base}/healthz`)).ok;
    },
    { what: `the server to answer /healthz on ${base}`, intervalMs: 100, retryOnError: () => child.exitCode === null },
  );

  // The server sets its own heap limits (src/monitor/heap.ts): the process started relaunched itself
  // once with them, and that child is what serves and collects.
  const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/);
  assert.equal(kids.length, 1, `one relaunched server process, found ${JSON.stringify(kids)}`);
  const cmdline = readFileSync(`/proc/${kids[0]}/cmdline`, 'utf8').split('\0');
  assert.ok(cmdline.includes('--max-semi-space-size=8') && cmdline.includes('serve'), cmdline.join(' '));

  const res = await fetch(`${cpa.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${CPA_CLIENT_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'sim-model', messages: [{ role: 'user', content: 'hello through CPA' }] }),
  });
  assert.equal(res.status, 200);
  await res.text();

  type Row = { model: string; status: number };
  const rows = await waitFor(
    async () => {
      const body = (await (await fetch(`${base}/api/monitor/requests?limit=10`)).json()) as {
        rows?: Row[];
        requests?: Row[];
        items?: Row[];
      };
      const got = body.rows ?? body.requests ?? body.items ?? [];
      return got.length > 0 ? got : { ok: false, seen: `no request yet; server log: ${log.slice(-400)}` };
    },
    { what: 'the request through CPA to arrive in the monitor', intervalMs: 100 },
  );
  assert.equal(rows.length, 1, `server log:\n${log}`);
  assert.equal(rows[0].model, 'sim-model');
  assert.equal(rows[0].status, 200);
  const text = JSON.stringify(rows);
  assert.ok(!text.includes(CPA_CLIENT_KEY), 'the caller API key is never served');
  assert.ok(!log.includes(cpa.key), 'the management key is never logged');
});
