// `codex-fleet serve`: the web dashboard, JSON API, SSE and /metrics (what `npm start` runs).
// Only maps flags to options: the server is src/server/serve.ts, the data comes from the core.
import type { Command } from 'commander';
import { z } from 'zod';
import { createFleetService, type FleetServiceOptions } from '../../core/fleet-service.ts';
import { COLLECTOR_VIAS, type CollectorVia } from '../../monitor/run.ts';
import { AdminKeyError } from '../../server/middleware/admin-key.ts';
import { startServer } from '../../server/serve.ts';
import { addFleetOptions, addProbeOptions, type CommonOptions, configFrom, probeModeFrom } from '../shared-args.ts';
import { withDemo } from './demo-env.ts';

interface ServeOptions extends CommonOptions {
  host: string;
  port: string;
  intervalSeconds: string;
  demo?: boolean;
  stateFile?: string;
  accountName?: string;
  refresh?: boolean;
  collect?: string;
}

const flags = z.object({
  host: z.string().min(1, '--host cannot be empty'),
  port: z.coerce
    .number({ message: '--port must be a number' })
    .int('--port must be a whole number')
    .min(0, '--port is 0-65535')
    .max(65535, '--port is 0-65535'),
  intervalSeconds: z.coerce
    .number({ message: '--interval-seconds must be a number' })
    .int('--interval-seconds must be a whole number')
    .min(0, '--interval-seconds must be 0 (off) or at least 60')
    .refine((n) => n === 0 || n >= 60, '--interval-seconds must be 0 (off) or at least 60'),
});

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description('Web dashboard, JSON API, live updates (SSE) and Prometheus /metrics')
    .option('--host <host>', 'address to bind; anything but loopback needs an admin key', '127.0.0.1')
    .option('--port <port>', 'port to listen on', '8081')
    .option('--interval-seconds <n>', 'refresh every account this often (0: only on demand)', '3600')
    .option('--demo', 'start the built-in simulator with ~30 mixed accounts and serve those')
    .option('--state-file <file>', 'codex-quota compatible: where the last results are kept')
    .option('--account-name <name>', 'codex-quota compatible: serve only this account')
    .option('--refresh', 'ignore cached quota on the first refresh')
    .option(
      '--collect <server[:via]>',
      "collect this CPA server's usage records (via resp, subscribe or http; default resp)",
    );
  addFleetOptions(cmd);
  addProbeOptions(cmd);
  cmd.action(async (options: ServeOptions) => {
    process.exitCode = await withDemo(options, runServe, { collect: true });
  });
}

function collectTarget(spec: string | undefined): FleetServiceOptions['collect'] {
  if (!spec) return undefined;
  const [server, via = 'resp'] = spec.split(':');
  if (!server || !(COLLECTOR_VIAS as readonly string[]).includes(via)) {
    throw new Error(`--collect takes <server>[:${COLLECTOR_VIAS.join('|')}], e.g. main:resp`);
  }
  return { server, via: via as CollectorVia };
}

export async function runServe(options: ServeOptions): Promise<number> {
  const parsed = flags.safeParse(options);
  if (!parsed.success) {
    console.error(`codex-fleet serve: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return 1;
  }
  const { host, port, intervalSeconds } = parsed.data;
  let config: ReturnType<typeof configFrom>;
  let probe: ReturnType<typeof probeModeFrom>;
  try {
    config = configFrom(options);
    probe = probeModeFrom(options);
  } catch (error) {
    console.error(`codex-fleet serve: ${(error as Error).message}`);
    return 1;
  }
  const service = await createFleetService({
    config,
    // --probe and an explicit --concurrency reach every sweep the server runs (refreshes, schedules).
    probe,
    concurrency: options.concurrency != null ? config.concurrency : undefined,
    accountName: options.accountName,
    collect: collectTarget(options.collect),
    stateFile: options.stateFile,
    refreshOnStart: options.refresh,
  });
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer({
      host,
      port,
      service,
      dataDir: config.dataDir,
      refreshIntervalSeconds: intervalSeconds,
      handleSignals: true,
    });
  } catch (error) {
    await service.close();
    if (error instanceof AdminKeyError) {
      console.error(`codex-fleet serve: ${error.message}`);
      return 1;
    }
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      console.error(`codex-fleet serve: ${host}:${port} is already in use; pick another --port`);
      return 1;
    }
    throw error;
  }
  console.error(`codex-fleet: dashboard at ${server.url}/ (Ctrl-C to stop)`);
  // The first refresh runs in the background: the page is up at once and fills in live.
  server.fleetApp.gate.refreshAll();
  await server.closed;
  console.error('codex-fleet: stopped');
  return 0;
}
