// TokenManager against the simulator's token endpoint (single-use rotating refresh tokens).

import assert from 'node:assert/strict';
import { lstat, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '../../test/support/wait.ts';
import type { Account } from '../domain/account.ts';
import { codexCliFile, codexQuotaFile, cpaFile, multiAuthFile } from '../sim/auth-files.ts';
import { type Simulator, startSimulator } from '../sim/index.ts';
import { refreshTokens } from '../upstream/oauth.ts';
import { detectJsonStyle, stringifyJson } from './formats/json-style.ts';
import { type TokenEvent, TokenManager } from './refresh.ts';
import { journalPath } from './refresh-journal.ts';
import { authDirSource } from './sources/auth-dir.ts';
import { multiAuthSource } from './sources/multi-auth.ts';
import { jsonDiffPaths, keyOrder } from './test-support/json-diff.ts';

async function until(check: () => boolean): Promise<void> {
  await waitFor(check, { what: `${check}`.replace(/^\(\) => /, '') });
}

/** Sets `path` (dotted) in a JSON value to the value it has in `from`. */
function copyPath(target: unknown, from: unknown, path: string): void {
  const keys = path.split('.');
  let t = target as Record<string, unknown>;
  let f = from as Record<string, unknown>;
  for (const k of keys.slice(0, -1)) {
    t = t[k] as Record<string, unknown>;
    f = f[k] as Record<string, unknown>;
  }
  const last = keys[keys.length - 1];
  t[last] = f[last];
}

async function loadOne(dir: string, file: string): Promise<Account[]> {
  const load = await authDirSource(dir).load();
  assert.deepEqual(load.errors, []);
  return load.accounts.filter((a) => basename(a.sourcePath!) === file);
}

describe('TokenManager round-trips every format against the simulator', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    sim = await startSimulator({
      accounts: [
        { id: 'acc-cli', email: 'cli@example.com', name: 'cli', scenario: 'expired-token' },
        { id: 'acc-cpa', email: 'cpa@example.com', name: 'cpa', scenario: 'expired-token' },
        { id: 'acc-quota', email: 'quota@example.com', name: 'quota', scenario: 'expired-token' },
        { id: 'acc-m1', email: 'm1@example.com', name: 'm1', scenario: 'expired-token' },
        { id: 'acc-m2', email: 'm2@example.com', name: 'm2', scenario: 'expired-token' },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'fleet-roundtrip-'));
    const [cli, cpa, quota, m1, m2] = sim.accounts;
    const put = (name: string, value: unknown) => writeFile(join(dir, name), JSON.stringify(value, null, 2));
    await put('cli.json', codexCliFile(cli));
    await put('codex-cpa@example.com.json', cpaFile(cpa));
    await put('quota.auth.json', codexQuotaFile(quota));
    await put('openai-codex-accounts.json', multiAuthFile([m1, m2]));
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });

  const cases: Array<{ file: string; extra: (doc: Record<string, unknown>) => void; allowed: RegExp }> = [
    {
      file: 'codex-cpa@example.com.json',
      extra: (d) => Object.assign(d, { priority: 2, note: '<keep & this>' }),
      allowed: /^(id_token|access_token|refresh_token|last_refresh|expired)$/,
    },
    {
      file: 'quota.auth.json',
      // codex-quota files may carry a refresh token; without one nothing can refresh.
      extra: (d) => Object.assign(d, { refresh_token: sim.accounts[2].refreshToken, label: 'kept' }),
      allowed: /^(access_token|refresh_token)$/,
    },
    {
      file: 'cli.json',
      extra: (d) => Object.assign(d, { zz_unknown: { keep: [1, 2] } }),
      allowed: /^(tokens\.(id_token|access_token|refresh_token)|last_refresh)$/,
    },
    {
      file: 'openai-codex-accounts.json',
      extra: (d) => Object.assign((d.accounts as Record<string, unknown>[])[0], { plugin: { x: 1 } }),
      allowed: /^accounts\.0\.(accessToken|refreshToken|expiresAt)$/,
    },
  ];

  for (const c of cases) {
    it(`${c.file}: read, refresh, write back, read again; only token fields change`, async () => {
      const path = join(dir, c.file);
      const doc = JSON.parse(await readFile(path, 'utf8'));
      c.extra(doc);
      const original = JSON.stringify(doc, null, 2);
      await writeFile(path, original, { mode: 0o600 });

      const [account] = await loadOne(dir, c.file);
      const events: TokenEvent[] = [];
      const manager = new TokenManager({
        refresh: 'allowed',
        authUrl: sim.authUrl,
        onTokenEvent: (e) => void events.push(e),
      });
      assert.equal(manager.needsRefresh(account), true, 'the simulator issued an expired token');
      const before = sim.stats().refreshes;
      const result = await manager.ensureFresh(account);
      assert.ok(result.ok, !result.ok ? result.message : '');
      assert.equal(result.action, 'refreshed');
      assert.equal(sim.stats().refreshes, before + 1);
      assert.deepEqual(
        events.map((e) => e.type),
        ['refreshed'],
      );

      const written = await readFile(path, 'utf8');
      const changed = jsonDiffPaths(JSON.parse(original), JSON.parse(written));
      assert.ok(changed.length >= 2, 'tokens changed');
      for (const p of changed) assert.match(p, c.allowed, `unexpected change at ${p}`);
      assert.deepEqual(keyOrder(JSON.parse(written)), keyOrder(JSON.parse(original)), 'key order kept');
      // Byte-identical except the changed fields: rebuild the expected text from the original.
      const expected = JSON.parse(original);
      for (const p of changed) copyPath(expected, JSON.parse(written), p);
      assert.equal(written, stringifyJson(expected, detectJsonStyle(original)));

      // Read again: the account holds exactly what upstream now accepts, and is fresh.
      const [again] = await loadOne(dir, c.file);
      const live = sim.accounts.find((a) => a.id === account.accountId)!;
      assert.equal(again.credentials.refreshToken, live.refreshToken);
      assert.equal(again.credentials.accessToken, live.accessToken);
      assert.equal(again.id, account.id, 'stable id');
      assert.equal(manager.needsRefresh(again), false);
      assert.deepEqual(await manager.ensureFresh(again), { ok: true, account: again, action: 'none' });
      await assert.rejects(readFile(journalPath(path)), /ENOENT/, 'no journal left after success');
    });
  }

  it('the other multi-auth entry is left alone and refreshes on its own', async () => {
    const path = join(dir, 'openai-codex-accounts.json');
    const [, second] = (await multiAuthSource(path).load()).accounts;
    const manager = new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl });
    const r = await manager.ensureFresh(second);
    assert.ok(r.ok && r.action === 'refreshed' && r.account.sourceIndex === 1);
    const doc = JSON.parse(await readFile(path, 'utf8'));
    assert.equal(doc.accounts[1].refreshToken, sim.accounts.find((a) => a.id === second.accountId)!.refreshToken);
    assert.deepEqual(doc.accounts[0].plugin, { x: 1 });
  });
});

describe('TokenManager failure handling', () => {
  let sim: Simulator;
  let dir: string;
  before(async () => {
    sim = await startSimulator({
      accounts: [
        { id: 'acc-dead', email: 'dead@example.com', name: 'dead', scenario: 'refresh-invalidated' },
        { id: 'acc-one', email: 'one@example.com', name: 'one', scenario: 'expired-token' },
        { id: 'acc-two', email: 'two@example.com', name: 'two', scenario: 'expired-token' },
      ],
    });
    dir = await mkdtemp(join(tmpdir(), 'fleet-refresh-fail-'));
    await sim.writeAuthFiles(dir, 'cpa', { farExpiry: true });
  });
  after(async () => {
    await sim.close();
    await rm(dir, { recursive: true, force: true });
  });
  const file = (name: string) => `codex-${name}@example.com.json`;

  it('a dead refresh token flags auth_invalid with the upstream code, once; no process retries it', async () => {
    const [account] = await loadOne(dir, file('dead'));
    const original = await readFile(account.sourcePath!, 'utf8');
    const events: TokenEvent[] = [];
    const manager = new TokenManager({
      refresh: 'allowed',
      authUrl: sim.authUrl,
      onTokenEvent: (e) => void events.push(e),
    });
    const first = await manager.ensureFresh(account);
    assert.ok(!first.ok);
    assert.equal(first.state, 'auth_invalid');
    assert.equal(first.code, 'refresh_token_invalidated');
    assert.equal(first.httpStatus, 401);
    assert.match(first.message, /sign in again/);
    assert.equal(events[0].type, 'auth_invalid');
    assert.equal(await readFile(account.sourcePath!, 'utf8'), original, 'file untouched');

    const upstreamCalls = sim.stats().requests['/oauth/token'];
    // A new manager (think: the next cron run) does not call upstream with the dead token again.
    const again = await new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl }).refreshAfterUnauthorized(
      account,
    );
    assert.ok(!again.ok && again.state === 'auth_invalid' && again.code === 'refresh_token_invalidated');
    assert.deepEqual(sim.stats().requests['/oauth/token'], upstreamCalls);
    const journal = JSON.parse(await readFile(journalPath(account.sourcePath!), 'utf8'));
    assert.doesNotMatch(
      JSON.stringify(journal),
      new RegExp(account.credentials.refreshToken!),
      'journal holds no token',
    );
  });

  it('a transient failure keeps the old tokens and the file byte-identical', async () => {
    const slow = await startSimulator({
      accounts: [{ id: 'acc-slow', scenario: 'expired-token' }],
      refreshDelayMs: 3000,
    });
    const slowDir = await mkdtemp(join(tmpdir(), 'fleet-refresh-slow-'));
    try {
      await slow.writeAuthFiles(slowDir, 'codex-cli');
      const { accounts } = await authDirSource(slowDir).load();
      const original = await readFile(accounts[0].sourcePath!, 'utf8');
      const manager = new TokenManager({ refresh: 'allowed', authUrl: slow.authUrl, timeoutMs: 200 });
      const r = await manager.ensureFresh(accounts[0]);
      assert.ok(!r.ok && r.state === 'transient' && r.code === 'timeout');
      assert.equal(r.account.credentials.refreshToken, accounts[0].credentials.refreshToken);
      assert.equal(await readFile(accounts[0].sourcePath!, 'utf8'), original);
    } finally {
      await slow.close();
      await rm(slowDir, { recursive: true, force: true });
    }
  });

  it('read-only managers never call upstream', async () => {
    const [account] = await loadOne(dir, file('one'));
    const calls = sim.stats().requests['/oauth/token'];
    const manager = new TokenManager({ refresh: 'never', authUrl: sim.authUrl });
    const a = await manager.ensureFresh(account);
    const b = await manager.refreshAfterUnauthorized(account);
    assert.ok(!a.ok && a.state === 'read_only' && !b.ok && b.state === 'read_only');
    assert.deepEqual(sim.stats().requests['/oauth/token'], calls);
    assert.throws(
      () => new TokenManager({ refresh: undefined as never, authUrl: sim.authUrl }),
      /must be 'allowed' or 'never'/,
    );
  });

  it('single-flight: 30 concurrent callers cause one upstream refresh and share its result', async () => {
    const [account] = await loadOne(dir, file('one'));
    const manager = new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl });
    const before = sim.stats().refreshes;
    const results = await Promise.all(Array.from({ length: 30 }, () => manager.ensureFresh(account)));
    assert.equal(sim.stats().refreshes, before + 1);
    const tokens = new Set(results.map((r) => (r.ok ? r.account.credentials.refreshToken : r.code)));
    assert.deepEqual([...tokens], [sim.accounts.find((a) => a.id === 'acc-one')!.refreshToken]);
    assert.equal(sim.stats().reusedRefreshTokens, 0);
  });

  it('a 401 with a stale copy adopts the pair another process already saved, without spending a token', async () => {
    const [stale] = await loadOne(dir, file('two'));
    const other = new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl });
    const first = await other.refreshAfterUnauthorized(stale);
    assert.ok(first.ok && first.action === 'refreshed');
    const before = sim.stats().refreshes;
    const r = await new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl }).refreshAfterUnauthorized(stale);
    assert.ok(r.ok && r.action === 'adopted');
    assert.equal(r.account.credentials.accessToken, first.account.credentials.accessToken);
    assert.equal(sim.stats().refreshes, before);
    assert.equal(sim.stats().reusedRefreshTokens, 0);
  });

  it('refresh_token_reused because a lock-ignoring writer spent it: adopt the pair that writer saves', async () => {
    const path = join(dir, 'codex-racer@example.com.json');
    const racer = await startSimulator({
      accounts: [{ id: 'acc-racer', email: 'racer@example.com', scenario: 'expired-token' }],
    });
    try {
      await writeFile(path, JSON.stringify(cpaFile(racer.accounts[0]), null, 2));
      const [account] = await loadOne(dir, 'codex-racer@example.com.json');
      // The other writer (think: CPA refreshing its own file) spends the token first, saves later.
      const theirs = await refreshTokens({
        authUrl: racer.authUrl,
        refreshToken: account.credentials.refreshToken!,
        timeoutMs: 5000,
      });
      assert.ok(theirs.ok);
      const events: TokenEvent[] = [];
      const manager = new TokenManager({
        refresh: 'allowed',
        authUrl: racer.authUrl,
        onTokenEvent: (e) => void events.push(e),
      });
      const pending = manager.ensureFresh(account);
      await until(() => racer.stats().reusedRefreshTokens === 1);
      const doc = JSON.parse(await readFile(path, 'utf8'));
      await writeFile(
        path,
        JSON.stringify(
          { ...doc, access_token: theirs.tokens.accessToken, refresh_token: theirs.tokens.refreshToken },
          null,
          2,
        ),
      );
      const r = await pending;
      assert.ok(r.ok && r.action === 'adopted', !r.ok ? r.message : '');
      assert.equal(r.account.credentials.refreshToken, theirs.tokens.refreshToken);
      assert.deepEqual(
        events.map((e) => e.type),
        ['adopted'],
      );
    } finally {
      await racer.close();
    }
  });

  it('a symlinked Codex CLI auth.json is refreshed in place: the link stays, the CLI lock files are used', async () => {
    const linker = await startSimulator({
      accounts: [{ id: 'acc-link', email: 'link@example.com', scenario: 'expired-token' }],
    });
    const home = await mkdtemp(join(tmpdir(), 'fleet-link-home-'));
    const linkDir = await mkdtemp(join(tmpdir(), 'fleet-link-dir-'));
    try {
      await writeFile(join(home, 'auth.json'), JSON.stringify(codexCliFile(linker.accounts[0]), null, 2), {
        mode: 0o600,
      });
      await symlink(join(home, 'auth.json'), join(linkDir, 'work.json'));
      const [account] = (await authDirSource(linkDir).load()).accounts;
      const r = await new TokenManager({ refresh: 'allowed', authUrl: linker.authUrl }).ensureFresh(account);
      assert.ok(r.ok && r.action === 'refreshed', !r.ok ? r.message : '');
      assert.ok((await lstat(join(linkDir, 'work.json'))).isSymbolicLink(), 'still a link');
      const real = JSON.parse(await readFile(join(home, 'auth.json'), 'utf8'));
      assert.equal(real.tokens.refresh_token, linker.accounts[0].refreshToken);
      assert.ok((await readdir(home)).includes('auth.lock'), "the CLI's own lock file was used");
    } finally {
      await linker.close();
      await rm(home, { recursive: true, force: true });
      await rm(linkDir, { recursive: true, force: true });
    }
  });

  it('accounts whose tokens live on a CPA server or nowhere are never refreshed here', async () => {
    const [account] = await loadOne(dir, file('one'));
    const manager = new TokenManager({ refresh: 'allowed', authUrl: sim.authUrl });
    const cpa = await manager.refreshNow({ ...account, sourceKind: 'cpa' });
    const none = await manager.refreshNow({ ...account, sourcePath: null });
    assert.ok(!cpa.ok && cpa.state === 'unsupported' && !none.ok && none.state === 'unsupported');
  });

  it('an expired token without a refresh token asks for a new sign-in', async () => {
    const path = join(dir, 'norefresh.auth.json');
    await writeFile(path, JSON.stringify({ access_token: sim.accounts[0].accessToken, account_id: 'acc-x' }));
    const [account] = await loadOne(dir, 'norefresh.auth.json');
    const r = await new TokenManager({
      refresh: 'allowed',
      authUrl: sim.authUrl,
      clock: () => Date.now() + 30 * 86_400_000,
    }).ensureFresh(account);
    assert.ok(!r.ok && r.state === 'auth_invalid' && r.code === 'no_refresh_token');
  });
});
