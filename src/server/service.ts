// What the HTTP server and the dashboard need from the programmatic core. The integrator's
// `src/core/fleet-service.ts` implements it; the server never talks to upstream, store or files directly.
// Every value here is safe to serve: secrets are already masked by the implementation.
// Types are the rooms' own (domain, inspect, actions, cpa, notify); only the views are defined here.
import type { EventEmitter } from 'node:events';
import type { Hono } from 'hono';
import type { AuditRecord, QueuedAction } from '../actions/actions-repo.ts';
import type { CpaServerInput, CpaServerView } from '../cpa/servers.ts';
import type { DoctorReport } from '../doctor/checks.ts';
import type { AccountSourceKind, AuthFileFormat } from '../domain/account.ts';
import type { InspectionResult, InspectionThresholds, PolicySettings } from '../domain/inspection.ts';
import type { AccountState, Credits, ProbeReason, QuotaWindow, SnapshotSource, WindowKind } from '../domain/quota.ts';
import { ACCOUNT_STATUSES, type HealthReport } from '../domain/report.ts';
import type { Forecast } from '../inspect/forecast.ts';
import type { AccountSeries, PoolSeries, SeriesRange } from '../inspect/history-series.ts';
import type { InspectionRun } from '../inspect/runs-repo.ts';
import type { Schedule } from '../inspect/schedule.ts';
import type { MonitorFilter } from '../monitor/filters.ts';
import type { MonitorSeries } from '../monitor/series.ts';
import type { WebhookTarget } from '../notify/webhook.ts';

export type { ActionStatus } from '../actions/actions-repo.ts';
export type { CpaServerInput, CpaServerView } from '../cpa/servers.ts';
export type { DoctorReport } from '../doctor/checks.ts';

/** The report's statuses, plus `unknown` for an account never checked successfully. */
export const HEALTH_STATUSES = [...ACCOUNT_STATUSES, 'unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export interface AccountView {
  id: string;
  name: string;
  /** The seat's email. */
  email: string | null;
  /** The workspace (chatgpt_account_id, sent as ChatGPT-Account-Id); seats of one Team workspace share it. */
  workspaceId: string | null;
  plan: string | null;
  format: AuthFileFormat;
  sourceKind: AccountSourceKind;
  disabled: boolean;
  status: HealthStatus;
  state: AccountState | null;
  reason: ProbeReason | null;
  /** Sanitized one-line message from the last probe. */
  message: string | null;
  healthScore: number | null;
  windows: QuotaWindow[];
  credits: Credits | null;
  source: SnapshotSource | null;
  /** ISO time of the last probe. */
  lastCheckedAt: string | null;
  /** True when the windows shown come from an older probe (the latest failed transiently). */
  stale: boolean;
  /** When capacity returns for an exhausted account (ISO), when known. */
  capacityReturnsAt: string | null;
  /** True while a probe of this account is in flight. */
  refreshing: boolean;
}

export interface PoolSummary {
  total: number;
  counts: Record<HealthStatus, number>;
  /** Earliest time an exhausted account gets capacity back (ISO), when known. */
  nextCapacityAt: string | null;
  /** Mean remaining % per window kind over the accounts that report it. */
  remainingPercent: Partial<Record<WindowKind, number>>;
  lastRefreshAt: string | null;
  refreshing: boolean;
}

export interface RefreshOutcome {
  startedAt: string;
  finishedAt: string;
  probed: number;
  failed: number;
}

/** A run as listed (no results); GET /api/inspections/:id adds its results. Times in ms. */
export type InspectionRunView = Omit<InspectionRun, 'holder'> & { results?: InspectionResult[] };

export type ScheduleView = Schedule & { nextRunAt: number | null };

export interface SettingsView {
  thresholds: InspectionThresholds;
  policy: PolicySettings;
  notifications: { webhooks: WebhookTarget[]; poolLowFraction: number };
  probeConcurrency: number;
}

/** A settings change: each part optional, merged over the stored settings. */
export interface SettingsInput {
  thresholds?: Partial<{ [K in keyof InspectionThresholds]: Partial<InspectionThresholds[K]> }>;
  policy?: Partial<PolicySettings>;
  notifications?: Partial<SettingsView['notifications']>;
  probeConcurrency?: number;
}

export interface AuthFileView {
  name: string;
  format: AuthFileFormat;
  email: string | null;
  accountId: string | null;
  disabled: boolean;
  /** Masked values (maskSecret), null when absent. */
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  modifiedAt: string | null;
}

/** Creating or editing an auth file. A token field omitted keeps the stored value; a string replaces it. */
export interface AuthFileInput {
  name: string;
  format?: AuthFileFormat;
  email?: string | null;
  accountId?: string | null;
  disabled?: boolean;
  accessToken?: string;
  refreshToken?: string;
  idToken?: string;
}

export const FLEET_EVENT_TYPES = [
  'accounts',
  'refresh',
  'inspection',
  'actions',
  'audit',
  'schedule',
  'settings',
  'auth-files',
  'monitor',
] as const;
export type FleetEventType = (typeof FLEET_EVENT_TYPES)[number];

/** A change notice pushed over SSE; the page re-reads the named resource. Never carries secrets. */
export interface FleetEvent {
  type: FleetEventType;
  at: string;
  /** The account, run or action concerned, when one. */
  id?: string;
}

/** A user-facing failure (unknown id, invalid state). The server maps it to 404 / 409 / 400. */
export class FleetError extends Error {
  readonly code: 'not_found' | 'conflict' | 'invalid';
  constructor(code: 'not_found' | 'conflict' | 'invalid', message: string) {
    super(message);
    this.name = 'FleetError';
    this.code = code;
  }
}

/** Request monitoring, when the core runs it: the monitor room's routes and its 'events' emitter. */
export interface MonitorMount {
  /** monitorRoutes(deps) from src/server/routes/monitor.ts; mounted under /api/monitor. */
  routes: Hono;
  /** Emits 'events' after each committed batch (throttled into 'monitor' SSE notices). */
  events?: Pick<EventEmitter, 'on' | 'off'>;
}

/**
 * `actor` arguments name who acts, for the audit log: `person:admin-key` (key header),
 * `person:dashboard` (logged-in session) or `person:local` (loopback without a key).
 */
export interface FleetService {
  /** Present when request monitoring is configured. */
  readonly monitor?: MonitorMount;
  listAccounts(): Promise<AccountView[]>;
  getAccount(id: string): Promise<AccountView | null>;
  pool(): Promise<PoolSummary>;
  /** Refreshes every account. The server never calls it twice at once (it joins the one running). */
  refreshAll(): Promise<RefreshOutcome>;
  refreshAccount(id: string): Promise<AccountView>;
  setAccountDisabled(id: string, disabled: boolean, actor: string): Promise<AccountView>;

  /** The `codex-fleet report --json` HealthReport, from the last stored check. */
  healthReport(): Promise<HealthReport>;
  forecast(): Promise<Forecast>;
  /** Quota history of one account over a range, with the forecast's projection (null: unknown id). */
  accountSeries?(id: string, range: SeriesRange): Promise<AccountSeries | null>;
  /** Usable accounts and mean remaining over a range, with the pool forecast. */
  poolSeries?(range: SeriesRange): Promise<PoolSeries>;
  /** Monitoring over a range (null when monitoring is not configured). */
  monitorSeries?(filter: MonitorFilter, range: SeriesRange): Promise<MonitorSeries | null>;
  /**
   * `codex-fleet doctor`'s checks (talks to every CPA server and runs `codex --version`), so only
   * on demand; concurrent calls share one run.
   */
  doctor(): Promise<DoctorReport>;

  runInspection(actor: string): Promise<InspectionRunView>;
  listInspections(limit: number): Promise<InspectionRunView[]>;
  getInspection(id: string): Promise<InspectionRunView | null>;

  listActions(status?: QueuedAction['status']): Promise<QueuedAction[]>;
  decideAction(id: string, decision: 'approve' | 'reject', actor: string): Promise<QueuedAction>;
  listAudit(limit: number): Promise<AuditRecord[]>;

  getSchedule(): Promise<ScheduleView>;
  setSchedule(schedule: Schedule): Promise<ScheduleView>;
  getSettings(): Promise<SettingsView>;
  setSettings(input: SettingsInput): Promise<SettingsView>;
  listCpaServers(): Promise<CpaServerView[]>;
  /** Adds or edits a server; managementKey omitted keeps the stored key. */
  saveCpaServer(input: CpaServerInput): Promise<CpaServerView>;
  removeCpaServer(name: string): Promise<void>;

  listAuthFiles(): Promise<AuthFileView[]>;
  getAuthFile(name: string): Promise<AuthFileView | null>;
  saveAuthFile(input: AuthFileInput, mode: 'create' | 'update'): Promise<AuthFileView>;
  deleteAuthFile(name: string): Promise<void>;

  /** Prometheus exposition text. */
  metrics(): Promise<{ contentType: string; body: string }>;
  subscribe(listener: (event: FleetEvent) => void): () => void;
  close(): Promise<void>;
}
