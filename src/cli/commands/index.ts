import type { Command } from 'commander';
import { register as db } from './db.ts';
import { register as quota } from './quota.ts';
import { register as sim } from './sim.ts';

/** Each command lives in its own file and registers itself here (one line each). */
export const COMMANDS: Array<(program: Command) => void> = [quota, sim, db];
