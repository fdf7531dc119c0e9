// `codex-fleet sim` as a user runs it: a real process that writes auth files, prints its URLs,
// serves them, and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { type SimFlags, simOptionsFromFlags } from './sim.ts';

const MAIN = join(import.meta.dirname, '../main.ts');

test('sim --json: files, URLs, live tokens, clean exit on SIGTERM', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'sim-cli-'));
  const scenarioFile = join(dir, 'scenarios.json');
  await writeFile(
    scenarioFile,
    JSON.stringify({ accounts: [{ scenario: 'pro', count: 2 }, { scenario: 'cloudflare' }], seed: 3 }),
  );
  const child = spawn(
    process.execPath,
    [
      MAIN,
      'sim',
      '--json',
      '--scenario-file',
      scenarioFile,
      '--dir',
      join(dir, 'auth'),
      '--format',
      'cpa',
      '--latency-ms',
      '1-3',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const first = await new Promise<string>((resolve, reject) => {
      createInterface({ input: child.stdout }).once('line', resolve);
      child.once('exit', () => reject(new Error('sim exited before printing')));
    });
    const out = JSON.parse(first);
    assert.match(out.chatgptUrl, /^http:\/\/127\.0\.0\.1:\d+\/backend-api$/);
    assert.equal(out.authUrl, out.chatgptUrl.replace('/backend-api', '/oauth/token'));
    assert.equal(out.files.length, 3);
    assert.deepEqual(
      out.accounts.map((a: { scenario: string }) => a.scenario),
      ['pro', 'pro', 'cloudflare'],
    );
    assert.equal(first.includes('eyJ'), false, 'no token on stdout');

    const file = JSON.parse(await readFile(out.files[0], 'utf8'));
    const res = await fetch(`${out.chatgptUrl}/wham/usage`, {
      headers: { authorization: `Bearer ${file.access_token}` },
    });
    assert.equal(res.status, 200);
    assert.equal((await res.json()).plan_type, 'pro');

    child.kill('SIGTERM');
    assert.equal(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  }
});

test('sim without --dir writes to a temporary directory and removes it on exit', async () => {
  const child = spawn(process.execPath, [MAIN, 'sim', '--json', '--scenarios', 'healthy'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const out = JSON.parse(
      await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve)),
    );
    assert.ok(existsSync(out.files[0]));
    child.kill('SIGINT');
    assert.equal(await exited, 0);
    assert.equal(existsSync(out.dir), false);
  } finally {
    child.kill('SIGKILL');
  }
});

test('bad flags: exit 1 with a message that says what to use', () => {
  const r = spawnSync(process.execPath, [MAIN, 'sim', '--format', 'xml'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /--format "xml" is unknown: use one of cpa/);
});

test('flag mapping refuses bad values by name', async () => {
  const base = { format: 'cpa', port: '0', retire: [] as string[] };
  const cases: Array<[Partial<SimFlags>, RegExp]> = [
    [{ latencyMs: 'fast' }, /use MS/],
    [{ scenarios: 'sunny:2' }, /unknown scenario "sunny"/],
    [{ retire: ['wham:500'] }, /use wham:404/],
    [{ accounts: '0' }, /--accounts must be a whole number/],
    [{ port: '70000' }, /--port must be a whole number from 0 to 65535/],
    [{ scenarioFile: '/nonexistent/s.json' }, /cannot read scenario file/],
  ];
  for (const [flags, message] of cases) {
    await assert.rejects(simOptionsFromFlags({ ...base, ...flags }), message);
  }
});

test('--accounts cycles through --scenarios; alone it asks for the demo mix', async () => {
  const base = { format: 'cpa', port: '0', retire: [] as string[] };
  const cycled = await simOptionsFromFlags({ ...base, scenarios: 'healthy,exhausted', accounts: '5' });
  assert.deepEqual(
    cycled.accounts?.map((a) => a.scenario),
    ['healthy', 'exhausted', 'healthy', 'exhausted', 'healthy'],
  );
  const demo = await simOptionsFromFlags({ ...base, accounts: '12', retire: ['codex:403'], latencyMs: '300' });
  assert.equal(demo.count, 12);
  assert.equal(demo.accounts, undefined);
  assert.deepEqual(demo.retiredPaths, [{ path: '/codex', status: 403 }]);
  assert.equal(demo.latency, 300);
});
