// The auth_index → account mapping (issue 20) and the stored disagreement thresholds: pure, table-like.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountIndexMap, disagreementSettingsOf } from '../../src/core/request-outcomes.ts';
import { authIndexFor } from '../../src/cpa/auth-index.ts';
import type { Account } from '../../src/domain/account.ts';
import { DEFAULT_DISAGREEMENT_SETTINGS } from '../../src/inspect/disagreement.ts';

function account(
  id: string,
  extra: Partial<Account> & { cpa?: { server: string; authIndex: string | null } },
): Account {
  return {
    id,
    name: id,
    email: null,
    plan: null,
    accountId: null,
    userId: null,
    format: 'cpa',
    sourceKind: 'account-dir',
    sourcePath: null,
    sourceIndex: null,
    disabled: false,
    credentials: {} as Account['credentials'],
    addedAt: null,
    lastUsed: null,
    ...extra,
  } as Account;
}

describe('accountIndexMap', () => {
  it('maps CPA accounts by their listed auth_index and local files by sha256("codex:" + path)', () => {
    const map = accountIndexMap([
      account('cpa:main:a.json', { sourceKind: 'cpa', cpa: { server: 'main', authIndex: 'aaaa' } }),
      account('local-b', { sourcePath: '/srv/auth/b.json' }),
      account('multi-c', { sourcePath: '/srv/multi.json', sourceIndex: 2 }),
    ]);
    assert.equal(map.get('aaaa'), 'cpa:main:a.json');
    assert.equal(map.get(authIndexFor('codex', '/srv/auth/b.json')), 'local-b');
    assert.equal(map.size, 2, 'a multi-auth entry is no file CPA can proxy');
  });

  it('a CPA listing wins over a local file of the same path', () => {
    const index = authIndexFor('codex', '/srv/auth/b.json');
    const map = accountIndexMap([
      account('local-b', { sourcePath: '/srv/auth/b.json' }),
      account('cpa:main:b.json', { sourceKind: 'cpa', cpa: { server: 'main', authIndex: index } }),
    ]);
    assert.equal(map.get(index), 'cpa:main:b.json');
  });

  it('an index two CPA servers share maps to the collector server, else to none', () => {
    const both = [
      account('cpa:one:x.json', { sourceKind: 'cpa', cpa: { server: 'one', authIndex: 'same' } }),
      account('cpa:two:x.json', { sourceKind: 'cpa', cpa: { server: 'two', authIndex: 'same' } }),
    ];
    assert.equal(accountIndexMap(both).has('same'), false);
    assert.equal(accountIndexMap(both, 'two').get('same'), 'cpa:two:x.json');
  });
});

describe('disagreementSettingsOf', () => {
  it('keeps the defaults for absent or invalid values', () => {
    assert.deepEqual(disagreementSettingsOf(null), DEFAULT_DISAGREEMENT_SETTINGS);
    assert.deepEqual(disagreementSettingsOf({ minFailures: 'x', minFailureShare: 2, minSuccesses: -1 }), {
      ...DEFAULT_DISAGREEMENT_SETTINGS,
    });
    assert.deepEqual(disagreementSettingsOf({ minFailures: 10, reprobeEveryMinutes: 1 }), {
      ...DEFAULT_DISAGREEMENT_SETTINGS,
      minFailures: 10,
      reprobeEveryMinutes: 1,
    });
  });
});
