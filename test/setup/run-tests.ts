// The suite: makes sure the real servers the tests use are installed (Redis, PostgreSQL, Chromium from
// Debian), then runs node's test runner over the test files of a tier (see tiers.ts).
// Usage: node test/setup/run-tests.ts [--tier unit|integration|all] [--list] [files…]
// CODEX_FLEET_TEST_FAILURES=FILE also writes one JSON line per failed test to FILE (the flake check).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ensureSystemPackages } from './system-packages.ts';
import { type Tier, testFiles } from './tiers.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { tier: { type: 'string', default: 'all' }, list: { type: 'boolean', default: false } },
});
const tier = values.tier as Tier | 'all';
if (!['unit', 'integration', 'all'].includes(tier)) {
  console.error(`run-tests: --tier must be unit, integration or all (got ${tier})`);
  process.exit(2);
}

const all = testFiles(ROOT);
const chosen =
  positionals.length > 0 ? positionals : all.filter((f) => tier === 'all' || f.tier === tier).map((f) => f.path);
if (values.list) {
  for (const f of all.filter((x) => chosen.includes(x.path))) console.log(`${f.tier.padEnd(12)} ${f.path}`);
  process.exit(0);
}

// Unit tests need no system package; anything else may.
if (tier !== 'unit' || positionals.length > 0) {
  for (const m of ensureSystemPackages()) {
    console.error(
      `\n!!! ${m.name} could not be installed (${m.why}); tests that need it will be SKIPPED (in CI: fail).\n`,
    );
  }
}

const failures = process.env.CODEX_FLEET_TEST_FAILURES;
const args = [
  '--test',
  '--test-concurrency=2',
  // A safety net so a hung test fails with its name instead of holding the run forever.
  '--test-timeout=300000',
  '--test-reporter=spec',
  '--test-reporter-destination=stdout',
  ...(failures
    ? [
        `--test-reporter=${resolve(import.meta.dirname, 'failure-reporter.ts')}`,
        `--test-reporter-destination=${failures}`,
      ]
    : []),
  ...chosen,
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env, cwd: ROOT });
process.exit(result.status ?? 1);
