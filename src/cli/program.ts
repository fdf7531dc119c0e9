// The commander program: registers only the command being run (each lives in its own module), lists every
// command from one-line summaries for the top-level help, and attaches examples and exit codes to --help.
import { Command } from 'commander';
import { COMMAND_LOADERS } from './commands/index.ts';
import { COMMAND_SUMMARIES, helpTextFor } from './help-text.ts';

type Loader = () => Promise<{ register: (program: Command) => void }>;

/** `completion` is part of the CLI itself: it needs every command registered to describe them. */
const LOADERS: Record<string, Loader> = {
  ...COMMAND_LOADERS,
  completion: () => import('./completion.ts'),
};

export interface BuildOptions {
  /** From package.json (main.ts reads it); tests that only parse may leave it out. */
  version?: string;
  /** Register every command for real (completion scripts, tests); otherwise only the one being run. */
  all?: boolean;
}

export async function buildProgram(argv: readonly string[], options: BuildOptions = {}): Promise<Command> {
  const program = new Command('codex-fleet')
    .description('Which Codex accounts can serve requests now, why the others cannot, and what to do about each.')
    .version(options.version ?? 'unknown')
    .showHelpAfterError();
  // `codex-fleet help report` is `codex-fleet report --help`.
  const name = argv[2] === 'help' && argv[3] ? argv[3] : argv[2];
  const wanted = options.all || name === 'completion' ? Object.keys(LOADERS) : name && name in LOADERS ? [name] : [];
  const registered = new Set<unknown>();
  for (const key of wanted) {
    const mod = await LOADERS[key]();
    if (registered.has(mod.register)) continue;
    registered.add(mod.register);
    mod.register(program);
  }
  // Everything not loaded is listed by its summary, so `--help` and a typo cost no command module.
  for (const [key, summary] of Object.entries(COMMAND_SUMMARIES)) {
    if (!program.commands.some((c) => c.name() === key)) program.command(key).description(summary).allowUnknownOption();
  }
  attachHelpTexts(program, []);
  return program;
}

function attachHelpTexts(cmd: Command, path: string[]): void {
  const text = helpTextFor(path.join(' '));
  if (text) cmd.addHelpText('after', text);
  for (const sub of cmd.commands) attachHelpTexts(sub, [...path, sub.name()]);
}
