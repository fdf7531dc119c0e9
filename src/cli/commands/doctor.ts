// `codex-fleet doctor [--json]`: the checks operators otherwise do by hand (docs/doctor.md).
// Thin: runDoctor gathers and judges; this prints. Exit 0 only when no check failed.
import type { Command } from 'commander';
import pc from 'picocolors';
import type { DoctorReport, DoctorStatus } from '../../doctor/checks.ts';
import { jsonOutput } from '../json-output.ts';
import { addFleetOptions, type CommonOptions, runCommand } from '../shared-args.ts';

interface DoctorOptions extends CommonOptions {
  pollInterval?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command('doctor')
    .description('Check CPA servers, usage publishing, auth files, auth_index stability, policy and the collector')
    .option('--json', 'print the checks as JSON')
    .option('--poll-interval <seconds>', "the collector's poll interval, to judge CPA's queue retention", '10');
  addFleetOptions(cmd);
  cmd.action(async (options: DoctorOptions) => {
    process.exitCode = await runDoctorCommand(options);
  });
}

export async function runDoctorCommand(options: DoctorOptions): Promise<number> {
  const poll = Number(options.pollInterval ?? 10);
  if (!Number.isFinite(poll) || poll <= 0 || poll > 3600) {
    console.error('codex-fleet doctor: --poll-interval must be a number of seconds between 0 and 3600');
    return 1;
  }
  return runCommand('doctor', options, async (fleet) => {
    const report = await fleet.doctor({ pollIntervalSeconds: poll });
    console.log(options.json ? jsonOutput(report) : renderDoctor(report));
    return report.ok ? 0 : 1;
  });
}

const MARK: Record<DoctorStatus | 'unknown', string> = {
  ok: pc.green('ok     '),
  warning: pc.yellow('warning'),
  failed: pc.red('FAILED '),
  unknown: pc.dim('unknown'),
};

export function renderDoctor(report: DoctorReport): string {
  const lines: string[] = [];
  for (const c of report.checks) {
    lines.push(`${MARK[c.status]} ${c.id}${c.subject ? ` [${c.subject}]` : ''}: ${c.message}`);
    if (c.fix) lines.push(`        fix: ${c.fix}`);
  }
  lines.push('', 'Empty monitoring, the six usual causes:');
  for (const cause of report.emptyMonitoring) lines.push(`${MARK[cause.status]} ${cause.title}`);
  const { ok, warning, failed } = report.counts;
  lines.push('', `${ok} ok, ${warning} warning(s), ${failed} failed`);
  return lines.join('\n');
}
