import { Command } from 'commander';
import { COMMANDS } from './commands/index.ts';

export function buildProgram(): Command {
  const program = new Command('codex-fleet')
    .description('Which Codex accounts can serve requests now, why the others cannot, and what to do about each.')
    .version('0.1.0')
    .showHelpAfterError();
  for (const register of COMMANDS) register(program);
  return program;
}
