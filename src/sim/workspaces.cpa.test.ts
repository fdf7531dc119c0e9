// Issue 19's scenarios through the REAL CPA (api-call with $TOKEN$): the classifier must read workspaces
// without windows, spend controls, reached-limit types and a banned account exactly as over direct HTTP,
// on /wham/usage and, with /wham retired, on /codex/usage.
import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { after, describe, test } from 'node:test';
import { type StartedCpa, tryStartCpa, waitForAuthFiles } from '../../test/support/cpa.ts';
import { CpaClient } from '../cpa/client.ts';
import { probeViaCpa } from '../cpa/probe.ts';
import { probeAccount } from '../upstream/probe.ts';
import { type ScenarioName, type Simulator, startSimulator } from './index.ts';

const WANT: [ScenarioName, string, string][] = [
  ['business-spend-control', 'ok', 'no_rate_limit_windows'],
  ['enterprise-unlimited', 'ok', 'no_rate_limit_windows'],
  ['spend-control-reached', 'exhausted', 'spend_control_reached'],
  ['spend-control-reached-no-reset', 'exhausted', 'spend_control_reached'],
  ['workspace-credits-depleted', 'exhausted', 'limit_reached'],
  ['workspace-limit-evidence', 'ok', 'quota_available'],
  ['account-banned', 'blocked', 'account_blocked'],
  ['go-monthly', 'ok', 'quota_available'],
  ['inexact-windows', 'ok', 'quota_available'],
];

const accounts = (prefix: string) =>
  WANT.map(([scenario], i) => ({ id: `${prefix}-${i}`, email: `${prefix}${i}@example.com`, scenario }));
const wham = await startSimulator({ accounts: accounts('w') });
const codex = await startSimulator({ accounts: accounts('c'), retiredPaths: [{ path: '/wham', status: 404 }] });
const started = await tryStartCpa();
const cpa: StartedCpa | null = 'skip' in started ? null : started;
const skip = 'skip' in started ? started.skip : undefined;
after(async () => {
  await cpa?.stop();
  await Promise.all([wham.close(), codex.close()]);
});

describe('issue 19 scenarios through the real CPA, both usage paths', { skip }, () => {
  const client = new CpaClient({ name: 'real', url: cpa?.url ?? 'http://127.0.0.1:1', managementKey: cpa?.key ?? 'x' });
  const authIndex = new Map<string, string>();

  test('the simulator accounts appear in CPA', async () => {
    assert.ok(cpa);
    const names = [
      ...(await wham.writeAuthFiles(cpa.authDir, 'cpa', { farExpiry: true })),
      ...(await codex.writeAuthFiles(cpa.authDir, 'cpa', { farExpiry: true })),
    ].map((p) => basename(p));
    await waitForAuthFiles(cpa, names);
    const list = await client.listAuthFiles();
    assert.ok(list.ok);
    for (const f of list.value) if (f.email && f.authIndex) authIndex.set(f.email, f.authIndex);
    assert.equal(authIndex.size, WANT.length * 2);
  });

  for (const [sim, path] of [
    [wham, '/wham/usage'],
    [codex, '/codex/usage'],
  ] as [Simulator, string][]) {
    test(`${path}: same state, reason and evidence as the direct probe`, async () => {
      const pathMemory: Record<string, string> = {};
      for (const [scenario, state, reason] of WANT) {
        const a = sim.accounts.find((x) => x.scenario === scenario)!;
        const via = await probeViaCpa(
          client,
          { authIndex: authIndex.get(a.email) ?? '', accountId: a.id },
          { chatgptUrl: sim.chatgptUrl, retries: 0, pathMemory },
        );
        assert.deepEqual([via.state, via.reason], [state, reason], `${scenario}: ${via.message}`);
        assert.equal(via.source, 'cpa');
        if (state !== 'blocked') assert.equal(via.usagePath, path, scenario);
        const direct = await probeAccount(
          { accessToken: a.accessToken, accountId: a.id },
          { chatgptUrl: sim.chatgptUrl, retries: 0 },
        );
        assert.deepEqual(
          [via.state, via.reason, via.errorCode, via.message, via.snapshot?.windows.map((w) => `${w.scope}:${w.kind}`)],
          [
            direct.state,
            direct.reason,
            direct.errorCode,
            direct.message,
            direct.snapshot?.windows.map((w) => `${w.scope}:${w.kind}`),
          ],
          scenario,
        );
      }
    });
  }
});
