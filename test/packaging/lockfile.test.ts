// The lock file stays in sync with package.json: `npm ci` (which the Dockerfile and CI run) refuses a lock
// that is out of date, where `npm install` would silently rewrite it. Checked in a temp copy, so the
// worktree's node_modules is not touched.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-lock-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

it('npm ci accepts package.json with package-lock.json (dry run, no scripts)', () => {
  for (const f of ['package.json', 'package-lock.json']) copyFileSync(join(root, f), join(tmp, f));
  const r = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd: tmp,
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(r.error, undefined, `npm ran: ${r.error?.message}`);
  assert.equal(r.status, 0, `npm ci would fail on a clean clone:\n${r.stderr}`);
});
