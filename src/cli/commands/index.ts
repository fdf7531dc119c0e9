import type { Command } from 'commander';
import { register as sim } from './sim.ts';

/** Each command lives in its own file and registers itself here (one line each). */
export const COMMANDS: Array<(program: Command) => void> = [sim];
