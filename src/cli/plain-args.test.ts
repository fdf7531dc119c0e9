// A plain `report` command line read without commander gives exactly the options commander gives, and every
// other line (help, mistakes, shapes only commander knows) is left to commander.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { OPTIONS } from './commands/report.ts';
import { parsePlainArgs } from './plain-args.ts';
import { buildProgram } from './program.ts';

/** What commander hands the `report` action for these arguments. */
async function commanderOptions(args: string[]): Promise<Record<string, unknown>> {
  const argv = ['node', 'codex-fleet', 'report', ...args];
  const program = (await buildProgram(argv)).exitOverride();
  const report = program.commands.find((c) => c.name() === 'report');
  assert.ok(report);
  let seen: Record<string, unknown> | undefined;
  report.action((options: Record<string, unknown>) => {
    seen = { ...options };
  });
  await program.parseAsync(argv);
  assert.ok(seen, 'the action ran');
  return seen;
}

describe('plain report command lines', () => {
  const plain: string[][] = [
    [],
    ['--json'],
    ['--json', '--data-dir', '/tmp/d', '--account-dir', 'acc'],
    ['--json', '--data-dir=/tmp/d', '--account-dir=', '--out', 'r.json'],
    ['--live', '--retries', '0', '--retry-delay', '0.5', '--timeout-ms', '100', '--concurrency', '7'],
    ['--probe', 'auto', '--chatgpt-url', 'http://127.0.0.1:1', '--auth-url', 'http://127.0.0.1:2', '--demo'],
    ['--database-url', 'sqlite:x.db', '--codex-home', 'h', '--multi-auth-file', 'm.json'],
    ['--data-dir', 'a', '--data-dir', 'b', '--json', '--json'],
    ['--out', '-'],
    ['--json', '--'],
  ];
  for (const args of plain) {
    it(`reads ${JSON.stringify(args)} as commander does`, async () => {
      assert.deepEqual(parsePlainArgs(args, OPTIONS), await commanderOptions(args));
    });
  }

  const notPlain: string[][] = [
    ['--help'],
    ['-h'],
    ['--model'],
    ['--model', 'gpt-5'],
    ['--data-dir'],
    ['--data-dir', '--json'],
    ['--data-dir', '-x'],
    ['extra'],
    ['--json', '--', 'extra'],
    ['--bogus'],
    ['--jsn'],
    ['--json=yes'],
    ['--no-json'],
  ];
  for (const args of notPlain) {
    it(`leaves ${JSON.stringify(args)} to commander`, () => {
      assert.equal(parsePlainArgs(args, OPTIONS), null);
    });
  }
});
