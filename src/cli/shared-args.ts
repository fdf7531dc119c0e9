// Flags that several commands share, defined once, and the mapping from parsed flags to FleetConfig.
import type { Command } from 'commander';
import { type ConfigFlags, type FleetConfig, resolveConfig } from '../core/config.ts';
import { PROBE_MODES, type ProbeMode } from '../core/fleet.ts';
import type { FleetService } from '../core/fleet-service.ts';

export interface CommonOptions extends ConfigFlags {
  json?: boolean;
  probe?: string;
}

/** --probe as typed, checked: a clear error instead of a silent fallback. */
export function probeModeFrom(options: CommonOptions): ProbeMode {
  const mode = options.probe ?? 'http';
  if (!(PROBE_MODES as readonly string[]).includes(mode)) {
    throw new Error(`--probe must be one of ${PROBE_MODES.join(', ')}`);
  }
  return mode as ProbeMode;
}

/**
 * Opens the one application core for a CLI command, with the command's --probe and (when given)
 * --concurrency, and without the server's background work. The same service the dashboard calls.
 */
export async function openCore(options: CommonOptions, env: NodeJS.ProcessEnv = process.env): Promise<FleetService> {
  const config = configFrom(options, env);
  const probe = probeModeFrom(options);
  // Loaded here, not at the top: every command module imports this file for its flags.
  const { createFleetService } = await import('../core/fleet-service.ts');
  return createFleetService({
    config,
    background: false,
    monitoring: false,
    probe,
    // Given on the command line, it beats the dashboard's stored setting; otherwise the setting applies.
    concurrency: options.concurrency != null ? config.concurrency : undefined,
  });
}

/** Runs `fn` over an opened core and always closes it. */
export async function withCore<T>(options: CommonOptions, fn: (core: FleetService) => Promise<T>): Promise<T> {
  const core = await openCore(options);
  try {
    return await fn(core);
  } finally {
    await core.close();
  }
}

/**
 * One CLI command over an opened core: an error while opening or running is printed as
 * `codex-fleet <command>: <message>` and exits 1; the core is always closed.
 */
export async function runCommand(
  command: string,
  options: CommonOptions,
  fn: (core: FleetService) => Promise<number>,
): Promise<number> {
  try {
    return await withCore(options, fn);
  } catch (error) {
    console.error(`codex-fleet ${command}: ${(error as Error).message}`);
    return 1;
  }
}

/**
 * One commander option as data: commands register it through commander, and a plain command line is read
 * from the same list without commander (src/cli/plain-args.ts).
 */
export interface OptionSpec {
  flags: string;
  description: string;
  default?: string;
}

/** Where the store lives: every command that opens it takes these. */
export const STORE_OPTIONS: readonly OptionSpec[] = [
  { flags: '--data-dir <dir>', description: 'where the SQLite store lives (env CODEX_FLEET_DATA_DIR, default ./data)' },
  { flags: '--database-url <url>', description: 'postgres://… to use PostgreSQL (env CODEX_FLEET_DATABASE_URL)' },
];

/** Where the accounts come from: commands that read or change auth files take these (with the store's). */
export const ACCOUNT_OPTIONS: readonly OptionSpec[] = [
  ...STORE_OPTIONS,
  {
    flags: '--account-dir <dir>',
    description: 'directory of auth files (env CODEX_FLEET_ACCOUNT_DIR, default ./account)',
  },
  { flags: '--codex-home <dir>', description: 'also read the Codex CLI auth.json in this directory' },
  { flags: '--multi-auth-file <file>', description: 'also read a codex-multi-auth v3 accounts file' },
];

/** Store, accounts and which upstream to talk to: every command that probes or refreshes takes these. */
export const FLEET_OPTIONS: readonly OptionSpec[] = [
  ...ACCOUNT_OPTIONS,
  { flags: '--chatgpt-url <url>', description: 'ChatGPT backend base URL (env CODEX_FLEET_CHATGPT_URL)' },
  { flags: '--auth-url <url>', description: 'OAuth token endpoint (env CODEX_FLEET_AUTH_URL)' },
];

export const PROBE_OPTIONS: readonly OptionSpec[] = [
  { flags: '--concurrency <n>', description: 'parallel probes, 1-20 (env CODEX_FLEET_CONCURRENCY, default 5)' },
  { flags: '--timeout-ms <ms>', description: 'per-request timeout (env CODEX_AUTH_FETCH_TIMEOUT_MS, default 15000)' },
  { flags: '--retries <n>', description: 'retries on 408/429/5xx/network errors', default: '3' },
  {
    flags: '--retry-delay <seconds>',
    description: 'first retry delay, doubled each time, with jitter',
    default: '2.0',
  },
  {
    flags: '--probe <mode>',
    description: 'http | codex-cli | auto (auto falls back to the Codex CLI after Cloudflare answers)',
    default: 'http',
  },
];

export function addOptions(cmd: Command, options: readonly OptionSpec[]): Command {
  for (const o of options) {
    if (o.default === undefined) cmd.option(o.flags, o.description);
    else cmd.option(o.flags, o.description, o.default);
  }
  return cmd;
}

export function addStoreOptions(cmd: Command): Command {
  return addOptions(cmd, STORE_OPTIONS);
}

export function addAccountOptions(cmd: Command): Command {
  return addOptions(cmd, ACCOUNT_OPTIONS);
}

export function addFleetOptions(cmd: Command): Command {
  return addOptions(cmd, FLEET_OPTIONS);
}

export function addProbeOptions(cmd: Command): Command {
  return addOptions(cmd, PROBE_OPTIONS);
}

export function configFrom(options: CommonOptions, env: NodeJS.ProcessEnv = process.env): FleetConfig {
  return resolveConfig(options, env);
}

/** Progress on stderr, so stdout stays machine-clean: one rewritten line on a terminal, sparse lines otherwise. */
export function progressReporter(label: string, enabled: boolean) {
  let lastDecile = -1;
  return (p: { done: number; total: number }) => {
    if (!enabled) return;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r${label} ${p.done}/${p.total}${p.done === p.total ? '\n' : ''}`);
      return;
    }
    const decile = Math.floor((p.done / p.total) * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      process.stderr.write(`${label} ${p.done}/${p.total}\n`);
    }
  };
}
