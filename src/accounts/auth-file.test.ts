// Auth files are read as regular files only, non-blocking and with a 1 MiB cap: a FIFO named *.json
// never hangs `accounts import`, `quota` or the server, and a link to /dev/zero is a clear error with
// bounded memory. The CLI and the server run for real (child process, simulator, real core).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO_ROOT } from '../../test/support/cli.ts';
import { type DemoServer, startDemoServer } from '../../test/support/demo-server.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { MAX_AUTH_FILE_BYTES, readAuthFile } from './auth-file.ts';
import { isLoadError } from './formats/index.ts';
import { authDirSource } from './sources/index.ts';

const DEADLINE_MS = 30_000;

/** Fails with a message instead of hanging the suite when the code under test hangs. */
async function within<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${DEADLINE_MS} ms (hung?)`)), DEADLINE_MS);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** The real CLI in a child; killed (and the test failed) if it outlives the deadline. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => {
    stdout += d;
  });
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  child.stdin.end();
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return within(`codex-fleet ${args[0]} ${args[1] ?? ''}`, done).catch((error) => {
    child.kill('SIGKILL');
    throw error;
  });
}

function mkfifo(path: string): void {
  const r = spawnSync('mkfifo', [path]);
  assert.equal(r.status, 0, `mkfifo ${path}: ${r.stderr}`);
}

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'cf-auth-file-'));
});
after(() => rm(root, { recursive: true, force: true }));

describe('readAuthFile: regular files only, non-blocking, at most 1 MiB', () => {
  it('a FIFO is refused at once, naming what it is', async () => {
    const fifo = join(root, 'pipe.json');
    mkfifo(fifo);
    const r = await within('reading a FIFO', readAuthFile(fifo, 'auth-dir'));
    assert.ok(isLoadError(r));
    assert.match(r.message, /pipe\.json: is a FIFO \(named pipe\), not a regular file/);
  });

  it('a link to /dev/zero is a clear error and reads (almost) nothing', async () => {
    const link = join(root, 'zero.json');
    await symlink('/dev/zero', link);
    const before = process.memoryUsage().rss;
    for (let i = 0; i < 20; i++) {
      const r = await within('reading /dev/zero', readAuthFile(link, 'auth-dir'));
      assert.ok(isLoadError(r));
      assert.match(r.message, /zero\.json: is a character device, not a regular file/);
    }
    const grown = process.memoryUsage().rss - before;
    assert.ok(grown < 64 * 1024 * 1024, `memory grew by ${grown} bytes`);
  });

  it('a file over 1 MiB is refused with the limit in the message; one at the limit is read', async () => {
    const big = join(root, 'big.json');
    await writeFile(big, `{"access_token":"${'x'.repeat(MAX_AUTH_FILE_BYTES)}"}`);
    const r = await readAuthFile(big, 'auth-dir');
    assert.ok(isLoadError(r));
    assert.match(r.message, /big\.json: is too large \(over 1048576 bytes\): auth files are at most 1 MiB/);
    const edge = join(root, 'edge.json');
    const padding = ' '.repeat(MAX_AUTH_FILE_BYTES - 2);
    await writeFile(edge, `{${padding}}`);
    const e = await readAuthFile(edge, 'auth-dir');
    assert.ok(isLoadError(e));
    assert.match(e.message, /not a recognized auth file/, 'read and parsed, refused only for its content');
  });
});

describe('a FIFO or /dev/zero link in the account directory hangs nothing', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    dir = join(root, 'fleet');
    sim = await startSimulator({ count: 3, latency: 1 });
    await sim.writeAuthFiles(join(dir, 'account'), 'mixed');
    mkfifo(join(dir, 'account', 'stuck.json'));
    await symlink('/dev/zero', join(dir, 'account', 'zero.json'));
  });
  after(() => sim.close());

  it('the auth-dir source names both and still loads the real accounts', async () => {
    const load = await within('loading the account dir', authDirSource(join(dir, 'account')).load());
    assert.equal(load.accounts.length, 3);
    assert.match(load.errors.map((e) => e.message).join('\n'), /stuck\.json: is a FIFO/);
    assert.match(load.errors.map((e) => e.message).join('\n'), /zero\.json: is a character device/);
  });

  it('`accounts import` and `quota` finish, report the files, and keep the good accounts', async () => {
    const data = join(dir, 'data');
    const imported = await cli(['accounts', 'import', join(dir, 'account'), '--data-dir', data]);
    assert.match(imported.stderr + imported.stdout, /stuck\.json: is a FIFO/);
    assert.equal((imported.stdout.match(/^imported /gm) ?? []).length, 3, imported.stdout);
    const quota = await cli([
      'quota',
      '--json',
      '--account-dir',
      join(dir, 'account'),
      '--data-dir',
      data,
      '--chatgpt-url',
      sim.chatgptUrl,
      '--auth-url',
      sim.authUrl,
      '--retries',
      '0',
    ]);
    assert.equal(JSON.parse(quota.stdout).length, 3, quota.stderr);
    assert.match(quota.stderr, /zero\.json: is a character device/);
  });

  it('`report` with a FIFO as the Codex CLI auth.json finishes with the other accounts', async () => {
    const home = join(dir, 'codex-home');
    await mkdir(home);
    mkfifo(join(home, 'auth.json'));
    const report = await cli([
      'report',
      '--account-dir',
      join(dir, 'account'),
      '--data-dir',
      join(dir, 'data'),
      '--codex-home',
      home,
    ]);
    assert.match(report.stdout, /Total accounts:\s+3\n/, report.stderr);
  });
});

describe('the server with a FIFO in its account directory', () => {
  let demo: DemoServer;
  before(async () => {
    demo = await startDemoServer(3);
    mkfifo(join(demo.accountDir, 'stuck.json'));
    await mkdir(join(demo.accountDir, 'sub.json'));
  });
  after(() => demo.close());

  it('answers /api/auth-files and /api/accounts', async () => {
    const files = await within('GET /api/auth-files', fetch(`${demo.url}/api/auth-files`));
    assert.equal(files.status, 200);
    const names = ((await files.json()) as { files: Array<{ name: string }> }).files.map((f) => f.name);
    assert.equal(names.length, 3, names.join(','));
    const accounts = await within('GET /api/accounts', fetch(`${demo.url}/api/accounts`));
    assert.equal(accounts.status, 200);
    assert.equal(((await accounts.json()) as { accounts: unknown[] }).accounts.length, 3);
  });
});
