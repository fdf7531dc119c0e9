// SIGTERM to the `npm start` process (what a process manager or `docker stop` sends) stops the server
// within 8 s: the start script execs node, so npm's forwarded signal reaches the server, not a shell.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { freePort } from '../support/postgres.ts';

const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-npm-start-'));
const seen: number[] = [];
after(() => {
  for (const pid of seen) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

const alive = (pid: number) =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');

/** Every process below pid (Linux /proc), so the server is found whatever npm puts in between. */
function descendants(pid: number): number[] {
  const file = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(file)) return [];
  const kids = readFileSync(file, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return kids.flatMap((k) => [k, ...descendants(k)]);
}

async function until<T>(what: string, ms: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('SIGTERM to `npm start` stops the server within 8 s', async () => {
  const port = await freePort();
  const npm = spawn(
    'npm',
    ['start', '--', '--port', String(port), '--data-dir', join(tmp, 'data'), '--account-dir', join(tmp, 'account')],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  npm.stdout.on('data', (d) => {
    output += d;
  });
  npm.stderr.on('data', (d) => {
    output += d;
  });
  assert.ok(npm.pid);
  seen.push(npm.pid);
  await until(`/healthz on port ${port} (output so far: ${output})`, 60_000, () =>
    fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => (r.status === 200 ? true : undefined),
      () => undefined,
    ),
  );
  const below = descendants(npm.pid);
  seen.push(...below);
  const server = below.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('main.ts\0serve'));
  assert.ok(server, `the server process is below npm (${below.join(', ')})`);
  npm.kill('SIGTERM');
  await until('the server process to exit after SIGTERM to npm', 8_000, () => (alive(server) ? undefined : true));
  assert.ok(!alive(server));
  assert.match(output, /SIGTERM received, shutting down/);
});
