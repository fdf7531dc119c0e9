import type { Command } from 'commander';
import { register as accounts } from './accounts.ts';
import { register as cpa } from './cpa.ts';
import { register as db } from './db.ts';
import { register as forecast } from './forecast.ts';
import { register as inspect } from './inspect.ts';
import { register as metrics } from './metrics.ts';
import { register as monitor } from './monitor.ts';
import { register as quota } from './quota.ts';
import { register as report } from './report.ts';
import { register as serve } from './serve.ts';
import { register as sim } from './sim.ts';

/** Each command lives in its own file and registers itself here (one line each). */
export const COMMANDS: Array<(program: Command) => void> = [
  quota,
  inspect,
  sim,
  db,
  serve,
  report,
  forecast,
  metrics,
  cpa,
  accounts,
  monitor,
];
