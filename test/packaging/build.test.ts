// The build replaces dist/ in place (scripts/build.ts): a process started from dist/ while another test
// packs the package (npm pack builds) must always find every file. Before, the build emptied dist/ first,
// and a server the Docker test started from it died with "Cannot find module dist/codex-fleet.js".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';

const root = join(import.meta.dirname, '..', '..');
const dist = join(root, 'dist');

function build(): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(root, 'scripts', 'build.ts')], { stdio: 'ignore' });
    child.once('exit', resolve);
  });
}

it('dist/ keeps every file while two builds run at once', async () => {
  assert.equal(await build(), 0, 'a first build');
  const files = readdirSync(dist, { recursive: true }).map(String);
  const entry = files.filter((f) => f === 'codex-fleet.js' || f === 'cli.js' || f === join('web', 'index.html'));
  assert.equal(entry.length, 3, `the build wrote the entry points (saw ${files.length} files)`);
  let looks = 0;
  const missing = new Set<string>();
  let running = true;
  const both = Promise.all([build(), build()]).finally(() => {
    running = false;
  });
  // Looks at the files for as long as the builds run; a look yields to let their exits arrive.
  while (running) {
    for (const f of files) if (!existsSync(join(dist, f))) missing.add(f);
    looks++;
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(await both, [0, 0], 'both builds succeed');
  assert.ok(looks > 1, 'dist/ was looked at while the builds ran');
  assert.deepEqual([...missing], [], 'no file of dist/ went missing during the builds');
  assert.deepEqual(readdirSync(dist, { recursive: true }).map(String).sort(), [...files].sort(), 'the same files');
  assert.ok(!readdirSync(root).some((f) => f.startsWith('.dist-staging-')), 'no staging directory is left');
});
