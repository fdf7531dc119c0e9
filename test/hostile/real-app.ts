// The one place the hostile suite builds its app: the real core service (through the highest-level
// factory there is, createFleetService) over a fresh SQLite store, the simulator as chatgpt.com and
// auth.openai.com, and the real HTTP server. Re-point this file when the core's factory changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService } from '../../src/core/fleet-service.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import type { FleetService } from '../../src/server/service.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';

export interface RealApp {
  url: string;
  server: RunningServer;
  service: FleetService;
  sim: Simulator;
  accountDir: string;
  dataDir: string;
  close(): Promise<void>;
}

export async function startRealApp(opts: { accounts?: number; adminKey?: string } = {}): Promise<RealApp> {
  const dir = mkdtempSync(join(tmpdir(), 'cf-hostile-'));
  const sim = await startSimulator({ count: opts.accounts ?? 4, latency: 1 });
  const accountDir = join(dir, 'account');
  await sim.writeAuthFiles(accountDir, 'mixed');
  const config = resolveConfig(
    { accountDir, dataDir: join(dir, 'data'), chatgptUrl: sim.chatgptUrl, authUrl: sim.authUrl, retries: 0 },
    {},
  );
  const service = await createFleetService({ config, background: false });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    service,
    dataDir: config.dataDir,
    env: opts.adminKey ? { CODEX_FLEET_ADMIN_KEY: opts.adminKey } : {},
    log: () => {},
  });
  return {
    url: server.url,
    server,
    service,
    sim,
    accountDir,
    dataDir: config.dataDir,
    close: async () => {
      await server.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
