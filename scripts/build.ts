// Builds the package users install: plain JavaScript in dist/ (Node does not strip TypeScript types under
// node_modules), the web dashboard's static files beside it, and the launcher that checks the Node version.
// Run by `npm run build`, and by `prepare`/`prepack` so git installs and registry tarballs both get it.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { NODE_BUNDLE } from './node-bundle.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

/**
 * commander requires node:child_process when it loads, for executable subcommands this CLI does not have.
 * Loading it (and net and dgram behind it) is about a tenth of a cached report's start-up, so commander gets
 * an object that loads the module on first use instead.
 */
const commanderChildProcessOnUse: Plugin = {
  name: 'commander-child-process-on-use',
  setup(b) {
    b.onResolve({ filter: /^(node:)?child_process$/ }, (args) =>
      args.kind === 'require-call' && /[\\/]node_modules[\\/]commander[\\/]/.test(args.importer)
        ? { path: 'child_process', namespace: 'child-process-on-use' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'child-process-on-use' }, () => ({
      contents:
        "module.exports = new Proxy({}, { get: (_, key) => process.getBuiltinModule('node:child_process')[key] });",
      loader: 'js',
    }));
  },
};

/** Every file below dir (paths). */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

const result = await build({
  absWorkingDir: root,
  // The launcher only checks the Node version, then imports the CLI: it must parse on an old Node.
  entryPoints: {
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
  outdir: dist,
  // preact and htm are still read from node_modules at run time (the dashboard serves their files).
  ...NODE_BUNDLE,
  // Each command stays its own chunk, loaded by the dynamic import in commands/index.ts.
  splitting: true,
  // Flat: every chunk sits in dist/, so dist/web is the one place the dashboard files are looked up.
  chunkNames: '[name]-[hash]',
  plugins: [commanderChildProcessOnUse],
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
  for (const file of result.outputFiles) place(file.path, file.contents);
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
