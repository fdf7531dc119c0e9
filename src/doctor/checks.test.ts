// The pure doctor checks, one table per check: every status reachable, each with a fix when not ok.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Account } from '../domain/account.ts';
import { DEFAULT_POLICY_SETTINGS } from '../domain/inspection.ts';
import {
  authFileChecks,
  buildReport,
  codexCliCheck,
  collectorCheck,
  describePolicy,
  policyCheck,
  recordsFlowCheck,
  trafficCheck,
} from './checks.ts';

const NOW = Date.parse('2026-11-23T12:00:00Z');

function account(name: string, over: Partial<Account> = {}, creds: Partial<Account['credentials']> = {}): Account {
  return {
    id: name,
    name,
    email: `${name}@example.com`,
    plan: 'plus',
    accountId: `acct-${name}`,
    userId: null,
    format: 'cpa',
    sourceKind: 'auth-dir',
    sourcePath: `/x/${name}.json`,
    sourceIndex: null,
    disabled: false,
    credentials: {
      accessToken: 'at',
      refreshToken: 'rt',
      idToken: 'id',
      accountId: `acct-${name}`,
      expiresAt: null,
      lastRefresh: null,
      ...creds,
    },
    addedAt: null,
    lastUsed: null,
    ...over,
  };
}

describe('authFileChecks', () => {
  it('complete metadata is ok', () => {
    const [c] = authFileChecks([account('a'), account('b')], []);
    assert.equal(c.status, 'ok');
  });
  it('missing email / account id / refresh token is a warning naming what is missing', () => {
    const checks = authFileChecks(
      [account('a', { email: null }), account('b', { accountId: null }, { accountId: null, refreshToken: null })],
      [],
    );
    const meta = checks.find((c) => c.id === 'accounts.metadata')!;
    assert.equal(meta.status, 'warning');
    assert.match(meta.message, /a \(no email\)/);
    assert.match(meta.message, /b \(no account id, refresh token\)/);
    assert.ok(meta.fix);
  });
  it('a codex-quota file needs no refresh token', () => {
    const [c] = authFileChecks([account('q', { format: 'codex-quota' }, { refreshToken: null })], []);
    assert.equal(c.status, 'ok');
  });
  it('a CPA account needs no local token: CPA holds it', () => {
    const cpa = account('c', { sourceKind: 'cpa' }, { accessToken: null, refreshToken: null });
    const checks = authFileChecks([cpa], []);
    assert.equal(
      checks.find((c) => c.id === 'accounts.tokens'),
      undefined,
    );
    assert.equal(checks.find((c) => c.id === 'accounts.metadata')?.status, 'ok');
  });

  it('no access token, or an unreadable file, fails', () => {
    const checks = authFileChecks([account('a', {}, { accessToken: null })], ['/x/broken.json']);
    assert.equal(checks.find((c) => c.id === 'accounts.tokens')?.status, 'failed');
    assert.equal(checks.find((c) => c.id === 'accounts.readable')?.status, 'failed');
  });
});

describe('policy in plain words', () => {
  it('manual by default', () => {
    assert.match(policyCheck(DEFAULT_POLICY_SETTINGS).message, /^manual/);
    assert.match(describePolicy(DEFAULT_POLICY_SETTINGS)[2], /Delete: never automatic/);
  });
  it('opt-ins are spelled out, with the delete confirmation window', () => {
    const lines = describePolicy({ autoDisable: true, autoEnable: true, autoDelete: true, deleteConfirmMinutes: 90 });
    assert.match(lines[0], /Disable: automatic/);
    assert.match(lines[1], /only for accounts codex-fleet disabled itself/);
    assert.match(lines[2], /two inspections at least 1h 30m apart/);
  });
});

describe('collectorCheck', () => {
  const queueId = 'resp://127.0.0.1:8317/usage';
  it('no lease ever: warning with how to start one', () => {
    const c = collectorCheck({ queueId, lease: null, lastEventAt: null, now: NOW });
    assert.equal(c.status, 'warning');
    assert.match(c.message, /no collector has ever consumed/);
    assert.match(c.fix ?? '', /serve|monitor run/);
  });
  it('expired lease: not running, last holder named', () => {
    const lease = { holder: 'hostA:12', acquiredAt: NOW - 3_600_000, expiresAt: NOW - 60_000 };
    const c = collectorCheck({ queueId, lease, lastEventAt: NOW - 120_000, now: NOW });
    assert.equal(c.status, 'warning');
    assert.match(c.message, /not running.*hostA:12/);
    assert.match(c.message, /last event .* \(2m ago\)|last event/);
  });
  it('live lease: running, holder and last event', () => {
    const lease = { holder: 'hostB:7', acquiredAt: NOW - 60_000, expiresAt: NOW + 10_000 };
    const c = collectorCheck({ queueId, lease, lastEventAt: undefined, now: NOW });
    assert.equal(c.status, 'ok');
    assert.match(c.message, /hostB:7 holds the lease/);
    assert.match(c.message, /monitoring tables do not exist/);
  });
});

describe('traffic and record flow', () => {
  it('traffic: unknown / none / some', () => {
    assert.equal(trafficCheck('main', null).status, 'warning');
    assert.match(trafficCheck('main', 0).message, /no requests/);
    assert.equal(trafficCheck('main', 3).status, 'ok');
  });
  const base = { server: 'main', requests: 5, publishing: true, collectorRunningSince: NOW - 60_000 };
  it('records stored since the collector started: ok', () => {
    assert.equal(recordsFlowCheck({ ...base, lastEventAt: NOW - 1000 }).status, 'ok');
  });
  it('requests and a running collector but nothing stored: warning about another consumer', () => {
    const c = recordsFlowCheck({ ...base, lastEventAt: null });
    assert.equal(c.status, 'warning');
    assert.match(c.fix ?? '', /SUBSCRIBE/);
  });
  it('not decidable without traffic, publishing or a running collector', () => {
    assert.equal(recordsFlowCheck({ ...base, requests: 0, lastEventAt: null }).status, 'ok');
    assert.equal(recordsFlowCheck({ ...base, collectorRunningSince: null, lastEventAt: null }).status, 'ok');
  });
});

describe('codexCliCheck', () => {
  it('a version is ok; no binary is a warning with the fix', () => {
    assert.equal(codexCliCheck('codex', 'codex-cli 0.169.0', null).status, 'ok');
    const missing = codexCliCheck('/opt/none/codex', null, 'not found');
    assert.equal(missing.status, 'warning');
    assert.match(missing.message, /not found/);
    assert.match(missing.fix ?? '', /CODEX_CLI_BIN/);
  });
});

describe('buildReport', () => {
  it('ok only without failures; each of the six causes takes the worst of its checks', () => {
    const report = buildReport(
      [
        { id: 'cpa.reachable', subject: 'main', status: 'ok', message: '', fix: null },
        { id: 'cpa.usage_publishing', subject: 'main', status: 'failed', message: '', fix: 'x' },
        { id: 'cpa.traffic', subject: 'main', status: 'warning', message: '', fix: 'y' },
      ],
      NOW,
    );
    assert.equal(report.ok, false);
    assert.deepEqual(report.counts, { ok: 1, warning: 1, failed: 1 });
    const status = Object.fromEntries(report.emptyMonitoring.map((c) => [c.id, c.status]));
    assert.deepEqual(status, {
      usage_statistics_disabled: 'failed',
      retention_too_short: 'unknown',
      records_taken_elsewhere: 'unknown',
      no_requests_yet: 'warning',
      collector_not_running: 'unknown',
      wrong_key_or_port: 'ok',
    });
    assert.equal(report.emptyMonitoring.length, 6);
  });
});
