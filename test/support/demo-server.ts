// The dashboard as `serve --demo` runs it: the simulator with its demo mix of accounts, their auth
// files in a temp dir, the real core service over a fresh SQLite store, and the real HTTP server.
// The core is imported statically: if it is missing, every test that needs it fails to load (never a skip).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/core/config.ts';
import { createFleetService } from '../../src/core/fleet-service.ts';
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

export async function startDemoServer(count = 30): Promise<DemoServer> {
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
  const service = await createFleetService({ config, background: false });
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
