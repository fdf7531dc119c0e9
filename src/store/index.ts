// The store's public surface: open a database, then build the repositories over it.
import type { Clock } from '../domain/time.ts';
import { AccountsRepo } from './accounts-repo.ts';
import type { Db } from './db.ts';
import { FlagsRepo } from './flags-repo.ts';
import { LeaseStore } from './lease.ts';
import { SeatAttributionRepo } from './seat-attribution-repo.ts';
import { SettingsRepo } from './settings-repo.ts';
import { SnapshotsRepo } from './snapshots-repo.ts';

export interface Repos {
  db: Db;
  accounts: AccountsRepo;
  snapshots: SnapshotsRepo;
  flags: FlagsRepo;
  settings: SettingsRepo;
  leases: LeaseStore;
  seats: SeatAttributionRepo;
}

export function createRepos(db: Db, clock: Clock = Date.now): Repos {
  return {
    db,
    accounts: new AccountsRepo(db, clock),
    snapshots: new SnapshotsRepo(db, clock),
    flags: new FlagsRepo(db, clock),
    settings: new SettingsRepo(db, clock),
    leases: new LeaseStore(db, clock),
    seats: new SeatAttributionRepo(db, clock),
  };
}

export type { AccountInput, StoredAccount, TokenState } from './accounts-repo.ts';
export { AccountsRepo } from './accounts-repo.ts';
export type { Db, Dialect, Migration, RunResult, SqlValue } from './db.ts';
export type { AccountFlag } from './flags-repo.ts';
export { FlagsRepo } from './flags-repo.ts';
export type { LeaderOptions, Timers } from './leader.ts';
export { instanceId, LeaderElector } from './leader.ts';
export type { Lease } from './lease.ts';
export { LeaseStore } from './lease.ts';
export type { MigrateResult } from './migrate.ts';
export { migrate } from './migrate.ts';
export type { DatabaseTarget, StoreOptions } from './open.ts';
export { openDatabase, openStore, parseDatabaseSpec, resolveTarget } from './open.ts';
export type { SeatAttribution } from './seat-attribution-repo.ts';
export { SeatAttributionRepo } from './seat-attribution-repo.ts';
export { SettingsRepo } from './settings-repo.ts';
export type { LatestOptions, SnapshotInput, StoredSnapshot } from './snapshots-repo.ts';
export { probeFromSnapshot, SnapshotsRepo, snapshotFromProbe } from './snapshots-repo.ts';
export { openSqlite } from './sqlite.ts';
