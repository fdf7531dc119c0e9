// `codex-fleet settings`: show or change the stored settings (thresholds, policy, notifications, probe
// concurrency) through the core, validated by the same definition as PUT /api/settings (core/settings.ts).
import type { Command } from 'commander';
import { jsonOutput } from '../json-output.ts';
import { addStoreOptions, type CommonOptions, runCommand } from '../shared-args.ts';

export function register(program: Command): void {
  const settings = program.command('settings').description('Show or change the stored settings');
  addStoreOptions(
    settings.command('show').description('Print the stored settings as JSON (secrets are never shown)'),
  ).action(async (options: CommonOptions) => {
    process.exitCode = await runCommand('settings', options, async (core) => print(await core.getSettings()));
  });
  addStoreOptions(
    settings
      .command('set <json>')
      .description('Change settings: a JSON object like PUT /api/settings takes; unknown fields are refused'),
  ).action(async (json: string, options: CommonOptions) => {
    let change: unknown;
    try {
      change = JSON.parse(json);
    } catch {
      console.error('codex-fleet settings set: the argument is not valid JSON');
      process.exitCode = 1;
      return;
    }
    process.exitCode = await runCommand('settings', options, async (core) => print(await core.setSettings(change)));
  });
}

function print(value: unknown): number {
  console.log(jsonOutput(value));
  return 0;
}
