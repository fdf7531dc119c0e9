// `codex-fleet report --json | head -c 10`: the reader closes the pipe early; the CLI stops quietly
// (no EPIPE stack trace) instead of crashing.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { startSimulator } from '../../src/sim/index.ts';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-pipe-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

before(async () => {
  // Enough accounts that the JSON is far larger than a pipe's buffer (64 KiB), so writes hit the closed pipe.
  const sim = await startSimulator({ count: 400 });
  try {
    await sim.writeAuthFiles(join(tmp, 'account'), 'cpa');
  } finally {
    await sim.close();
  }
});

it('report --json | head -c 10 exits quietly', () => {
  const errFile = join(tmp, 'stderr');
  const r = spawnSync(
    'sh',
    [
      '-c',
      `"$NODE" "$MAIN" report --json --data-dir "$DIR/data" --account-dir "$DIR/account" 2>"$ERR" | head -c 10; echo " status=$?"`,
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, NODE: process.execPath, MAIN: main, DIR: tmp, ERR: errFile },
      timeout: 60_000,
    },
  );
  assert.equal(r.status, 0);
  // Piped, so one compact line (src/cli/json-output.ts): the first 10 bytes, then the shell's status.
  assert.match(r.stdout, /^\{"[^\n]{8} status=0\n$/s);
  const stderr = readFileSync(errFile, 'utf8');
  assert.doesNotMatch(stderr, /EPIPE|Error|\n\s+at /, `stderr: ${stderr}`);
});
