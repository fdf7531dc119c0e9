// `codex-fleet sim`: runs the upstream simulator on loopback, writes matching auth files and prints
// the URLs to point the other commands at. Serves until SIGINT/SIGTERM.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  AUTH_FILE_WRITE_FORMATS,
  type AuthFileWriteFormat,
  parseLatencyFlag,
  parseScenariosFlag,
  type RetiredPath,
  readScenarioFile,
  type ScenarioSetup,
  type SimulatorOptions,
  startSimulator,
} from '../../sim/index.ts';
import { jsonOutput } from '../json-output.ts';

export interface SimFlags {
  accounts?: string;
  scenarios?: string;
  scenarioFile?: string;
  dir?: string;
  format: string;
  farExpiry?: boolean;
  port: string;
  latencyMs?: string;
  seed?: string;
  cloudflareMaxInFlight?: string;
  cloudflareWithoutOriginator?: string;
  speed?: string;
  retire: string[];
  refreshDelayMs?: string;
  json?: boolean;
}

function wholeNumber(flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new Error(`${flag} must be a whole number from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function share(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(n >= 0 && n <= 1)) throw new Error(`${flag} must be a share from 0 to 1, got "${text}"`);
  return n;
}

function positive(flag: string, text: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n <= 0)
    throw new Error(`${flag} must be a number > 0, got "${text}"`);
  return n;
}

/** Sim time runs `speed` times faster than real time, so a demo shows countdowns and resets moving. */
function scaledClock(speed: number): () => number {
  const start = Date.now();
  return () => start + (Date.now() - start) * speed;
}

function parseRetired(text: string): RetiredPath {
  const m = /^\/?(wham|codex):(403|404)$/.exec(text.trim());
  if (!m) throw new Error(`--retire "${text}": use wham:404, wham:403, codex:404 or codex:403`);
  return { path: `/${m[1]}` as RetiredPath['path'], status: Number(m[2]) as RetiredPath['status'] };
}

/** Maps flags (and the scenario file) to simulator options; flags win over the file. */
export async function simOptionsFromFlags(flags: SimFlags): Promise<SimulatorOptions> {
  const file: ScenarioSetup | null = flags.scenarioFile ? await readScenarioFile(flags.scenarioFile) : null;
  const opts: SimulatorOptions = {
    port: wholeNumber('--port', flags.port, 0, 65535),
    latency: flags.latencyMs != null ? parseLatencyFlag(flags.latencyMs) : file?.latency,
    seed: flags.seed != null ? wholeNumber('--seed', flags.seed, 0) : file?.seed,
    cloudflareMaxInFlight:
      flags.cloudflareMaxInFlight != null
        ? wholeNumber('--cloudflare-max-in-flight', flags.cloudflareMaxInFlight, 1)
        : file?.cloudflareMaxInFlight,
    cloudflareWithoutOriginatorRate:
      flags.cloudflareWithoutOriginator != null
        ? share('--cloudflare-without-originator', flags.cloudflareWithoutOriginator)
        : file?.cloudflareWithoutOriginatorRate,
    retiredPaths: flags.retire.length > 0 ? flags.retire.map(parseRetired) : file?.retiredPaths,
    refreshDelayMs:
      flags.refreshDelayMs != null ? wholeNumber('--refresh-delay-ms', flags.refreshDelayMs, 0) : file?.refreshDelayMs,
  };
  if (flags.speed != null) opts.clock = scaledClock(positive('--speed', flags.speed));
  if (flags.scenarios) opts.accounts = parseScenariosFlag(flags.scenarios);
  else if (file) opts.accounts = file.accounts;
  if (flags.accounts != null) {
    const n = wholeNumber('--accounts', flags.accounts, 1, 100_000);
    // With explicit scenarios, --accounts cycles through them; alone, it picks the demo mix.
    if (opts.accounts?.length) {
      const base = opts.accounts;
      opts.accounts = Array.from({ length: n }, (_, i) => ({
        ...base[i % base.length],
        id: undefined,
        email: undefined,
      }));
    } else opts.count = n;
  }
  return opts;
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('Run the upstream simulator (ChatGPT usage/responses + OAuth token endpoint) on 127.0.0.1')
    .option('--accounts <n>', 'number of simulated accounts (demo mix unless --scenarios/--scenario-file)')
    .option('--scenarios <list>', 'scenario mix, e.g. healthy:5,exhausted:2,cloudflare')
    .option('--scenario-file <path>', 'JSON file: an array of account specs, or {accounts, latency, seed, …}')
    .option('--dir <dir>', 'directory for the auth files (default: a new temporary directory)')
    .option('--format <format>', `auth file format: ${AUTH_FILE_WRITE_FORMATS.join(', ')}`, 'cpa')
    .option('--far-expiry', 'CPA files carry "expired":"2099-01-01T00:00:00Z" instead of the real token expiry')
    .option('--port <port>', 'port on 127.0.0.1 (0 = any free port)', '0')
    .option('--latency-ms <spec>', 'latency: MS, MIN-MAX, normal:MEAN,SD or lognormal:MEDIAN,SIGMA')
    .option('--seed <n>', 'seed for latency, ids and the demo mix')
    .option('--cloudflare-max-in-flight <n>', 'above this many requests in flight per client IP: Cloudflare 403')
    .option('--cloudflare-without-originator <share>', 'share (0..1) of calls without an originator header challenged')
    .option('--speed <x>', 'sim time runs x times faster than real time (demo: windows reset, usage grows)')
    .option('--retire <path:status>', 'retire a usage path, e.g. wham:404 (repeatable)', collect, [])
    .option('--refresh-delay-ms <ms>', 'token endpoint answers this late (after rotating the token)')
    .option('--json', 'print the URLs and files as one JSON line')
    .action(async (flags: SimFlags) => {
      const format = flags.format as AuthFileWriteFormat;
      if (!(AUTH_FILE_WRITE_FORMATS as readonly string[]).includes(format)) {
        throw new Error(`--format "${flags.format}" is unknown: use one of ${AUTH_FILE_WRITE_FORMATS.join(', ')}`);
      }
      const opts = await simOptionsFromFlags(flags);
      // A directory we made ourselves is removed on exit; one the user named is left for them.
      const ownDir = flags.dir == null;
      const dir = resolve(flags.dir ?? (await mkdtemp(resolve(tmpdir(), 'codex-fleet-sim-'))));
      const sim = await startSimulator(opts);
      // Handlers go in before the URLs are printed: a script that reads them and signals at once
      // must get a clean shutdown, not the default kill.
      const stopped = new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          sim
            .close()
            .then(() => (ownDir ? rm(dir, { recursive: true, force: true }) : undefined))
            .then(done, done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      const files = await sim.writeAuthFiles(dir, format, { farExpiry: flags.farExpiry === true });
      if (flags.json) {
        const accounts = sim.accounts.map((a) => ({
          id: a.id,
          name: a.name,
          email: a.email,
          plan: a.plan,
          scenario: a.scenario,
        }));
        console.log(
          jsonOutput({
            chatgptUrl: sim.chatgptUrl,
            authUrl: sim.authUrl,
            baseUrl: sim.baseUrl,
            dir,
            files,
            accounts,
          }),
        );
      } else {
        console.log(`codex-fleet simulator: ${sim.accounts.length} accounts`);
        console.log(`  chatgpt URL  ${sim.chatgptUrl}`);
        console.log(`  auth URL     ${sim.authUrl}`);
        console.log(`  auth files   ${files.length} ${format} file(s) in ${dir}${ownDir ? ' (removed on exit)' : ''}`);
        console.log('');
        console.log(`  export CODEX_FLEET_CHATGPT_URL=${sim.chatgptUrl}`);
        console.log(`  export CODEX_FLEET_AUTH_URL=${sim.authUrl}`);
        console.log(`  codex-fleet quota --account-dir ${dir}`);
        console.log('');
        const counts = new Map<string, number>();
        for (const a of sim.accounts) counts.set(a.scenario, (counts.get(a.scenario) ?? 0) + 1);
        console.log(`  scenarios: ${[...counts].map(([s, n]) => `${s}×${n}`).join(', ')}`);
        console.log('Serving until Ctrl-C.');
      }
      await stopped;
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
