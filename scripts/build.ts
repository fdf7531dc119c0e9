// Builds the package users install: plain JavaScript in dist/ (Node does not strip TypeScript types under
// node_modules), the web dashboard's static files beside it, and the launcher that checks the Node version.
// Run by `npm run build`, and by `prepare`/`prepack` so git installs and registry tarballs both get it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type CodeSplittingNameFunction, type Plugin } from 'rolldown';
import { NODE_INPUT, NODE_OUTPUT } from './node-bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * commander requires node:child_process when it loads, for executable subcommands this CLI does not have.
 * Loading it (and net and dgram behind it) is about a tenth of a cached report's start-up, so commander gets
 * an object that loads the module on first use instead.
 */
const CHILD_PROCESS_ON_USE = '\0child-process-on-use';
const commanderChildProcessOnUse: Plugin = {
  name: 'commander-child-process-on-use',
  resolveId(source, importer) {
    return /^(node:)?child_process$/.test(source) && importer && /[\\/]node_modules[\\/]commander[\\/]/.test(importer)
      ? CHILD_PROCESS_ON_USE
      : null;
  },
  load(id) {
    return id === CHILD_PROCESS_ON_USE
      ? "module.exports = new Proxy({}, { get: (_, key) => process.getBuiltinModule('node:child_process')[key] });"
      : null;
  },
};

/**
 * One chunk for the core: every module the Fleet and its FleetService import, statically and transitively
 * (the store, the account sources, the rules, the report), which every command that reads accounts loads
 * whole. Left to automatic splitting, a bundler cuts that code by which set of dynamic imports reaches each
 * module: a cached report loaded 40 files, and the ESM loader's cost per file (resolve, read, compile-cache
 * lookup, link) made loading them a fifth slower than the same bytes in one file. What the command line
 * itself needs (argument parsing, help, the signal handler) stays out of it, so `--help` and `--version`
 * load none of the core. A module reached only by a dynamic import stays lazy, in a chunk of its own.
 */
const CORE_ROOTS = ['src/core/fleet.ts', 'src/core/fleet-service.ts'];
const COMMAND_LINE_ROOTS = ['src/cli/main.ts', 'src/cli/program.ts', 'src/cli/plain-args.ts', 'src/core/shutdown.ts'];

function coreChunk(): CodeSplittingNameFunction {
  let core: Set<string> | undefined;
  const closure = (roots: string[], ctx: Parameters<CodeSplittingNameFunction>[1]) => {
    const seen = new Set<string>();
    const visit = (id: string) => {
      if (seen.has(id)) return;
      seen.add(id);
      for (const next of ctx.getModuleInfo(id)?.importedIds ?? []) visit(next);
    };
    for (const r of roots) visit(join(root, r));
    return seen;
  };
  return (id, ctx) => {
    if (!core) {
      core = closure(CORE_ROOTS, ctx);
      for (const m of closure(COMMAND_LINE_ROOTS, ctx)) core.delete(m);
    }
    return core.has(id) ? 'core' : null;
  };
}

/** Every file below dir (paths). */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const result = await build({
  ...NODE_INPUT,
  cwd: root,
  // The launcher only checks the Node version, then imports the CLI: it must parse on an old Node.
  input: {
    'codex-fleet': 'bin/codex-fleet.ts',
    cli: 'src/cli/main.ts',
    index: 'src/index.ts',
    // The simulator is its own subpath export (codex-fleet/sim): the core never loads it.
    sim: 'src/sim/index.ts',
    // The collector's SQLite connection runs on this worker thread (src/store/sqlite-worker.ts).
    'sqlite-worker-thread': 'src/store/sqlite-worker-thread.ts',
    // `monitor run` stores through this one: the same loop plus the procedure that stores a batch.
    'monitor-storage-thread': 'src/monitor/monitor-storage-thread.ts',
  },
  // preact and htm are still read from node_modules at run time (the dashboard serves their files).
  plugins: [commanderChildProcessOnUse],
  // Chunks may export more than their entry's own exports; needed for the core group below.
  preserveEntrySignatures: 'allow-extension',
  output: {
    ...NODE_OUTPUT,
    // Flat: every chunk sits in dist/, so dist/web is the one place the dashboard files are looked up.
    dir: dist,
    chunkFileNames: '[name]-[hash].js',
    // Outside the core, each command stays its own chunk, loaded by the dynamic import in cli/main.ts.
    codeSplitting: {
      // The core group takes exactly the modules named above, not also what they import from the command line.
      includeDependenciesRecursively: false,
      groups: [{ name: coreChunk(), debugName: 'core' }],
    },
  },
  write: false,
});

// dist/ is replaced file by file, each file renamed into place, and never emptied: a process running from
// it (a server started by one test while another test packs the package, which builds) always finds every
// file whole. Chunk names come from their content, so two builds of one source write the same files.
const staging = mkdtempSync(join(root, '.dist-staging-'));
try {
  const wanted = new Set<string>();
  let n = 0;
  const place = (path: string, contents: Uint8Array) => {
    const staged = join(staging, String(n++));
    writeFileSync(staged, contents);
    mkdirSync(dirname(path), { recursive: true });
    renameSync(staged, path);
    wanted.add(path);
  };
  for (const file of result.output) {
    place(join(dist, file.fileName), file.type === 'chunk' ? Buffer.from(file.code) : Buffer.from(file.source));
  }
  const web = join(root, 'src', 'web');
  for (const file of filesBelow(web).filter((f) => !f.endsWith('.test.ts') && !f.endsWith('.test.js'))) {
    place(join(dist, 'web', relative(web, file)), readFileSync(file));
  }
  // Files of an older build (chunks under other names) go once the new ones are in place.
  for (const file of filesBelow(dist)) if (!wanted.has(file)) rmSync(file, { force: true });
} finally {
  rmSync(staging, { recursive: true, force: true });
}
console.error(`build: wrote ${dist}`);
