// The layering rule, enforced: the application core (src/core) and the pure rule modules import no
// face (src/server, src/cli, src/web), and the rule modules import no orchestration (src/core) either.
// A face may import the core; never the other way round.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';

const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');
const FACES = ['src/server/', 'src/cli/', 'src/web/'];

/** Data in, decision out: the modules the brief calls rules. */
const RULE_MODULES = [
  'src/domain',
  'src/inspect/inspection.ts',
  'src/inspect/status.ts',
  'src/inspect/forecast.ts',
  'src/inspect/report.ts',
  'src/inspect/metrics.ts',
  'src/inspect/windows.ts',
  'src/inspect/flags.ts',
  'src/inspect/schedule.ts',
  'src/actions/policy.ts',
  'src/upstream/classify.ts',
  'src/upstream/parse.ts',
  'src/upstream/sanitize.ts',
  'src/monitor/cost.ts',
  'src/monitor/sanitize.ts',
];

function filesUnder(path: string): string[] {
  const full = join(ROOT, path);
  if (!statSync(full).isDirectory()) return [full];
  return readdirSync(full, { recursive: true, encoding: 'utf8' })
    .map((f) => join(full, f))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
}

/** Every module a file imports (static, re-export and dynamic with a literal), as paths from the repo root. */
export function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [
    ...text.matchAll(/(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/g),
    ...text.matchAll(/import\(\s*['"]([^'"]+)['"]\s*\)/g),
    ...text.matchAll(/^import\s+['"]([^'"]+)['"]/gm),
  ].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => relative(ROOT, resolve(dirname(file), s)));
}

function violations(files: string[], forbidden: string[]): string[] {
  const out: string[] = [];
  for (const file of files) {
    for (const target of importsOf(file)) {
      if (forbidden.some((f) => `${target}/`.startsWith(f) || target.startsWith(f))) {
        out.push(`${relative(ROOT, file)} imports ${target}`);
      }
    }
  }
  return out;
}

describe('layering', () => {
  it('the core imports no face', () => {
    const files = filesUnder('src/core');
    assert.ok(files.length > 5, 'found the core modules');
    assert.deepEqual(violations(files, FACES), []);
  });

  it('the rule modules import no face and no orchestration', () => {
    const files = RULE_MODULES.flatMap(filesUnder);
    assert.ok(files.length >= RULE_MODULES.length, 'found the rule modules');
    assert.deepEqual(violations(files, [...FACES, 'src/core/']), []);
  });

  it('the checker sees a forbidden import when there is one', () => {
    // The route module imports the server's context: proof the scan reads real imports.
    const found = violations([join(SRC, 'server/routes/accounts.ts')], ['src/server/']);
    assert.ok(found.length > 0, 'a server module importing the server is found');
  });
});
