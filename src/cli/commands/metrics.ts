// `codex-fleet metrics`: the Prometheus exposition the server serves at /metrics, from the store.
import type { Command } from 'commander';
import { addFleetOptions, type CommonOptions, runCommand } from '../shared-args.ts';

interface MetricsOptions extends CommonOptions {
  includeEmails?: boolean;
}

export function register(program: Command): void {
  const cmd = program
    .command('metrics')
    .description('Print Prometheus metrics (per-account quota, reset, score, status; pool totals; probe errors)')
    .option('--include-emails', 'add account emails as labels (off by default)');
  addFleetOptions(cmd);
  cmd.action(async (options: MetricsOptions) => {
    process.exitCode = await runMetrics(options);
  });
}

export async function runMetrics(options: MetricsOptions): Promise<number> {
  return runCommand('metrics', options, async (fleet) => {
    const out = await fleet.metrics({ includeEmails: options.includeEmails === true });
    process.stdout.write(out.body);
    return 0;
  });
}
