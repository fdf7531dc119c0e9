// `codex-fleet cpa …` end to end against the REAL CPA with a temp store. The key travels by environment
// variable, never argv, and no output shows it. One run is a real process; the others run the same
// commander program in this process (a process start costs seconds on a loaded machine).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type StartedCpa, tryStartCpa, waitForAuthFiles, writeCodexAuthFile } from '../../../test/support/cpa.ts';
import { buildProgram } from '../program.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;
const started = await tryStartCpa();
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
const dataDir = await mkdtemp(join(tmpdir(), 'codex-fleet-cli-cpa-'));
after(async () => {
  await cpa?.stop();
  await rm(dataDir, { recursive: true, force: true });
});

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function cliProcess(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return new Promise((ok) => {
    execFile(
      process.execPath,
      [MAIN, 'cpa', ...args, '--data-dir', dataDir],
      { env: { ...process.env, ...env } },
      (err, stdout, stderr) => ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs the real commander program in this process, capturing console output and the exit code. */
async function cli(args: string[], env: Record<string, string> = {}): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const saved = { log: console.log, error: console.error };
  console.log = (...a: unknown[]) => out.push(a.join(' '));
  console.error = (...a: unknown[]) => err.push(a.join(' '));
  Object.assign(process.env, env);
  process.exitCode = undefined;
  try {
    const argv = ['node', 'codex-fleet', 'cpa', ...args, '--data-dir', dataDir];
    await (await buildProgram(argv)).exitOverride().parseAsync(argv);
  } catch (e) {
    err.push((e as Error).message);
    process.exitCode = 1;
  } finally {
    console.log = saved.log;
    console.error = saved.error;
    for (const k of Object.keys(env)) delete process.env[k];
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

describe('codex-fleet cpa', { skip }, () => {
  test('add (key from env), list masked, accounts, check, remove', async () => {
    assert.ok(cpa);
    const f = await writeCodexAuthFile(cpa.authDir, { email: 'cli@example.com' });
    await waitForAuthFiles(cpa, [f.name]);

    const none = await cli(['add', 'main', cpa.url]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no management key: set CODEX_FLEET_CPA_KEY/);

    const add = await cliProcess(['add', 'main', `${cpa.url}/v0/management`], { CODEX_FLEET_CPA_KEY: cpa.key });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /saved CPA server main \(http:\/\/127\.0\.0\.1:\d+, key mgmt…/);

    const list = await cli(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const servers = JSON.parse(list.stdout);
    assert.equal(servers[0].name, 'main');
    assert.equal(servers[0].url, cpa.url);

    const accounts = await cli(['accounts', 'main', '--json']);
    assert.equal(accounts.code, 0, accounts.stderr);
    assert.deepEqual(
      JSON.parse(accounts.stdout).map((a: { name: string; disabled: boolean }) => [a.name, a.disabled]),
      [[f.name, false]],
    );

    const check = await cli(['check']);
    assert.equal(check.code, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /ok {7}main: cpa\.reachable/);
    const again = await cli(['check', 'main', '--json']);
    const ids = JSON.parse(again.stdout).map((c: { id: string; status: string }) => `${c.id}=${c.status}`);
    assert.ok(ids.includes('cpa.auth_index_stable=ok'), ids.join(' '));

    const bad = await cli(['check', '--poll-interval', 'soon']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /--poll-interval must be a positive number/);
    const unknown = await cli(['accounts', 'other']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no CPA server named "other" \(configured: main\)/);

    for (const r of [add, list, accounts, check, again]) assert.ok(!(r.stdout + r.stderr).includes(cpa.key));

    assert.equal((await cli(['remove', 'main'])).code, 0);
    assert.equal((await cli(['remove', 'main'])).code, 1);
    assert.match((await cli(['list'])).stdout, /no CPA servers configured/);
  });
});
