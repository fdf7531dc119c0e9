// `codex-fleet report [--live] [--json] [--model m] [--out path]`: the seed's `codex auth report`.
// Thin: load evidence, build the HealthReport (inspect/report.ts), print or write it.
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { writeFileAtomic } from '../../accounts/atomic-write.ts';
import { renderHealthReportText } from '../../inspect/report.ts';
import { jsonOutput } from '../json-output.ts';
import {
  addOptions,
  type CommonOptions,
  FLEET_OPTIONS,
  type OptionSpec,
  PROBE_OPTIONS,
  progressReporter,
  runCommand,
} from '../shared-args.ts';
import { writeStdout } from '../stdout.ts';
import { withDemo } from './demo-env.ts';

export const DEFAULT_REPORT_MODEL = 'gpt-5-codex';

interface ReportOptions extends CommonOptions {
  live?: boolean;
  model?: string | boolean;
  out?: string;
  demo?: boolean;
}

/** Every option of `report`, in the order its --help lists them. */
export const OPTIONS: readonly OptionSpec[] = [
  { flags: '--live', description: 'probe every account now (default: answer from the last stored check, no network)' },
  { flags: '--json', description: 'print the HealthReport JSON (schema: src/inspect/health-report.schema.json)' },
  {
    flags: '--model [model]',
    description: `with --live, probe through /codex/responses with this model (default ${DEFAULT_REPORT_MODEL})`,
  },
  {
    flags: '--out <path>',
    description: 'write the report to this file atomically (JSON with --json or a .json path) and print nothing',
  },
  { flags: '--demo', description: 'run against the built-in simulator with demo accounts' },
  ...FLEET_OPTIONS,
  ...PROBE_OPTIONS,
];

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .description('Health report: status, score, quota, flagged accounts and which account to use next');
  addOptions(cmd, OPTIONS);
  cmd.action(action);
}

/** What `report` does with its parsed options (from commander, or from a plain command line). */
export async function action(options: ReportOptions): Promise<void> {
  process.exitCode = await withDemo(options, runReport);
}

export async function runReport(options: ReportOptions): Promise<number> {
  const model = options.model === true ? DEFAULT_REPORT_MODEL : options.model || undefined;
  return runCommand('report', options, async (fleet) => {
    const report = await fleet.healthReport({
      live: options.live === true,
      model,
      onProgress: progressReporter('probing', options.live === true && !options.json && !options.out),
    });
    if (!report.accounts.length) {
      console.error(
        'codex-fleet report: no accounts. Add auth files to the account directory (--account-dir) or import some with `codex-fleet accounts import`.',
      );
      return 1;
    }
    const now = fleet.clock();
    const asJson = options.json === true || (options.out?.endsWith('.json') ?? false);
    // A file is for people as much as for programs: indented.
    const body = asJson
      ? `${jsonOutput(report, options.out ? true : undefined)}\n`
      : renderHealthReportText(report, now);
    if (options.out) {
      try {
        await writeFileAtomic(resolve(options.out), body, { mode: 0o644 });
      } catch (error) {
        console.error(`codex-fleet report: cannot write ${options.out}: ${(error as Error).message}`);
        return 1;
      }
      return 0;
    }
    writeStdout(body);
    return 0;
  });
}
