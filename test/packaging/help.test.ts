// Every command's --help carries examples and exit codes (from src/cli/help-text.ts), the top-level list
// matches the commands' own descriptions, options that do not apply are not listed, and --version is
// package.json's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Command } from 'commander';
import { COMMAND_SUMMARIES, helpTextFor } from '../../src/cli/help-text.ts';
import { buildProgram } from '../../src/cli/program.ts';

const root = join(import.meta.dirname, '..', '..');
const main = join(root, 'src', 'cli', 'main.ts');
const cli = (...args: string[]) => spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' });

function paths(cmd: Command, prefix: string[] = []): { path: string; cmd: Command }[] {
  return cmd.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) => [{ path: [...prefix, c.name()].join(' '), cmd: c }, ...paths(c, [...prefix, c.name()])]);
}

describe('--help', () => {
  it('every command and subcommand has examples and exit codes', async () => {
    const program = await buildProgram(['node', 'codex-fleet'], { version: '0', all: true });
    const all = paths(program);
    assert.ok(all.length > 30, `found ${all.length} commands`);
    const missing = all.filter((p) => helpTextFor(p.path) === null).map((p) => p.path);
    assert.deepEqual(missing, [], 'commands without an entry in src/cli/help-text.ts');
  });

  it('the top-level summaries are the commands’ own descriptions', async () => {
    const program = await buildProgram(['node', 'codex-fleet'], { version: '0', all: true });
    const own = Object.fromEntries(
      program.commands.filter((c) => c.name() !== 'help').map((c) => [c.name(), c.description()]),
    );
    assert.deepEqual(COMMAND_SUMMARIES, own);
  });

  it('shows examples and exit codes in a real run, and only the options that apply', () => {
    const approve = cli('actions', 'approve', '--help');
    assert.equal(approve.status, 0, approve.stderr);
    assert.match(approve.stdout, /Examples:\n {2}\$ codex-fleet actions approve 12/);
    assert.match(approve.stdout, /Exit codes:\n {2}0 {2}done/);
    assert.match(approve.stdout, /--account-dir/);
    assert.doesNotMatch(approve.stdout, /--chatgpt-url|--auth-url/);
    const list = cli('runs', 'list', '--help');
    assert.doesNotMatch(list.stdout, /--account-dir|--chatgpt-url/);
    const quota = cli('help', 'quota');
    assert.match(quota.stdout, /--chatgpt-url/);
    assert.match(quota.stdout, /Exit codes:/);
    const top = cli('--help');
    assert.match(top.stdout, /completion\s+Print a shell completion script/);
    assert.match(top.stdout, /Examples:/);
  });

  it('--version prints package.json’s version', () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = cli(flag);
      assert.equal(r.status, 0);
      assert.equal(r.stdout, `${version}\n`);
    }
  });
});
