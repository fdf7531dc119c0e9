import { Command } from 'commander';
import { COMMAND_LOADERS } from './commands/index.ts';

/** Loads only the command being run; help (or an unknown command) loads them all to list them. */
export async function buildProgram(argv: readonly string[] = process.argv): Promise<Command> {
  const program = new Command('codex-fleet')
    .description('Which Codex accounts can serve requests now, why the others cannot, and what to do about each.')
    .version('0.1.0')
    .showHelpAfterError();
  const name = argv[2];
  if (name === '--version' || name === '-V') return program;
  const loaders =
    name && name in COMMAND_LOADERS ? [COMMAND_LOADERS[name]] : [...new Set(Object.values(COMMAND_LOADERS))];
  const registered = new Set<unknown>();
  for (const load of loaders) {
    const mod = await load();
    if (registered.has(mod.register)) continue;
    registered.add(mod.register);
    mod.register(program);
  }
  return program;
}
