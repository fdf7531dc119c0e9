// `codex-fleet accounts …` end to end: a real CLI process, a temp store and account dir, and the
// simulator's token endpoint. No output may ever contain a whole token.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cpaFile, multiAuthFile } from '../../sim/auth-files.ts';
import { type Simulator, startSimulator } from '../../sim/index.ts';

const MAIN = new URL('../main.ts', import.meta.url).pathname;

describe('codex-fleet accounts', () => {
  let sim: Simulator;
  let root: string;
  let secrets: string[];
  before(async () => {
    sim = await startSimulator({
      accounts: [
        { id: 'acc-add', email: 'add@example.com', scenario: 'expired-token' },
        { id: 'acc-m1', email: 'm1@example.com' },
        { id: 'acc-m2', email: 'm2@example.com' },
      ],
    });
    root = await mkdtemp(join(tmpdir(), 'fleet-cli-accounts-'));
    secrets = sim.accounts.flatMap((a) => [a.accessToken, a.refreshToken, a.idToken]);
  });
  after(async () => {
    await sim.close();
    await rm(root, { recursive: true, force: true });
  });

  function cli(args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((ok) => {
      const child = execFile(
        process.execPath,
        [
          MAIN,
          'accounts',
          ...args,
          '--data-dir',
          join(root, 'data'),
          '--account-dir',
          join(root, 'account'),
          '--auth-url',
          sim.authUrl,
        ],
        { env: { ...process.env, CODEX_HOME: join(root, 'no-codex-home') } },
        (err, stdout, stderr) => {
          const all = stdout + stderr;
          // Every token the simulator ever issued is checked, including rotated ones seen so far.
          for (const s of [...secrets, ...sim.accounts.flatMap((a) => [a.accessToken, a.refreshToken])]) {
            assert.ok(!all.includes(s), 'a whole token appeared in the output');
          }
          ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
        },
      );
      child.stdin?.end(stdin ?? '');
    });
  }

  it('add (stdin), list, show: tokens masked', async () => {
    const add = await cli(['add'], JSON.stringify(cpaFile(sim.accounts[0])));
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /added codex-add@example\.com \(cpa, add@example\.com\)/);
    const list = await cli(['list', '--json']);
    assert.equal(list.code, 0, list.stderr);
    const rows = JSON.parse(list.stdout);
    assert.equal(rows.length, 1);
    assert.equal(rows[0].id, `acc-add:${sim.accounts[0].userId}`, 'one id per seat: workspace + user');
    assert.equal(rows[0].workspaceId, 'acc-add');
    assert.match(rows[0].accessToken, /^.{4}….{4}$/);
    const show = await cli(['show', 'add@example.com']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /refreshToken\s+rt_.…/);
  });

  it('add refuses a token on the command line, a duplicate, and junk, with clear errors', async () => {
    const argv = await cli(['add', '--name', sim.accounts[1].accessToken.slice(0, 30)]);
    assert.equal(argv.code, 1);
    assert.match(argv.stderr, /never taken from the command line/);
    const dup = await cli(['add'], JSON.stringify(cpaFile(sim.accounts[0])));
    assert.match(dup.stderr, /already exists/);
    const junk = await cli(['add', '--name', 'x'], '{"hello":1}');
    assert.equal(junk.code, 1);
    assert.match(junk.stderr, /not usable: not a recognized auth file/);
  });

  it('disable / enable write the flag into the file and change nothing else', async () => {
    const path = join(root, 'account', 'codex-add@example.com.json');
    const before = await readFile(path, 'utf8');
    assert.equal((await cli(['disable', 'acc-add'])).code, 0);
    const disabled = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(disabled.disabled, true);
    assert.equal((await cli(['enable', 'acc-add'])).code, 0);
    assert.equal(await readFile(path, 'utf8'), before, 'byte-identical after disable + enable');
  });

  it('refresh writes the rotated pair back (the file holds what upstream now accepts)', async () => {
    const r = await cli(['refresh', 'acc-add']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /refreshed; access token .{4}….{4} expires in/);
    const doc = JSON.parse(await readFile(join(root, 'account', 'codex-add@example.com.json'), 'utf8'));
    assert.equal(doc.refresh_token, sim.accounts[0].refreshToken);
  });

  it('import a multi-auth file from elsewhere; it is read on later runs; remove forgets it', async () => {
    const file = join(root, 'openai-codex-accounts.json');
    await writeFile(file, JSON.stringify(multiAuthFile(sim.accounts.slice(1)), null, 2), { mode: 0o600 });
    const imp = await cli(['import', file]);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /imported m1@example\.com \(multi-auth/);
    const rows = JSON.parse((await cli(['list', '--json'])).stdout);
    assert.deepEqual(rows.map((r: { workspaceId: string }) => r.workspaceId).sort(), ['acc-add', 'acc-m1', 'acc-m2']);
    const del = await cli(['remove', 'acc-m1', '--delete-file']);
    assert.equal(del.code, 1, 'a multi-auth file holds others: not deleted');
    assert.match(del.stderr, /holds other accounts too/);
    assert.equal((await cli(['remove', 'acc-m2'])).code, 0);
    const missing = await cli(['show', 'nobody']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no account "nobody"/);
  });
});
