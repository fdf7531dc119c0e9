// The package as a user gets it: `npm pack` (which builds dist/), `npm install` of the tarball into an
// empty project, then the installed `codex-fleet` on Node 22 and Node 24 (the registry's `node` package,
// cached under ~/.cache/codex-fleet-test-node) runs --version, `quota --demo` and `serve --demo` (until
// /healthz answers, then SIGTERM); on Node 20 (this machine's system node) it prints the one-line
// requirement and exits 1. Offline-friendly: npm uses its cache first (--prefer-offline).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../support/postgres.ts';
import { waitFor, within } from '../support/wait.ts';

const root = join(import.meta.dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-pack-'));
const NODE_CACHE = process.env.CODEX_FLEET_TEST_NODE_CACHE ?? join(homedir(), '.cache', 'codex-fleet-test-node');
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

function npm(args: string[], cwd: string): string {
  const r = spawnSync('npm', [...args, '--no-audit', '--no-fund', '--prefer-offline'], {
    cwd,
    encoding: 'utf8',
    timeout: 300_000,
  });
  assert.equal(r.error, undefined, `npm ${args[0]} ran: ${r.error?.message}`);
  assert.equal(r.status, 0, `npm ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

/** A Node binary of this major line from the registry's `node` package, installed once and kept. */
function registryNode(major: number): string {
  const dir = join(NODE_CACHE, String(major));
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(bin)) {
    mkdirSync(dir, { recursive: true });
    // The `node` package fetches its platform binary in a preinstall script, which npm must be allowed to run.
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ name: `test-node-${major}`, private: true, allowScripts: { node: true } }),
    );
    npm(['install', `node@${major}`], dir);
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
  assert.match(version, new RegExp(`^v${major}\\.`), `${bin} is Node ${major}`);
  return bin;
}

let project: string;
/** Runs the installed bin the way a shell would: its `#!/usr/bin/env node` finds this Node first on PATH. */
function envFor(nodeBin: string, dataDir: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: [dirname(nodeBin), ...(process.env.PATH ?? '').split(delimiter)].join(delimiter),
    CODEX_FLEET_DATA_DIR: dataDir,
    NODE_COMPILE_CACHE: join(tmp, 'compile-cache'),
  };
}
const installedBin = () => join(project, 'node_modules', '.bin', 'codex-fleet');

before(() => {
  npm(['pack', '--pack-destination', tmp], root);
  const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
  assert.ok(tarball, 'npm pack wrote a tarball');
  project = join(tmp, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'user-project', private: true }));
  npm(['install', join(tmp, tarball)], project);
});

describe('the packed tarball', () => {
  it('ships the built output and no sources or tests', () => {
    const installed = join(project, 'node_modules', 'codex-fleet');
    const entries = readdirSync(installed).sort();
    assert.deepEqual(entries, ['LICENSE', 'README.md', 'dist', 'package.json']);
    assert.ok(existsSync(join(installed, 'dist', 'codex-fleet.js')));
    assert.ok(existsSync(join(installed, 'dist', 'web', 'index.html')), 'the dashboard files are in dist/web');
    assert.ok(!readdirSync(join(installed, 'dist')).some((f) => f.endsWith('.ts')), 'no TypeScript in dist');
  });

  for (const major of [22, 24]) {
    describe(`installed, on Node ${major}`, () => {
      let nodeBin: string;
      before(() => {
        nodeBin = registryNode(major);
      });

      it('--version prints the package version', () => {
        const r = spawnSync(installedBin(), ['--version'], {
          env: envFor(nodeBin, join(tmp, `d${major}`)),
          encoding: 'utf8',
        });
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout, `${pkg.version}\n`);
      });

      it('quota --demo prints the quota table of the simulated accounts', () => {
        const r = spawnSync(installedBin(), ['quota', '--demo'], {
          env: envFor(nodeBin, join(tmp, `q${major}`)),
          encoding: 'utf8',
          timeout: 120_000,
        });
        assert.equal(r.error, undefined);
        // The demo mix includes accounts that cannot be read (exit 1 says so); anything else is a failure.
        assert.ok(r.status === 0 || r.status === 1, `exit ${r.status}: ${r.stderr}`);
        assert.match(r.stderr, /demo mode: 30 simulated accounts/);
        assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
        assert.doesNotMatch(r.stderr, /ExperimentalWarning/, "Node 22's SQLite warning is not shown");
        assert.match(r.stdout, /5h left/);
        assert.ok(r.stdout.split('\n').filter((l) => /\b(ok|exhausted|unknown|auth_\w+)\b/.test(l)).length >= 20);
      });

      it('serve --demo answers /healthz, then stops on SIGTERM', async () => {
        const port = await freePort();
        const child = spawn(installedBin(), ['serve', '--demo', '--port', String(port)], {
          env: envFor(nodeBin, join(tmp, `s${major}`)),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        children.push(child);
        let stderr = '';
        child.stderr.on('data', (d) => {
          stderr += d;
        });
        const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
        await waitFor(
          async () => {
            if (child.exitCode !== null) assert.fail(`the server exited ${child.exitCode}: ${stderr}`);
            return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
          },
          { what: `/healthz on the installed server (Node ${major})`, timeoutMs: 60_000, retryOnError: () => true },
        );
        child.kill('SIGTERM');
        await within(exited, { what: 'the server to stop after SIGTERM', timeoutMs: 15_000, seen: () => stderr });
        assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
      });
    });
  }

  it('on Node 20 the bin prints the requirement in one line and exits 1', () => {
    const node20 = spawnSync('node', ['--version'], {
      encoding: 'utf8',
      env: { ...process.env, PATH: '/usr/local/bin:/usr/bin:/bin' },
    });
    assert.match(node20.stdout, /^v20\./, 'the system node is Node 20');
    const r = spawnSync(installedBin(), ['--version'], {
      env: { ...process.env, PATH: '/usr/local/bin:/usr/bin:/bin' },
      encoding: 'utf8',
    });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(
      r.stderr,
      /^codex-fleet needs Node >= 22\.13 \(for node:sqlite\); this is v20\.\d+\.\d+\. Install Node 22 LTS or 24\.\n$/,
    );
  });
});
