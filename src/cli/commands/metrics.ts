// `codex-fleet metrics`: the Prometheus exposition the server serves at /metrics, from the store.
import type { Command } from 'commander';
import type { FleetService } from '../../core/fleet-service.ts';
import { addFleetOptions, type CommonOptions, openCore } from '../shared-args.ts';

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
  let fleet: FleetService;
  try {
    fleet = await openCore(options);
  } catch (error) {
    console.error(`codex-fleet metrics: ${(error as Error).message}`);
    return 1;
  }
  try {
    const out = await fleet.metrics({ includeEmails: options.includeEmails === true });
    process.stdout.write(out.body);
    return 0;
  } catch (error) {
    console.error(`codex-fleet metrics: ${(error as Error).message}`);
    return 1;
  } finally {
    await fleet.close();
  }
}
