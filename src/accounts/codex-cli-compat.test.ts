// The real Codex CLI (0.169.0, from the @openai/codex devDependency) must still accept an auth.json
// that codex-fleet refreshed and wrote back.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { codexCliMissing } from '../../test/support/real-server.ts';
import { codexCliFile } from '../sim/auth-files.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { TokenManager } from './refresh.ts';
import { codexHomeSource } from './sources/codex-home.ts';

const CODEX_BIN = join(
  import.meta.dirname,
  '../../node_modules/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex',
);

function loginStatus(codexHome: string) {
  const r = spawnSync(CODEX_BIN, ['login', 'status'], {
    env: { PATH: process.env.PATH, HOME: codexHome, CODEX_HOME: codexHome },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: r.status, stderr: r.stderr };
}

describe('real Codex CLI accepts an auth.json that codex-fleet refreshed', {
  skip: codexCliMissing(CODEX_BIN),
}, () => {
  let sim: Simulator;
  let home: string;
  before(async () => {
    sim = await startSimulator({
      accounts: [{ id: 'acc-real', email: 'real@example.com', scenario: 'expired-token' }],
    });
    home = await mkdtemp(join(tmpdir(), 'fleet-codex-home-'));
    const doc = codexCliFile(sim.accounts[0]);
    await writeFile(join(home, 'auth.json'), JSON.stringify(doc, null, 2), { mode: 0o600 });
  });
  after(async () => {
    await sim.close();
    await rm(home, { recursive: true, force: true });
  });

  it('codex login status: "Logged in using ChatGPT", exit 0, after our refresh', async () => {
    assert.equal(loginStatus(home).status, 0, 'accepted before');
    const { accounts } = await codexHomeSource(home).load();
    assert.equal(accounts.length, 1);
    const before = await readFile(join(home, 'auth.json'), 'utf8');
    const r = await new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl }).ensureFresh(accounts[0]);
    assert.ok(r.ok && r.action === 'refreshed');
    const written = await readFile(join(home, 'auth.json'), 'utf8');
    assert.notEqual(written, before);
    assert.equal(JSON.parse(written).tokens.refresh_token, sim.accounts[0].refreshToken);
    assert.ok(!written.endsWith('\n'), 'no trailing newline, like the CLI');
    assert.equal((await stat(join(home, 'auth.json'))).mode & 0o777, 0o600);

    const status = loginStatus(home);
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stderr, /Logged in using ChatGPT/);
  });

  it('and a file we could not parse would be refused by the CLI too (the check can fail)', async () => {
    const broken = await mkdtemp(join(tmpdir(), 'fleet-codex-broken-'));
    try {
      await writeFile(join(broken, 'auth.json'), '{"auth_mode":"chatgpt","tokens":{"id_token":"x"', { mode: 0o600 });
      const status = loginStatus(broken);
      assert.equal(status.status, 1);
      assert.match(status.stderr, /Error checking login status/);
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });
});
