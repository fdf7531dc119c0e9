// `codex-fleet completion bash|zsh|fish`: each script is loaded in the real shell and asked to complete a
// command and an option (zsh through a pseudo-terminal and a real Tab key, fish with `complete -C`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { hasCommand } from '../setup/system-packages.ts';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const tmp = mkdtempSync(join(tmpdir(), 'codex-fleet-completion-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function script(shell: string): string {
  const r = spawnSync(process.execPath, [main, 'completion', shell], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const file = join(tmp, `codex-fleet.${shell}`);
  writeFileSync(file, r.stdout);
  return file;
}

function run(shell: string, args: string[]): string {
  const r = spawnSync(shell, args, { encoding: 'utf8', timeout: 20_000, env: { ...process.env, TERM: 'dumb' } });
  assert.equal(r.error, undefined, `${shell} ran: ${r.error?.message}`);
  assert.equal(r.status, 0, `${shell} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A shell the test needs; off CI a missing one skips loudly, in CI it fails. */
function need(shell: string): boolean {
  if (hasCommand(shell)) return true;
  if (process.env.CI === 'true') assert.fail(`${shell} is not installed (test/setup/system-packages.ts installs it)`);
  return false;
}

describe('completion scripts', () => {
  it('bash: registers for codex-fleet and completes a command and an option', (t) => {
    if (!need('bash')) return t.skip('bash missing');
    const file = script('bash');
    const complete = (words: string[]) =>
      `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _codex_fleet; echo "\${COMPREPLY[*]}"`;
    const out = run('bash', [
      '-c',
      `source '${file}'; complete -p codex-fleet; ${complete(['codex-fleet', 'act'])}; ${complete(['codex-fleet', 'actions', 'app'])}; ${complete(['codex-fleet', 'quota', '--raw-j'])}`,
    ]).split('\n');
    assert.match(out[0], /-F _codex_fleet codex-fleet/);
    assert.equal(out[1], 'actions');
    assert.equal(out[2], 'approve');
    assert.equal(out[3], '--raw-json');
  });

  it('bash: `actions approve` offers no upstream option (only the options that apply)', (t) => {
    if (!need('bash')) return t.skip('bash missing');
    const file = script('bash');
    const out = run('bash', [
      '-c',
      `source '${file}'; COMP_WORDS=(codex-fleet actions approve --); COMP_CWORD=3; _codex_fleet; echo "\${COMPREPLY[*]}"`,
    ]);
    assert.match(out, /--data-dir/);
    assert.doesNotMatch(out, /--chatgpt-url/);
  });

  it('zsh: a Tab in an interactive zsh completes a subcommand and an option', (t) => {
    if (!need('zsh')) return t.skip('zsh missing');
    const file = script('zsh');
    // zpty gives zsh a terminal; `zpty -r` waits (up to the spawn timeout) until the completed line shows.
    const driver = join(tmp, 'drive.zsh');
    writeFileSync(
      driver,
      `zmodload zsh/zpty
zpty -b z 'zsh -f -i'
zpty -w z "PS1='> '; source '${file}'; codex-fleet() { :; }"
zpty -w -n z $'codex-fleet actions app\\t'
zpty -r z out '*approve *' && print -r -- "SUB-OK"
zpty -w -n z $'\\C-u'
zpty -w -n z $'codex-fleet quota --raw-j\\t'
zpty -r z out '*--raw-json *' && print -r -- "OPT-OK"
zpty -d z
`,
    );
    const out = run('zsh', ['-f', driver]);
    assert.match(out, /SUB-OK/);
    assert.match(out, /OPT-OK/);
  });

  it('fish: `complete -C` completes a command (with its description) and an option', (t) => {
    if (!need('fish')) return t.skip('fish missing');
    const file = script('fish');
    const out = run('fish', [
      '-N',
      '-c',
      `source '${file}'; complete -C 'codex-fleet act'; echo ---; complete -C 'codex-fleet actions app'; echo ---; complete -C 'codex-fleet quota --raw-j'`,
    ]);
    const [top, sub, opt] = out.split('---\n');
    assert.match(top, /^actions\tThe action queue/m);
    assert.match(sub, /^approve\t/m);
    assert.match(opt, /^--raw-json\t/m);
  });

  it('an unknown shell is a clear error', () => {
    const r = spawnSync(process.execPath, [main, 'completion', 'tcsh'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.match(r.stderr, /shell must be one of bash, zsh, fish/);
  });
});
