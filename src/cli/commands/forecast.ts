// `codex-fleet forecast [--live] [--json]`: burn rate per account and window from the stored
// snapshot history, when each runs out vs when it resets, and when pool capacity returns.
import type { Command } from 'commander';
import { renderForecastText } from '../../inspect/forecast.ts';
import { jsonOutput } from '../json-output.ts';
import { addFleetOptions, addProbeOptions, type CommonOptions, progressReporter, runCommand } from '../shared-args.ts';
import { withDemo } from './demo-env.ts';

interface ForecastOptions extends CommonOptions {
  live?: boolean;
  demo?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('forecast')
    .description('When each account and the pool run out at the current burn rate, and when capacity returns')
    .option('--live', 'probe every account first (adds one sample to the history)')
    .option('--json', 'print the forecast as JSON')
    .option('--demo', 'run against the built-in simulator with demo accounts');
  addFleetOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (options: ForecastOptions) => {
    process.exitCode = await withDemo(options, runForecast);
  });
}

export async function runForecast(options: ForecastOptions): Promise<number> {
  return runCommand('forecast', options, async (fleet) => {
    // --live: one more sample per account before forecasting.
    const forecast = await fleet.forecast({
      live: options.live === true,
      onProgress: progressReporter('probing', !options.json),
    });
    if (!forecast.accounts.length) {
      console.error(
        'codex-fleet forecast: no accounts. Add auth files to the account directory (--account-dir) first.',
      );
      return 1;
    }
    process.stdout.write(options.json ? `${jsonOutput(forecast)}\n` : renderForecastText(forecast));
    return 0;
  });
}
