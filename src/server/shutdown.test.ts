// SIGTERM (and SIGINT) while a slow token refresh is in flight, against the real CLI in its own process
// and the simulator's token endpoint answering late (issue 15, item 1): `serve` exits 0 within the 8 s a
// container stop allows, the in-flight `POST /api/refresh?wait=true` gets an answer, the auth file holds
// a pair that still works upstream (never a burned one), the store passes `PRAGMA integrity_check`, and
// nothing used the store after it was closed. `inspect` interrupted mid-sweep exits as promptly and cleanly.
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, describe, it } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';

const KEY = 'shutdown-test-admin-key-0123456789';
/** The token endpoint answers this late: longer than any probe, well inside the grace period. */
const REFRESH_DELAY_MS = 2_500;
/** What a container runtime allows between SIGTERM and SIGKILL, less the margin the issue asks for. */
const EXIT_WITHIN_MS = 8_000;

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Setup {
  sim: Simulator;
  accountDir: string;
  dataDir: string;
  expiredFile: string;
}

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'cf-shutdown-'));
  dirs.push(dir);
  // Accounts whose access token has expired (each needs a refresh before its probe: together far longer
  // than the grace period) and a healthy one.
  const sim = await startSimulator({
    accounts: [
      { scenario: 'expired-token' },
      { scenario: 'expired-token' },
      { scenario: 'expired-token' },
      { scenario: 'expired-token' },
      { scenario: 'healthy' },
    ],
    refreshDelayMs: REFRESH_DELAY_MS,
    latency: 1,
  });
  const accountDir = join(dir, 'account');
  const files = await sim.writeAuthFiles(accountDir, 'cpa');
  return { sim, accountDir, dataDir: join(dir, 'data'), expiredFile: files[0] };
}

function cli(s: Setup, args: string[]): { child: ChildProcessWithoutNullStreams; out: () => string } {
  const child = spawn(
    process.execPath,
    [
      'src/cli/main.ts',
      ...args,
      '--account-dir',
      s.accountDir,
      '--data-dir',
      s.dataDir,
      '--chatgpt-url',
      s.sim.chatgptUrl,
      '--auth-url',
      s.sim.authUrl,
      '--retries',
      '0',
      '--concurrency',
      '1',
    ],
    { env: { ...process.env, CODEX_FLEET_ADMIN_KEY: KEY, NO_COLOR: '1' } },
  );
  let text = '';
  child.stdout.on('data', (d: Buffer) => {
    text += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { child, out: () => text };
}

/** Exit code, or a failure naming what the process printed when it did not exit in time. */
function exitWithin(child: ChildProcessWithoutNullStreams, ms: number, out: () => string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`did not exit within ${ms} ms of the signal; output:\n${out()}`));
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? (signal ? -1 : null));
    });
  });
}

/** The pair in the file works upstream: its refresh token is accepted (old or new, never spent). */
async function assertPairWorks(s: Setup): Promise<void> {
  const saved = JSON.parse(readFileSync(s.expiredFile, 'utf8')) as { refresh_token: string };
  const res = await fetch(s.sim.authUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: saved.refresh_token }),
  });
  assert.equal(res.status, 200, `the saved refresh token is burned: ${await res.text()}`);
}

function assertStoreIntact(s: Setup): void {
  const db = new DatabaseSync(join(s.dataDir, 'codex-fleet.db'), { readOnly: true });
  try {
    const rows = db.prepare('PRAGMA integrity_check').all() as Array<Record<string, string>>;
    assert.deepEqual(
      rows.map((r) => Object.values(r)[0]),
      ['ok'],
    );
  } finally {
    db.close();
  }
}

/** Waits until the simulator has received a token request (it rotates on receipt, then waits). */
async function refreshInFlight(s: Setup, what: string): Promise<void> {
  await waitFor(() => ({ ok: s.sim.stats().refreshes >= 1, seen: s.sim.stats().refreshes }), {
    what: `${what}: a token request at the simulator`,
  });
}

describe('shutdown during a slow token refresh', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serve on ${signal}: exit 0 in time, the waiting request answered, a working pair, a sound store`, async () => {
      const s = await setup();
      try {
        const { child, out } = cli(s, ['serve', '--host', '127.0.0.1', '--port', '0']);
        const { seen: url } = await waitFor(
          () => {
            const m = /dashboard at (http:\/\/\S+?)\/ /.exec(out());
            return { ok: m != null, seen: m?.[1] ?? out() };
          },
          { what: 'serve to print its URL' },
        );
        // serve starts a sweep at once; this request joins it and waits for its end.
        const waiting = fetch(`${url}/api/refresh?wait=true`, { method: 'POST', headers: { 'x-admin-key': KEY } }).then(
          async (res) => ({ status: res.status, body: await res.text() }),
          (error: Error) => ({ status: 0, body: error.message }),
        );
        await refreshInFlight(s, 'serve');
        assert.equal((await fetch(`${url}/healthz`)).status, 200, 'the server answers while the refresh hangs');
        const exited = exitWithin(child, EXIT_WITHIN_MS, out);
        child.kill(signal);
        assert.equal(await exited, 0, out());
        const answer = await waiting;
        assert.ok(
          answer.status === 503 || answer.status === 200,
          `the waiting request got ${answer.status} ${answer.body}`,
        );
        if (answer.status === 503) assert.match(answer.body, /shutting down/);
        assert.doesNotMatch(out(), /database is closed|Unhandled|TypeError/, out());
        await assertPairWorks(s);
        assertStoreIntact(s);
      } finally {
        await s.sim.close();
      }
    });
  }

  it('inspect on SIGINT mid-sweep: exits promptly, says it was interrupted, a working pair, a sound store', async () => {
    const s = await setup();
    try {
      const { child, out } = cli(s, ['inspect']);
      await refreshInFlight(s, 'inspect');
      const exited = exitWithin(child, EXIT_WITHIN_MS, out);
      child.kill('SIGINT');
      assert.equal(await exited, 130, out());
      assert.match(out(), /interrupted/);
      assert.doesNotMatch(out(), /database is closed|Unhandled|TypeError/, out());
      await assertPairWorks(s);
      assertStoreIntact(s);
    } finally {
      await s.sim.close();
    }
  });
});
