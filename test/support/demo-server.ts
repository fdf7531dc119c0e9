// The dashboard as `serve --demo` runs it: the simulator with its demo mix of accounts, their auth
// files in a temp dir, the real core service over a fresh SQLite store, and the real HTTP server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/core/config.ts';
import { type RunningServer, startServer } from '../../src/server/serve.ts';
import type { FleetService } from '../../src/server/service.ts';
import { type Simulator, startSimulator } from '../../src/sim/index.ts';

export interface DemoServer {
  url: string;
  server: RunningServer;
  service: FleetService;
  sim: Simulator;
  accountDir: string;
  close(): Promise<void>;
}

type Factory = (opts: { config: ReturnType<typeof resolveConfig>; background?: boolean }) => Promise<FleetService>;

/** The core's service factory, or null while src/core/fleet-service.ts is not in this checkout. */
export async function loadCoreService(): Promise<Factory | null> {
  const spec = '../../src/core/fleet-service.ts';
  try {
    const mod = (await import(spec)) as { createFleetService?: Factory };
    return mod.createFleetService ?? null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return null;
    throw error;
  }
}

export async function startDemoServer(count = 30): Promise<DemoServer> {
  const create = await loadCoreService();
  if (!create) throw new Error('src/core/fleet-service.ts is missing');
  const dir = mkdtempSync(join(tmpdir(), 'codex-fleet-demo-test-'));
  const sim = await startSimulator({ count, latency: 5 });
  const accountDir = join(dir, 'account');
  await sim.writeAuthFiles(accountDir, 'mixed');
  const config = resolveConfig(
    {
      accountDir,
      dataDir: join(dir, 'data'),
      chatgptUrl: sim.chatgptUrl,
      authUrl: sim.authUrl,
      retries: 0,
    },
    {},
  );
  const service = await create({ config, background: false });
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    service,
    dataDir: config.dataDir,
    env: {},
    log: () => {},
  });
  return {
    url: server.url,
    server,
    service,
    sim,
    accountDir,
    close: async () => {
      await server.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
