// `codex-fleet settings`: show or change the stored settings (thresholds, policy, notifications, probe
// concurrency) through the core, validated by the same definition as PUT /api/settings (core/settings.ts).
import type { Command } from 'commander';
import { addStoreOptions, type CommonOptions, withCore } from '../shared-args.ts';

export function register(program: Command): void {
  const settings = program.command('settings').description('Show or change the stored settings');
  addStoreOptions(
    settings.command('show').description('Print the stored settings as JSON (secrets are never shown)'),
  ).action(async (options: CommonOptions) => {
    process.exitCode = await run(options, async (core) => core.getSettings());
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
    process.exitCode = await run(options, async (core) => core.setSettings(change));
  });
}

async function run(
  options: CommonOptions,
  fn: (core: Parameters<Parameters<typeof withCore>[1]>[0]) => Promise<unknown>,
): Promise<number> {
  try {
    const out = await withCore(options, fn);
    console.log(JSON.stringify(out, null, 2));
    return 0;
  } catch (error) {
    console.error(`codex-fleet settings: ${(error as Error).message}`);
    return 1;
  }
}
