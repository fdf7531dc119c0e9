// Runs every line of the README's "Quick tour" code block, as written, on a fresh demo dir: the lines
// share one demo store, so each builds on the one before. `npm start -- --demo` runs the same serve
// command on a free port (npm's default 8081 may be taken) and checks that its pages have data.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, REPO_ROOT, runCli } from '../support/cli.ts';

/** The Quick tour's shell lines, comments stripped. */
export function quickTourLines(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## Quick tour'));
  const block = /```sh\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('README has no Quick tour code block');
  return block[1]
    .split('\n')
    .map((l) => l.replace(/\s+#\s.*$/, '').trim())
    .filter(Boolean);
}

/** `npx codex-fleet a b 'c d'` → ['a', 'b', 'c d'] (single quotes only, as the README uses). */
function words(cmd: string): string[] {
  return [...cmd.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]);
}

function runJq(filter: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('jq', [filter], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

async function serveDemoOnce(env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn(process.execPath, [CLI, 'serve', '--demo', '--port', '0'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve --demo did not start in 60 s:\n${err}`)), 60_000);
      child.stderr.on('data', (d) => {
        err += d;
        const m = /dashboard at (http:\/\/\S+?)\/? /.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.on('exit', (code) => reject(new Error(`serve --demo exited ${code}:\n${err}`)));
    });
    const pool = (await (await fetch(`${url}/api/pool`)).json()) as { pool: { total: number } };
    assert.equal(pool.pool.total, 30);
    const history = (await (await fetch(`${url}/api/series/pool?range=7d`)).json()) as { usable: Array<number | null> };
    assert.ok(history.usable.filter((v) => v != null).length >= 24, 'the pool chart has a week of points at once');
    const traffic = (await (await fetch(`${url}/api/monitor/summary`)).json()) as { requests: number };
    assert.ok(traffic.requests > 1000, `monitoring has the seeded week of traffic (${traffic.requests} requests)`);
  } finally {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
}

describe('README quick tour, line by line on a fresh demo dir', () => {
  const lines = quickTourLines(readFileSync(join(REPO_ROOT, 'README.md'), 'utf8'));
  let dir: string;
  let env: NodeJS.ProcessEnv;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'codex-fleet-quick-tour-'));
    env = {
      CODEX_FLEET_DEMO_DIR: join(dir, 'demo'),
      // Lines without --demo use the current directory's defaults: keep them in the temp dir.
      CODEX_FLEET_DATA_DIR: join(dir, 'data'),
      CODEX_HOME: join(dir, 'codex-home'),
    };
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('has the lines the README promises', () => {
    assert.ok(lines.length >= 5, `quick tour has ${lines.length} lines`);
    assert.equal(lines[0], 'npm start -- --demo');
  });

  for (const line of lines) {
    it(line, async () => {
      if (line === 'npm start -- --demo') return serveDemoOnce(env);
      const pipe = line.indexOf(' | jq ');
      const [cmd, jq] = pipe < 0 ? [line, undefined] : [line.slice(0, pipe), line.slice(pipe + 3)];
      const [npx, bin, ...args] = words(cmd);
      assert.deepEqual([npx, bin], ['npx', 'codex-fleet'], `unexpected quick tour line: ${line}`);
      const r = await runCli(args, { env, cwd: dir });
      if (args[0] === 'doctor') {
        // doctor exits 1 when it finds something to fix (here: no accounts, no CPA): it must say what.
        assert.ok(r.code === 0 || r.code === 1, `doctor exited ${r.code}: ${r.stderr}`);
        assert.match(r.stdout, /fix|ok/i);
        return;
      }
      if (args[0] === 'quota' && r.code === 1) {
        // quota exits 1 when an account cannot be read right now (the demo's Cloudflare account), and says so.
        assert.match(r.stderr, /could not be read now/);
      } else {
        assert.equal(r.code, 0, `${line} exited ${r.code}:\n${r.stderr}`);
      }
      assert.ok(r.stdout.trim().length > 0, `${line} printed nothing`);
      assert.doesNotMatch(r.stderr, /unknown option|no accounts/i);
      if (args[0] === 'report') assert.doesNotMatch(r.stdout, /never checked/);
      if (jq) {
        const words2 = words(jq);
        assert.equal(words2[0], 'jq');
        const out = await runJq(words2[1], r.stdout);
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stdout.trim(), /^\d+$/);
        assert.ok(Number(out.stdout) > 0, 'the demo has rate-limited accounts');
      }
      if (args[0] === 'forecast') assert.match(r.stdout, /high confidence/, 'the forecast has history to work with');
      if (args[0] === 'actions') assert.doesNotMatch(r.stdout, /^no pending actions/, 'inspect --demo queued actions');
    });
  }
});
