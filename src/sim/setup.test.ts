// Pure parts: latency distributions, the --latency-ms and --scenarios flags, scenario files.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  createRng,
  parseLatencyFlag,
  parseScenarioSetup,
  parseScenariosFlag,
  readScenarioFile,
  SCENARIO_NAMES,
  SCENARIOS,
  sampleLatency,
  startSimulator,
} from './index.ts';

test('every scenario name has a definition with a description, and a row in the README', async () => {
  const readme = await readFile(join(import.meta.dirname, 'README.md'), 'utf8');
  for (const name of SCENARIO_NAMES) {
    assert.ok(SCENARIOS[name].description.length > 5, name);
    assert.match(readme, new RegExp(`^\\| \`${name}\` +\\|`, 'm'), `README row for ${name}`);
  }
});

test('latency: same seed, same samples; distributions stay in range', () => {
  const draw = (seed: number) => {
    const rng = createRng(seed);
    return Array.from({ length: 5 }, () => sampleLatency({ kind: 'normal', meanMs: 300, sdMs: 50 }, rng));
  };
  assert.deepEqual(draw(7), draw(7));
  assert.notDeepEqual(draw(7), draw(8));
  const rng = createRng(1);
  const uniform = Array.from({ length: 1000 }, () => sampleLatency({ kind: 'uniform', minMs: 100, maxMs: 200 }, rng));
  assert.ok(uniform.every((x) => x >= 100 && x <= 200));
  const normal = Array.from({ length: 1000 }, () => sampleLatency({ kind: 'normal', meanMs: 10, sdMs: 50 }, rng));
  assert.ok(
    normal.every((x) => x >= 0),
    'never negative',
  );
  const logn = Array.from({ length: 4001 }, () => sampleLatency({ kind: 'lognormal', medianMs: 300, sigma: 0.5 }, rng));
  const median = logn.sort((a, b) => a - b)[2000];
  assert.ok(median > 250 && median < 350, `median ${median} near 300`);
  assert.equal(sampleLatency(42, rng), 42);
  assert.equal(sampleLatency(undefined, rng), 0);
});

test('--latency-ms forms', () => {
  assert.equal(parseLatencyFlag('300'), 300);
  assert.deepEqual(parseLatencyFlag('100-500'), { kind: 'uniform', minMs: 100, maxMs: 500 });
  assert.deepEqual(parseLatencyFlag('normal:300,50'), { kind: 'normal', meanMs: 300, sdMs: 50 });
  assert.deepEqual(parseLatencyFlag('lognormal:300,0.5'), { kind: 'lognormal', medianMs: 300, sigma: 0.5 });
  assert.throws(() => parseLatencyFlag('fast'), /use MS/);
  assert.throws(() => parseLatencyFlag('500-100'), /min <= max/);
  assert.throws(() => parseLatencyFlag('lognormal:0,1'), /median/);
});

test('--scenarios flag', () => {
  const specs = parseScenariosFlag('healthy:2, cloudflare ,exhausted:1');
  assert.deepEqual(
    specs.map((s) => s.scenario),
    ['healthy', 'healthy', 'cloudflare', 'exhausted'],
  );
  assert.throws(() => parseScenariosFlag('healthy:0'), /COUNT >= 1/);
  assert.throws(() => parseScenariosFlag('sunny'), /unknown scenario "sunny"/);
  assert.throws(() => parseScenariosFlag(''), /empty/);
});

test('scenario files: array or object form, count expands, errors name the field', async () => {
  const setup = parseScenarioSetup({
    accounts: [{ scenario: 'healthy', email: 'x@example.test', count: 3 }, { scenario: 'cloudflare' }],
    latency: { kind: 'uniform', minMs: 1, maxMs: 2 },
    cloudflareMaxInFlight: 4,
    retiredPaths: [{ path: '/wham', status: 404 }],
  });
  assert.equal(setup.accounts.length, 4);
  assert.deepEqual(
    setup.accounts.map((a) => a.email),
    ['x+1@example.test', 'x+2@example.test', 'x+3@example.test', undefined],
  );
  assert.equal(setup.cloudflareMaxInFlight, 4);
  assert.equal(parseScenarioSetup([{ scenario: 'pro' }]).accounts.length, 1);
  assert.throws(() => parseScenarioSetup({ accounts: [{ scenario: 'sunny' }] }), /accounts\.0\.scenario/);
  assert.throws(() => parseScenarioSetup({ accounts: [], colour: 'red' }), /colour|Unrecognized/);

  const dir = await mkdtemp(join(tmpdir(), 'sim-setup-'));
  try {
    await writeFile(join(dir, 'ok.json'), JSON.stringify([{ scenario: 'flaky', failures: 3 }]));
    assert.equal((await readScenarioFile(join(dir, 'ok.json'))).accounts[0].failures, 3);
    await writeFile(join(dir, 'bad.json'), '{ nope');
    await assert.rejects(readScenarioFile(join(dir, 'bad.json')), /is not JSON/);
    await assert.rejects(readScenarioFile(join(dir, 'missing.json')), /cannot read scenario file/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the example scenario file is valid and starts a simulator', async () => {
  const setup = await readScenarioFile(join(import.meta.dirname, 'examples', 'fleet.json'));
  assert.equal(setup.accounts.length, 17);
  assert.deepEqual(setup.retiredPaths, [{ path: '/codex', status: 404 }]);
  const sim = await startSimulator({ ...setup, latency: 0 });
  try {
    assert.equal(sim.accounts.filter((a) => a.email.startsWith('ops+')).length, 5);
    const res = await fetch(`${sim.chatgptUrl}/codex/usage`, {
      headers: { authorization: `Bearer ${sim.accounts[0].accessToken}` },
    });
    assert.equal(res.status, 404, 'retired by the file');
    await res.body?.cancel();
    await assert.rejects(startSimulator({ accounts: [], port: Number(new URL(sim.baseUrl).port) }), /port is in use/);
  } finally {
    await sim.close();
  }
});
