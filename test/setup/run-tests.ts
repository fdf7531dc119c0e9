// The whole suite: makes sure the real servers the tests use are installed (Redis, PostgreSQL,
// Chromium from Debian), then runs node's test runner over every *.test.ts file.
import { spawnSync } from 'node:child_process';
import { ensureSystemPackages } from './system-packages.ts';

const missing = ensureSystemPackages();
for (const m of missing) {
  console.error(`\n!!! ${m.name} could not be installed (${m.why}); tests that need it will be SKIPPED.\n`);
}

const files = process.argv.slice(2);
const args = [
  '--test',
  '--test-concurrency=2',
  '--test-reporter=spec',
  ...(files.length > 0 ? files : ['src/**/*.test.ts', 'test/**/*.test.ts']),
];
const result = spawnSync(process.execPath, args, { stdio: 'inherit', env: process.env });
process.exit(result.status ?? 1);
