// Runs the test suite N times in a row and reports every failure with its test name, file and run
// number: a suite that is green once may still fail one run in four. With --beside a second copy of
// the suite runs alongside, over and over, as the load a CI run shares with other work.
// Usage: npm run test:flake -- [--runs 10] [--beside] [--tier all|unit|integration] [files…]
// Exit code 0 only when every run of the measured copy passed. Logs: <out>/run-N.log, beside-N.log.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

const ROOT = resolve(import.meta.dirname, '../..');
const RUNNER = join(ROOT, 'test/setup/run-tests.ts');

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '10' },
    beside: { type: 'boolean', default: false },
    tier: { type: 'string', default: 'all' },
    out: { type: 'string' },
  },
});
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`flake-check: --runs must be a whole number >= 1 (got ${values.runs})`);
  process.exit(2);
}
const out = values.out ?? join(tmpdir(), `codex-fleet-flake-${new Date().toISOString().replace(/[:.]/g, '-')}`);
mkdirSync(out, { recursive: true });

interface Failure {
  name: string;
  file?: string;
  line?: number;
  error: string;
}

interface RunResult {
  code: number | null;
  seconds: number;
  failures: Failure[];
}

/** One run of the suite, its output to `log`, its failures read from the failure reporter's file. */
function runSuite(label: string): { child: ChildProcess; done: Promise<RunResult> } {
  // Both copies share the machine, never a port or a directory: every test picks free ports and temp dirs.
  const failuresFile = join(out, `${label}.failures.jsonl`);
  const log = createWriteStream(join(out, `${label}.log`));
  const started = Date.now();
  const child = spawn(process.execPath, [RUNNER, '--tier', values.tier as string, ...positionals], {
    cwd: ROOT,
    env: { ...process.env, CODEX_FLEET_TEST_FAILURES: failuresFile, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so the load copy can be stopped with everything it started
  });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const done = new Promise<RunResult>((resolveRun) => {
    child.once('exit', (code) => {
      log.end();
      const failures = existsSync(failuresFile)
        ? readFileSync(failuresFile, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Failure)
        : [];
      // A run that failed without a test failing (a crash, a runner error) is still a failure.
      if (code !== 0 && failures.length === 0)
        failures.push({ name: '(the run itself)', error: `exit code ${code}; see ${label}.log` });
      resolveRun({ code, seconds: Math.round((Date.now() - started) / 1000), failures });
    });
  });
  return { child, done };
}

const where = (f: Failure) => (f.file ? `${f.file.replace(`${ROOT}/`, '')}${f.line ? `:${f.line}` : ''}` : '');

// The load: a second copy of the suite, restarted until the measured runs are over.
let stopping = false;
const besideResults: RunResult[] = [];
const beside = values.beside
  ? (async () => {
      for (let n = 1; !stopping; n++) {
        besideResults.push(await runSuite(`beside-${n}`).done);
      }
    })()
  : Promise.resolve();

const what = positionals.length > 0 ? `${positionals.length} file(s)` : `the ${values.tier} tier`;
console.log(
  `flake-check: ${runs} run(s) of ${what}${values.beside ? ', a second copy running beside as load' : ''}; logs in ${out}`,
);
const results: RunResult[] = [];
for (let n = 1; n <= runs; n++) {
  const result = await runSuite(`run-${n}`).done;
  results.push(result);
  const verdict = result.failures.length === 0 ? 'pass' : `FAIL (${result.failures.length})`;
  console.log(`run ${n}/${runs}: ${verdict} in ${result.seconds} s`);
  for (const f of result.failures) console.log(`  ✖ ${f.name}  ${where(f)}\n      ${f.error}`);
}

stopping = true;
// The load copy finishes the run it is in (killing it would orphan the servers its tests started).
if (values.beside) console.log('waiting for the load copy to finish its current run…');
await beside;

const failed = results.filter((r) => r.failures.length > 0).length;
console.log(`\nflake-check: ${runs - failed}/${runs} runs passed`);
const byTest = new Map<string, number[]>();
results.forEach((r, i) => {
  for (const f of r.failures) {
    const key = `${f.name}  ${where(f)}`;
    byTest.set(key, [...(byTest.get(key) ?? []), i + 1]);
  }
});
for (const [test, runNumbers] of byTest) console.log(`  ✖ ${test}: failed in run(s) ${runNumbers.join(', ')}`);
if (values.beside) {
  const besideFailed = besideResults.filter((r) => r.failures.length > 0);
  console.log(
    `load copy: ${besideResults.length} complete run(s), ${besideFailed.length} with failures${besideFailed.length ? ':' : ''}`,
  );
  for (const r of besideFailed) for (const f of r.failures) console.log(`  ✖ ${f.name}  ${where(f)}`);
}
process.exit(failed === 0 ? 0 : 1);
