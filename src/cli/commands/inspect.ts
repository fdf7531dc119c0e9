// `codex-fleet inspect`, `actions`, `runs`, `schedule`: thin commands over inspect/ and actions/.
import type { Command } from 'commander';
import { ACTION_STATUSES, type ActionStatus, type QueuedAction } from '../../actions/actions-repo.ts';
import type { FleetService } from '../../core/fleet-service.ts';
import { type InspectionResult, SUGGESTED_ACTIONS } from '../../domain/inspection.ts';
import { describeSchedule } from '../../inspect/schedule.ts';
import { jsonOutput } from '../json-output.ts';
import {
  addAccountOptions,
  addFleetOptions,
  addProbeOptions,
  addStoreOptions,
  type CommonOptions,
  progressReporter,
  withCore,
} from '../shared-args.ts';
import { withDemo } from './demo-env.ts';

async function withFleet(options: CommonOptions, fn: (fleet: FleetService) => Promise<number | undefined | void>) {
  try {
    return (await withCore(options, fn)) ?? 0;
  } catch (error) {
    console.error(`codex-fleet: ${(error as Error).message}`);
    return 1;
  }
}

function printGrouped(results: readonly InspectionResult[]): void {
  for (const action of SUGGESTED_ACTIONS) {
    const group = results.filter((r) => r.action === action);
    if (group.length === 0) continue;
    console.log(`\n${action} (${group.length})`);
    for (const r of group) {
      const e = r.evidence;
      const facts = [e.httpStatus != null ? `HTTP ${e.httpStatus}` : null, e.errorCode, e.plan]
        .filter(Boolean)
        .join(', ');
      console.log(
        `  ${r.accountName}: ${r.reason}${facts ? ` [${facts}]` : ''}${r.missing.length ? ` (unknown: ${r.missing.join(', ')})` : ''}`,
      );
    }
  }
}

function printAction(a: QueuedAction): void {
  console.log(
    `${a.id}  ${a.status.padEnd(8)} ${a.action.padEnd(7)} ${a.accountName}: ${a.reason}${a.result ? ` → ${a.result}` : ''}`,
  );
}

export function register(program: Command): void {
  const inspect = program
    .command('inspect')
    .description(
      'Inspect every account now: state, suggested action (Keep/Reauth/Disable/Enable/Delete), reason, evidence',
    )
    .option('--source <source>', 'local | cpa | cpa:<server> | all', 'all')
    .option('--json', 'print the results as JSON')
    .option('--apply', 'execute the suggested actions now (as you), instead of queueing them for approval')
    .option('--demo', 'run against the built-in simulator with demo accounts');
  addFleetOptions(inspect);
  addProbeOptions(inspect);
  inspect.action(async (opts: CommonOptions & { source: string; apply?: boolean; demo?: boolean }) => {
    process.exitCode = await withDemo(opts, (options) =>
      withFleet(options, async (fleet) => {
        const outcome = await fleet.inspect('cli', {
          source: options.source,
          apply: options.apply,
          onProgress: progressReporter('inspecting', !options.json),
        });
        // The exit-code rule (README, Install): no accounts is exit 1, as for quota, report and forecast.
        if (outcome.results.length === 0) {
          console.error(
            'codex-fleet inspect: no accounts. Add auth files to the account directory (--account-dir) first.',
          );
          return 1;
        }
        if (options.json) {
          console.log(
            jsonOutput({
              run: outcome.run,
              results: outcome.results,
              queued: outcome.queued,
              executed: outcome.executed,
            }),
          );
        } else {
          printGrouped(outcome.results);
          console.log(
            `\nrun ${outcome.run.id}: ${outcome.queued.length} action(s) ${options.apply ? 'executed' : 'queued — see `codex-fleet actions list`'}`,
          );
        }
        return outcome.run.status === 'done' ? 0 : 1;
      }),
    );
  });

  const actions = program.command('actions').description('The action queue: list, approve, reject; and the audit log');
  const list = actions
    .command('list')
    .option('--status <status>', `one of ${ACTION_STATUSES.join(', ')}`, 'pending')
    .option('--json', 'print as JSON')
    .option('--demo', 'the demo store (see --demo on inspect)');
  addStoreOptions(list);
  list.action(async (options: CommonOptions & { status: string; demo?: boolean }) => {
    if (!(ACTION_STATUSES as readonly string[]).includes(options.status)) {
      console.error(`codex-fleet actions list: --status must be one of ${ACTION_STATUSES.join(', ')}`);
      process.exitCode = 1;
      return;
    }
    await withDemo(options, (o) =>
      withFleet(o, async (fleet) => {
        const rows = await fleet.listActions(o.status as ActionStatus);
        if (o.json) console.log(jsonOutput(rows));
        else if (rows.length === 0) console.log(`no ${o.status} actions`);
        else rows.forEach(printAction);
        return 0;
      }),
    );
  });
  for (const verb of ['approve', 'reject'] as const) {
    const cmd = actions
      .command(`${verb} <ids...>`)
      .description(verb === 'approve' ? 'approve and execute now' : 'reject (nothing is changed)');
    addAccountOptions(cmd);
    cmd.action(async (ids: string[], options: CommonOptions) => {
      process.exitCode = await withFleet(options, async (fleet) => {
        let failed = 0;
        for (const id of ids) {
          let action: QueuedAction;
          try {
            action = await fleet.decideAction(id, verb, 'cli');
          } catch (error) {
            console.error(`codex-fleet actions ${verb}: ${(error as Error).message}`);
            failed++;
            continue;
          }
          printAction(action);
          if (action.status === 'failed') failed++;
        }
        return failed > 0 ? 1 : 0;
      });
    });
  }
  const audit = actions.command('audit').option('--limit <n>', 'rows', '50').option('--json', 'print as JSON');
  addStoreOptions(audit);
  audit.action(async (options: CommonOptions & { limit: string }) => {
    process.exitCode = await withFleet(options, async (fleet) => {
      const rows = await fleet.listAudit(Number(options.limit) || 50);
      if (options.json) console.log(jsonOutput(rows));
      else
        for (const r of rows)
          console.log(
            `${new Date(r.at).toISOString()}  ${r.actor.padEnd(14)} ${r.action.padEnd(8)} ${r.accountName ?? '-'}: ${r.reason} → ${r.result}`,
          );
    });
  });

  const runs = program.command('runs').description('Stored inspection runs');
  const runsList = runs.command('list').option('--limit <n>', 'rows', '20').option('--json', 'print as JSON');
  addStoreOptions(runsList);
  runsList.action(async (options: CommonOptions & { limit: string }) => {
    process.exitCode = await withFleet(options, async (fleet) => {
      const rows = await fleet.listInspections(Number(options.limit) || 20);
      if (options.json) console.log(jsonOutput(rows));
      else
        for (const r of rows)
          console.log(
            `${r.id}  ${new Date(r.startedAt).toISOString()}  ${r.trigger.padEnd(8)} ${r.status.padEnd(7)} ${JSON.stringify(r.counts)}`,
          );
    });
  });
  const runsShow = runs.command('show <id>').option('--json', 'print as JSON');
  addStoreOptions(runsShow);
  runsShow.action(async (id: string, options: CommonOptions) => {
    process.exitCode = await withFleet(options, async (fleet) => {
      const found = await fleet.getInspection(id);
      if (!found) {
        console.error(`codex-fleet runs show: no run ${id}`);
        return 1;
      }
      const { results = [], ...run } = found;
      if (options.json) console.log(jsonOutput({ run, results }));
      else {
        console.log(`run ${run.id}: ${run.status}, ${run.trigger}, started ${new Date(run.startedAt).toISOString()}`);
        printGrouped(results);
        console.log(`\nlog:\n${run.log.map((l) => `  ${l}`).join('\n')}`);
      }
      return 0;
    });
  });

  const schedule = program.command('schedule').description('Server inspection schedule');
  const show = schedule.command('show').option('--json', 'print as JSON');
  addStoreOptions(show);
  show.action(async (options: CommonOptions) => {
    process.exitCode = await withFleet(options, async (fleet) => {
      const { nextRunAt: next, ...s } = await fleet.getSchedule();
      if (options.json) console.log(jsonOutput({ ...s, nextRunAt: next ? new Date(next).toISOString() : null }));
      else
        console.log(
          `schedule: ${describeSchedule(s)}${next ? `; next run ${new Date(next).toISOString()}` : ''}; runs kept ${s.retentionDays} days`,
        );
    });
  });
  const set = schedule
    .command('set')
    .option('--off', 'no scheduled inspections')
    .option('--every <minutes>', 'run every N minutes')
    .option('--daily <times>', 'comma-separated HH:MM points, e.g. 06:00,18:00')
    .option('--tz <zone>', 'IANA time zone for --daily', 'UTC')
    .option('--retention-days <n>', 'keep runs this long', '30');
  addStoreOptions(set);
  set.action(
    async (
      options: CommonOptions & { off?: boolean; every?: string; daily?: string; tz: string; retentionDays: string },
    ) => {
      const input = options.off
        ? { mode: 'off' }
        : options.every
          ? { mode: 'interval', intervalMinutes: Number(options.every) }
          : options.daily
            ? { mode: 'daily', dailyTimes: options.daily.split(',').map((t) => t.trim()), timeZone: options.tz }
            : null;
      if (!input) {
        console.error('codex-fleet schedule set: give --off, --every <minutes> or --daily <HH:MM,...>');
        process.exitCode = 1;
        return;
      }
      process.exitCode = await withFleet(options, async (fleet) => {
        try {
          const s = await fleet.setSchedule({ ...input, retentionDays: Number(options.retentionDays) } as never);
          console.log(`schedule: ${describeSchedule(s)}`);
          return 0;
        } catch (error) {
          console.error(`codex-fleet schedule set: ${(error as Error).message}`);
          return 1;
        }
      });
    },
  );
}
