import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Account } from '../domain/account.ts';
import { resolveDuplicates } from './duplicates.ts';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const H = 3_600_000;

function copy(path: string, over: Partial<Account> = {}, creds: Partial<Account['credentials']> = {}): Account {
  return {
    id: 'ws-1:user-a',
    name: path,
    email: 'ann@example.com',
    plan: 'team',
    accountId: 'ws-1',
    userId: 'user-a',
    format: 'cpa',
    sourceKind: 'auth-dir',
    sourcePath: `/auth/${path}.json`,
    sourceIndex: null,
    disabled: false,
    credentials: {
      accessToken: 'at',
      refreshToken: 'rt',
      idToken: null,
      accountId: 'ws-1',
      expiresAt: NOW + H,
      lastRefresh: new Date(NOW - H).toISOString(),
      ...creds,
    },
    addedAt: null,
    lastUsed: null,
    ...over,
  };
}

describe('duplicate seats across files', () => {
  const cases: Array<{ name: string; copies: Account[]; dead?: string[]; kept: string; why: RegExp }> = [
    {
      name: 'newer tokens win over an older copy read first',
      copies: [copy('a-old', {}, { expiresAt: NOW + H }), copy('b-new', {}, { expiresAt: NOW + 9 * H })],
      kept: 'b-new',
      why: /tokens are newer/,
    },
    {
      name: 'a dead copy never hides a live one, even when it is newer',
      copies: [copy('a-dead', {}, { expiresAt: NOW + 9 * H }), copy('b-live')],
      dead: ['a-dead'],
      kept: 'b-live',
      why: /refresh token is dead/,
    },
    {
      name: 'an expired copy without a refresh token loses to one that can work',
      copies: [
        copy('a-expired', {}, { refreshToken: null, expiresAt: NOW - H }),
        copy('b-ok', {}, { expiresAt: NOW - 2 * H }),
      ],
      kept: 'b-ok',
      why: /expired and cannot refresh/,
    },
    {
      name: 'a disabled copy loses to an enabled one',
      copies: [copy('a-off', { disabled: true }, { expiresAt: NOW + 9 * H }), copy('b-on')],
      kept: 'b-on',
      why: /disabled/,
    },
    {
      name: 'last_refresh decides when exp is the same',
      copies: [copy('a', {}, { lastRefresh: new Date(NOW - 5 * H).toISOString() }), copy('b')],
      kept: 'b',
      why: /newer/,
    },
    {
      name: 'equal copies: the first read wins',
      copies: [copy('a'), copy('b')],
      kept: 'a',
      why: /first one read wins/,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = resolveDuplicates(c.copies, { now: NOW, isDead: (a) => (c.dead ?? []).includes(a.name) });
      assert.equal(r.accounts.length, 1);
      assert.equal(r.accounts[0].name, c.kept);
      assert.equal(r.duplicates.length, 1);
      const d = r.duplicates[0];
      assert.equal(d.kept.name, c.kept);
      // The warning names both files, and never token content.
      for (const a of c.copies) assert.ok(d.message.includes(a.sourcePath!), d.message);
      assert.match(d.message, c.why);
      assert.doesNotMatch(d.message, /\brt\b|\bat\b(?! )/);
    });
  }

  it('different seats of one workspace are not duplicates; order is kept', () => {
    const r = resolveDuplicates(
      [
        copy('b', { id: 'ws-1:user-b', userId: 'user-b' }),
        copy('a'),
        copy('a2', {}, { expiresAt: NOW + 5 * H }),
        copy('c', { id: 'ws-1:user-c', userId: 'user-c' }),
      ],
      { now: NOW },
    );
    assert.deepEqual(
      r.accounts.map((a) => a.name),
      ['b', 'a2', 'c'],
    );
    assert.equal(r.duplicates.length, 1);
  });

  it('a multi-account file entry is named with its index; seat-less copies say why they cannot be told apart', () => {
    const r = resolveDuplicates(
      [
        copy('multi', { id: 'ws-1', userId: null, email: null, sourceIndex: 3 }),
        copy('q', { id: 'ws-1', userId: null, email: null }, { expiresAt: NOW + 9 * H }),
      ],
      { now: NOW },
    );
    assert.match(r.duplicates[0].message, /\/auth\/multi\.json \(entry 3\)/);
    assert.match(r.duplicates[0].message, /no user or email/);
  });
});
