// Which tier a test file belongs to. unit: pure and in-process (the simulator, SQLite, child Node
// processes), seconds in all. integration: real servers and the browser (Redis, PostgreSQL, the CPA
// binary, the Codex CLI, Chromium, the Docker image checks), minutes.
// The rule reads the file, so a new test lands in the right tier without a list to keep:
//   - every *.test.ts under test/ (outside test/support/), and every *.integration.test.ts or
//     *.cpa.test.ts, is integration;
//   - a test elsewhere is integration when it starts a real server through test/support
//     (postgres.ts, redis.ts, browser.ts, tryStartCpa/startCpa) or needs the real Codex CLI
//     (codexCliMissing, the @openai/codex binary);
//   - everything else is unit.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

export type Tier = 'unit' | 'integration';

const REAL_SERVER =
  /support\/(postgres|redis|browser)\.ts['"]|\b(tryStartCpa|startCpa|codexCliMissing)\b|codex-linux-x64/;

export function tierOf(path: string, source: string): Tier {
  const p = path.split(sep).join('/');
  if (p.startsWith('test/') && !p.startsWith('test/support/')) return 'integration';
  if (/\.(integration|cpa)\.test\.ts$/.test(p)) return 'integration';
  return REAL_SERVER.test(source) ? 'integration' : 'unit';
}

/** Every *.test.ts under src/ and test/ (paths relative to `root`), sorted, with its tier. */
export function testFiles(root: string): Array<{ path: string; tier: Tier }> {
  const out: Array<{ path: string; tier: Tier }> = [];
  for (const top of ['src', 'test']) {
    for (const entry of readdirSync(join(root, top), { recursive: true, withFileTypes: true })) {
      if (!entry.isFile() || !entry.name.endsWith('.test.ts')) continue;
      const full = join(entry.parentPath, entry.name);
      const path = relative(root, full).split(sep).join('/');
      out.push({ path, tier: tierOf(path, readFileSync(full, 'utf8')) });
    }
  }
  return out.sort((a, b) => a.path.localeCompare(b.path));
}
