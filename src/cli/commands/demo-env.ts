// `--demo`: start the built-in simulator with a realistic mix of accounts (and CPA's management API
// with a live usage queue), write their auth files to the demo dir, and point the command at it.
// The demo dir is fixed (CODEX_FLEET_DEMO_DIR, else <os tmpdir>/codex-fleet-demo-<user>), so
// `--demo` commands run one after another share one store: what `quota --demo` checked,
// `report --demo` reports. A new store is seeded once with a week of quota and traffic history.
// Nothing real is touched.

import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { nodeCrypto } from '../../runtime/crypto.ts';
import { type CommonOptions, configFrom } from '../shared-args.ts';

export const DEMO_ACCOUNT_COUNT = 30;
/** The CPA server name the demo registers for its simulated CPA (the collector's target). */
export const DEMO_CPA_SERVER = 'demo';
const SEEDED_SETTING = 'demo.seededAt';

/** Where every `--demo` run keeps its auth files and store. */
export function demoDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CODEX_FLEET_DEMO_DIR) return env.CODEX_FLEET_DEMO_DIR;
  let user = 'user';
  try {
    user = userInfo().username.replace(/[^A-Za-z0-9_-]/g, '') || 'user';
  } catch {}
  return join(tmpdir(), `codex-fleet-demo-${user}`);
}

export interface DemoOptions {
  /** serve: collect the simulated CPA's usage queue (live traffic on the Monitoring page). */
  collect?: boolean;
}

export async function withDemo<T extends CommonOptions & { demo?: boolean; collect?: string }>(
  options: T,
  run: (options: T) => Promise<number>,
  demo: DemoOptions = {},
): Promise<number> {
  if (!options.demo) return run(options);
  // The simulator (and its HTTP stack) loads only in demo mode.
  const { demoAccounts, startSimulator } = await import('../../sim/index.ts');
  const { createCpaEmulationState, mountCpaEmulation } = await import('../../sim/cpa.ts');
  const { createTraffic, playTraffic } = await import('../../sim/traffic.ts');
  const dir = demoDir();
  const managementKey = nodeCrypto().randomBytes(18).toString('base64url');
  const cpa = createCpaEmulationState({ managementKey });
  const specs = demoAccounts(DEMO_ACCOUNT_COUNT);
  const sim = await startSimulator({
    accounts: specs,
    latency: { kind: 'uniform', minMs: 80, maxMs: 400 },
    extraRoutes: (app) => mountCpaEmulation(app, cpa),
  });
  const trafficAccounts = sim.accounts.map((a) => ({ name: a.name, email: a.email }));
  const stopTraffic = playTraffic(createTraffic({ accounts: trafficAccounts, seed: Date.now() % 100_000 }), (r) =>
    cpa.pushUsage(...r),
  );
  try {
    const accountDir = join(dir, 'account');
    await sim.writeAuthFiles(accountDir, 'mixed');
    const next = {
      ...options,
      accountDir,
      dataDir: options.dataDir ?? join(dir, 'data'),
      chatgptUrl: sim.chatgptUrl,
      authUrl: sim.authUrl,
      ...(demo.collect && !options.collect ? { collect: `${DEMO_CPA_SERVER}:http` } : {}),
    };
    await prepareDemoStore(next, sim, specs, trafficAccounts, sim.baseUrl, managementKey);
    console.error(
      `codex-fleet: demo mode: ${sim.accounts.length} simulated accounts at ${sim.chatgptUrl}; data in ${dir}`,
    );
    return await run(next);
  } finally {
    stopTraffic();
    await sim.close();
  }
}

type Sim = Awaited<ReturnType<typeof import('../../sim/index.ts').startSimulator>>;

/** Registers this run's simulated CPA, and seeds a week of history into a store that has none. */
async function prepareDemoStore(
  options: CommonOptions,
  sim: Sim,
  specs: ReturnType<typeof import('../../sim/index.ts').demoAccounts>,
  traffic: Array<{ name: string; email: string }>,
  cpaUrl: string,
  managementKey: string,
): Promise<void> {
  const { Fleet } = await import('../../core/fleet.ts');
  const { CpaServers } = await import('../../cpa/servers.ts');
  const fleet = await Fleet.open(configFrom(options));
  try {
    const saved = await new CpaServers(fleet.repos.settings).upsert({
      name: DEMO_CPA_SERVER,
      url: cpaUrl,
      managementKey,
    });
    if (!saved.ok) throw new Error(`demo: cannot register the simulated CPA: ${saved.error}`);
    if (await fleet.repos.settings.get<number>(SEEDED_SETTING)) return;
    const { seedDemoHistory } = await import('../../sim/demo-history.ts');
    const { createMonitorService } = await import('../../monitor/service.ts');
    // The simulator keeps its accounts in spec order: pair them by email with the fleet's ids.
    const bySimEmail = new Map(sim.accounts.map((a, i) => [a.email, { sim: a, spec: specs[i] }]));
    const accounts = (await fleet.accounts()).accounts.flatMap((a) => {
      const s = a.email ? bySimEmail.get(a.email) : undefined;
      return s ? [{ ...s.spec, accountId: a.id, scenario: s.sim.scenario, plan: s.sim.plan }] : [];
    });
    const monitor = await createMonitorService({ db: fleet.repos.db, clock: fleet.clock });
    const now = fleet.clock();
    console.error('codex-fleet: demo mode: seeding a week of history (once per demo store)…');
    await seedDemoHistory(
      {
        insertSnapshot: (s) => fleet.repos.snapshots.insert(s),
        ingestRaw: (lines) => monitor.ingest.ingestRaw(lines),
      },
      accounts,
      traffic,
      now,
    );
    await fleet.repos.settings.set(SEEDED_SETTING, now);
  } finally {
    await fleet.close();
  }
}
