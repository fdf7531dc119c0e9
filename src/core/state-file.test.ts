// The codex-quota state file: the same rows as `quota --json` (stale windows kept on a transient
// failure), written atomically with mode 0600, read back, and one writer keeping the newest rows.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { resolveConfig } from './config.ts';
import { Fleet } from './fleet.ts';
import type { QuotaRow } from './quota-rows.ts';
import {
  checkStateFilePath,
  createStateFileWriter,
  readStateFile,
  rowsFromQuotaCheck,
  writeStateFile,
} from './state-file.ts';

let sim: Simulator;
let dir: string;
let fleet: Fleet;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cf-state-file-'));
  sim = await startSimulator({
    accounts: [
      { scenario: 'healthy', email: 'a-healthy@example.com' },
      { scenario: 'exhausted', email: 'b-exhausted@example.com' },
      { scenario: 'healthy', email: 'c-later-cloudflare@example.com' },
    ],
  });
  await sim.writeAuthFiles(join(dir, 'account'), 'cpa');
  fleet = await Fleet.open(
    resolveConfig(
      {
        dataDir: join(dir, 'data'),
        accountDir: join(dir, 'account'),
        chatgptUrl: sim.chatgptUrl,
        authUrl: sim.authUrl,
        retries: 0,
      },
      {},
    ),
  );
});
after(async () => {
  await fleet?.close();
  await sim?.close();
  await rm(dir, { recursive: true, force: true });
});

const byName = (rows: QuotaRow[], part: string) => rows.find((r) => r.name.includes(part))!;

describe('state file', () => {
  it('holds the quota rows after a sweep; a transient failure keeps the last windows, marked stale', async () => {
    const first = await fleet.checkQuota({ force: true, tokenRefresh: 'never' });
    const path = join(dir, 'state.json');
    await writeStateFile(path, rowsFromQuotaCheck(first, fleet.clock()), fleet.clock());
    const one = await readStateFile(path);
    assert.ok(one.ok && one.content);
    assert.equal(one.content.results.length, 3);
    assert.equal(byName(one.content.results, 'a-healthy').state, 'ok');
    assert.equal(byName(one.content.results, 'b-exhausted').state, 'exhausted');
    assert.ok(!Number.isNaN(Date.parse(one.content.updatedAt)));
    assert.equal((await stat(path)).mode & 0o777, 0o600);

    const later = sim.accounts.find((a) => a.email.includes('c-later'))!;
    sim.setScenario(later.id, 'cloudflare');
    const second = await fleet.checkQuota({ force: true, tokenRefresh: 'never' });
    await writeStateFile(path, rowsFromQuotaCheck(second, fleet.clock()), fleet.clock());
    const two = await readStateFile(path);
    assert.ok(two.ok && two.content);
    const row = byName(two.content.results, 'c-later');
    assert.equal(row.reason, 'cloudflare_challenge');
    assert.equal(row.stale, true);
    assert.ok(row.windows.length > 0, 'last known windows kept');
    assert.deepEqual(
      (await readdir(dir)).filter((f) => f.startsWith('state.json') && f !== 'state.json'),
      [],
      'no temp file left',
    );
    const text = await readFile(path, 'utf8');
    for (const a of sim.accounts) assert.ok(!text.includes(a.accessToken), 'no token in the file');
  });

  it('one writer: many writes in a row end with the newest rows on disk', async () => {
    const path = join(dir, 'writer.json');
    const writer = createStateFileWriter(path);
    const rows = (n: number) => [{ name: `row-${n}` } as QuotaRow];
    const writes = Array.from({ length: 20 }, (_, i) => writer.write(rows(i)));
    await Promise.all(writes);
    const read = await readStateFile(path);
    assert.ok(read.ok && read.content);
    assert.equal(read.content.results[0].name, 'row-19');
  });

  it('a write that cannot happen is reported, not thrown', async () => {
    const errors: string[] = [];
    const writer = createStateFileWriter(join(dir, 'missing-dir', 'x.json'), { onError: (m) => errors.push(m) });
    await writer.write([]);
    assert.equal(errors.length, 1);
    assert.match(errors[0], /cannot write state file/);
  });

  it('bad paths and broken files get clear errors', async () => {
    const noDir = await checkStateFilePath(join(dir, 'nope', 'state.json'));
    assert.equal(noDir.ok, false);
    assert.match(!noDir.ok ? noDir.error : '', /does not exist/);
    await mkdir(join(dir, 'adir'));
    const isDir = await checkStateFilePath(join(dir, 'adir'));
    assert.match(!isDir.ok ? isDir.error : '', /is a directory/);
    assert.equal((await checkStateFilePath(join(dir, 'fine.json'))).ok, true);

    assert.deepEqual(await readStateFile(join(dir, 'absent.json')), { ok: true, content: null });
    await writeFile(join(dir, 'broken.json'), '{"updatedAt":');
    const broken = await readStateFile(join(dir, 'broken.json'));
    assert.match(!broken.ok ? broken.error : '', /not JSON/);
    await writeFile(join(dir, 'wrong.json'), '{"rows":[]}');
    const wrong = await readStateFile(join(dir, 'wrong.json'));
    assert.match(!wrong.ok ? wrong.error : '', /not \{updatedAt, results\[\]\}/);
  });
});
