// The exit-code rule (README, Install): with no accounts, quota, report, forecast and inspect all exit 1
// and say so on stderr, with nothing on stdout.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-exit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

it('no accounts: quota, report, forecast and inspect exit 1 with a message naming the cause', () => {
  const accountDir = join(tmp, 'account');
  mkdirSync(accountDir);
  // Loopback upstream that nothing answers: with no accounts nothing is ever asked.
  const common = ['--data-dir', join(tmp, 'data'), '--account-dir', accountDir];
  const upstream = ['--chatgpt-url', 'http://127.0.0.1:9/backend-api', '--auth-url', 'http://127.0.0.1:9/oauth/token'];
  for (const command of ['quota', 'report', 'forecast', 'inspect']) {
    const r = spawnSync(process.execPath, [main, command, ...common, ...upstream], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 1, `${command} exits 1 (stderr: ${r.stderr})`);
    assert.match(r.stderr, /no accounts/, `${command} says there are no accounts`);
    assert.equal(r.stdout, '', `${command} prints nothing on stdout`);
  }
});
