import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeFileAtomic } from './atomic-write.ts';

describe('writeFileAtomic', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fleet-atomic-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replaces the content, forces mode 0600 and leaves no temp file', async () => {
    const path = join(dir, 'codex-a.json');
    await writeFile(path, 'old', { mode: 0o644 });
    await writeFileAtomic(path, '{"new":true}');
    assert.equal(await readFile(path, 'utf8'), '{"new":true}');
    assert.equal((await stat(path)).mode & 0o777, 0o600);
    assert.deepEqual(await readdir(dir), ['codex-a.json']);
  });

  it('creates a new file 0600 whatever the umask', async () => {
    const path = join(dir, 'fresh.json');
    const old = process.umask(0);
    try {
      await writeFileAtomic(path, 'x');
    } finally {
      process.umask(old);
    }
    assert.equal((await stat(path)).mode & 0o777, 0o600);
  });

  it('fails with the error and leaves the old file untouched when the target cannot be replaced', async () => {
    const target = join(dir, 'a-directory');
    await rm(target, { recursive: true, force: true });
    await import('node:fs/promises').then((fs) => fs.mkdir(join(target, 'child'), { recursive: true }));
    await assert.rejects(writeFileAtomic(target, 'x'), /EISDIR|ENOTEMPTY|EEXIST/);
    assert.ok((await stat(target)).isDirectory());
    assert.equal((await readdir(dir)).filter((n) => n.includes('.tmp-')).length, 0, 'temp file cleaned up');
  });

  it('writing through a symlink replaces the file it points to and keeps the link', async () => {
    const real = join(dir, 'real-auth.json');
    const link = join(dir, 'linked.json');
    await writeFile(real, 'old', { mode: 0o600 });
    await symlink(real, link);
    await writeFileAtomic(link, 'new');
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readFile(real, 'utf8'), 'new');
  });

  it('a concurrent reader sees the old or the new content, never a mix', async () => {
    const path = join(dir, 'race.json');
    const a = JSON.stringify({ v: 'a'.repeat(200_000) });
    const b = JSON.stringify({ v: 'b'.repeat(200_000) });
    await writeFileAtomic(path, a);
    let stop = false;
    const seen = new Set<string>();
    const reader = (async () => {
      while (!stop) {
        const text = await readFile(path, 'utf8');
        seen.add(text === a ? 'a' : text === b ? 'b' : 'torn');
      }
    })();
    for (let i = 0; i < 20; i++) await writeFileAtomic(path, i % 2 ? a : b);
    stop = true;
    await reader;
    assert.ok(!seen.has('torn'), 'no torn read');
  });
});
