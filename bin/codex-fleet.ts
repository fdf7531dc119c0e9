#!/usr/bin/env node
// The installed `codex-fleet` command (built to dist/codex-fleet.js): refuses an old Node in one line,
// turns on V8's compile cache, then loads the CLI. Only syntax and imports every Node parses, so the
// version check runs before anything that needs node:sqlite is linked.
import module from 'node:module';

/** node:sqlite is available without a flag from 22.13 (and on 23.4+). */
const MINIMUM: [number, number] = [22, 13];
const [major, minor] = process.versions.node.split('.').map(Number);

if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  console.error(
    `codex-fleet needs Node >= ${MINIMUM.join('.')} (for node:sqlite); this is ${process.version}. Install Node 22 LTS or 24.`,
  );
  process.exit(1);
}
// Node 22 calls node:sqlite experimental and says so on every run; the store is tested on it, so that
// one warning is noise on stderr for the operator. Every other warning still prints.
const emitWarning = process.emitWarning.bind(process) as (...args: unknown[]) => void;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
  if (type === 'ExperimentalWarning' && String(warning).includes('SQLite')) return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;
// Compiled code is cached on disk (os.tmpdir()/node-compile-cache), so later starts skip parsing.
module.enableCompileCache?.();
await import('../src/cli/main.ts');
