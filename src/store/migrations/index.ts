// Every migration, in version order. Ranges: core store 1–99, inspection/actions/schedules 100–199,
// monitor 200–299, others 300+. Add one import and one entry per file.
import type { Migration } from '../db.ts';
import core001 from './001-core.ts';
import seats002 from './002-seats.ts';
import authFileCache003 from './003-auth-file-cache.ts';
import poolSummary004 from './004-pool-summary.ts';
import accountsGeneration005 from './005-accounts-generation.ts';
import inspection100 from './100-inspection-actions.ts';
import monitor200 from './200-monitor.ts';
import monitorFailures210 from './210-monitor-failure-index.ts';
import monitorPairs220 from './220-monitor-pair-rollups.ts';
import monitorFailedGroups230 from './230-monitor-failed-group-index.ts';
import monitorSlow240 from './240-monitor-slow-index.ts';
import monitorTimeOrderedDedupe250 from './250-monitor-time-ordered-dedupe.ts';

export const MIGRATIONS: Migration[] = [
  core001,
  seats002,
  authFileCache003,
  poolSummary004,
  accountsGeneration005,
  inspection100,
  monitor200,
  monitorFailures210,
  monitorPairs220,
  monitorFailedGroups230,
  monitorSlow240,
  monitorTimeOrderedDedupe250,
].sort((a, b) => a.version - b.version);
