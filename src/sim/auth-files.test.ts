// Auth files written by the simulator: valid JSON in each format of UPSTREAM.md §4, owner-only,
// carrying the live tokens.

import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { AUTH_FILE_WRITE_FORMATS, decodeJwtPayload, type Simulator, startSimulator } from './index.ts';
import type { Json } from './test-json.ts';

const T0 = Date.UTC(2026, 0, 1);
let sim: Simulator;
let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'sim-auth-files-'));
  sim = await startSimulator({
    accounts: [
      { scenario: 'healthy', email: 'a@example.test' },
      { scenario: 'expired-token', email: 'b@example.test' },
      { scenario: 'team-monthly', email: 'c@example.test' },
      { scenario: 'pro', email: 'd@example.test', name: 'dee' },
      { scenario: 'cloudflare', email: 'e@example.test' },
    ],
    clock: () => T0,
  });
});
after(async () => {
  await sim.close();
  await rm(root, { recursive: true, force: true });
});

async function readAll(paths: string[]) {
  const out: Array<{ path: string; json: Json }> = [];
  for (const p of paths) {
    assert.equal((await stat(p)).mode & 0o777, 0o600, `${p} is 0600`);
    out.push({ path: p, json: JSON.parse(await readFile(p, 'utf8')) });
  }
  return out;
}

test('cpa: codex-<email>.json with the real token expiry, or a far expiry when asked', async () => {
  const files = await readAll(await sim.writeAuthFiles(join(root, 'cpa'), 'cpa'));
  assert.equal(files.length, 5);
  const a = files.find((f) => basename(f.path) === 'codex-a@example.test.json')!.json;
  const acct = sim.accounts[0];
  assert.deepEqual(Object.keys(a), [
    'type',
    'email',
    'id_token',
    'access_token',
    'refresh_token',
    'account_id',
    'last_refresh',
    'expired',
    'disabled',
  ]);
  assert.equal(a.type, 'codex');
  assert.equal(a.access_token, acct.accessToken);
  assert.equal(a.account_id, acct.id);
  assert.equal(a.disabled, false);
  assert.equal(Date.parse(a.expired), acct.expiresAt * 1000);
  const expired = files.find((f) => f.json.email === 'b@example.test')!.json;
  assert.ok(Date.parse(expired.expired) < T0, 'the expired-token account is written as expired');
  const far = await readAll(await sim.writeAuthFiles(join(root, 'cpa-far'), 'cpa', { farExpiry: true }));
  assert.ok(far.every((f) => f.json.expired === '2099-01-01T00:00:00Z'));
});

test('codex-cli: auth.json shape with tokens and account_id', async () => {
  const files = await readAll(await sim.writeAuthFiles(join(root, 'cli'), 'codex-cli'));
  assert.deepEqual(
    files.map((f) => basename(f.path)),
    ['a.json', 'b.json', 'c.json', 'dee.json', 'e.json'],
  );
  const f = files[2].json;
  assert.equal(f.auth_mode, 'chatgpt');
  assert.equal(f.OPENAI_API_KEY, null);
  assert.equal(f.tokens.account_id, sim.accounts[2].id);
  const claims = decodeJwtPayload(f.tokens.id_token)!;
  assert.equal((claims['https://api.openai.com/auth'] as Json).chatgpt_plan_type, 'team');
  assert.ok(!Number.isNaN(Date.parse(f.last_refresh)));
});

test('codex-quota: <name>.auth.json with access_token and account_id only', async () => {
  const files = await readAll(await sim.writeAuthFiles(join(root, 'cq'), 'codex-quota'));
  assert.equal(basename(files[3].path), 'dee.auth.json');
  assert.deepEqual(Object.keys(files[0].json), ['access_token', 'account_id']);
});

test('multi-auth: one v3 file with every account', async () => {
  const [file] = await readAll(await sim.writeAuthFiles(join(root, 'ma'), 'multi-auth'));
  assert.equal(basename(file.path), 'openai-codex-accounts.json');
  assert.equal(file.json.version, 3);
  assert.equal(file.json.activeIndex, 0);
  assert.equal(file.json.accounts.length, 5);
  const first = file.json.accounts[0];
  assert.deepEqual(Object.keys(first).sort(), [
    'accessToken',
    'accountId',
    'addedAt',
    'email',
    'enabled',
    'expiresAt',
    'lastUsed',
    'refreshToken',
  ]);
  assert.equal(first.expiresAt, sim.accounts[0].expiresAt * 1000);
});

test('mixed: every format once, every account exactly once', async () => {
  const dir = join(root, 'mixed');
  const paths = await sim.writeAuthFiles(dir, 'mixed');
  const files = await readAll(paths);
  assert.equal((await readdir(dir)).length, paths.length);
  const ids = files.flatMap((f) =>
    f.json.version === 3
      ? f.json.accounts.map((x: Json) => x.accountId)
      : [f.json.account_id ?? f.json.tokens?.account_id],
  );
  assert.deepEqual(ids.sort(), sim.accounts.map((a) => a.id).sort());
  assert.ok(files.some((f) => f.json.type === 'codex'));
  assert.ok(files.some((f) => f.json.auth_mode === 'chatgpt'));
  assert.ok(files.some((f) => f.path.endsWith('.auth.json')));
});

test('written tokens work against the simulator; refreshed tokens show up in the next write', async () => {
  const [file] = await readAll(await sim.writeAuthFiles(join(root, 'live'), 'multi-auth'));
  const res = await fetch(`${sim.chatgptUrl}/wham/usage`, {
    headers: { authorization: `Bearer ${file.json.accounts[0].accessToken}` },
  });
  assert.equal(res.status, 200);
  await res.body?.cancel();
  const r = await fetch(sim.authUrl, {
    method: 'POST',
    body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: file.json.accounts[3].refreshToken }),
  });
  assert.equal(r.status, 200);
  const { refresh_token } = await r.json();
  const [again] = await readAll(await sim.writeAuthFiles(join(root, 'live2'), 'multi-auth'));
  assert.equal(again.json.accounts[3].refreshToken, refresh_token);
});

test('unknown format is refused', async () => {
  assert.ok(AUTH_FILE_WRITE_FORMATS.includes('mixed'));
  await assert.rejects(sim.writeAuthFiles(join(root, 'x'), 'yaml' as never), /unknown auth file format/);
});
