import type { Command } from 'commander';

type CommandModule = { register: (program: Command) => void };

/**
 * Each command lives in its own file and is loaded only when it runs (one line each here): a cron job
 * running `report --json` should not pay for the dashboard, the simulator and the monitor at start-up.
 */
export const COMMAND_LOADERS: Record<string, () => Promise<CommandModule>> = {
  quota: () => import('./quota.ts'),
  report: () => import('./report.ts'),
  forecast: () => import('./forecast.ts'),
  metrics: () => import('./metrics.ts'),
  inspect: () => import('./inspect.ts'),
  actions: () => import('./inspect.ts'),
  runs: () => import('./inspect.ts'),
  schedule: () => import('./inspect.ts'),
  settings: () => import('./settings.ts'),
  accounts: () => import('./accounts.ts'),
  cpa: () => import('./cpa.ts'),
  serve: () => import('./serve.ts'),
  sim: () => import('./sim.ts'),
  db: () => import('./db.ts'),
  monitor: () => import('./monitor.ts'),
  doctor: () => import('./doctor.ts'),
};
