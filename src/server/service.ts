// What the HTTP server and the dashboard need from the programmatic core. The integrator's
// `src/core/fleet.ts` implements it; the server never talks to upstream, store or files directly.
// Every value here is safe to serve: secrets are already masked by the implementation.
import type { AccountSourceKind, AuthFileFormat } from '../domain/account.ts';
import type { AccountState, Credits, ProbeReason, QuotaWindow, SnapshotSource, WindowKind } from '../domain/quota.ts';

export const HEALTH_STATUSES = ['healthy', 'warning', 'rate-limited', 'disabled', 'error', 'unknown'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

export const SUGGESTED_ACTIONS = ['keep', 'reauth', 'disable', 'enable', 'delete'] as const;
export type SuggestedAction = (typeof SUGGESTED_ACTIONS)[number];

export const ACTION_STATUSES = ['pending', 'approved', 'rejected', 'done', 'failed'] as const;
export type ActionStatus = (typeof ACTION_STATUSES)[number];

/** JSON-safe evidence: the upstream status and the fields a decision was made from. */
export type Evidence = Record<string, string | number | boolean | null>;

export interface AccountView {
  id: string;
  name: string;
  email: string | null;
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
  lastCheckedAt: string | null;
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

export interface RefreshStatus {
  /** 'started' when this call began a refresh, 'joined' when one was already running. */
  status: 'started' | 'joined';
  startedAt: string;
}

export interface RefreshOutcome {
  startedAt: string;
  finishedAt: string;
  probed: number;
  failed: number;
}

/** Forecast of when accounts and the pool run out at the current burn rate, and when capacity returns. */
export interface ForecastView {
  generatedAt: string;
  pool: { exhaustsAt: string | null; capacityReturnsAt: string | null; summary: string };
  accounts: Array<{
    accountId: string;
    name: string;
    window: WindowKind | null;
    exhaustsAt: string | null;
    capacityReturnsAt: string | null;
  }>;
}

export interface InspectionResultView {
  accountId: string;
  accountName: string;
  plan: string | null;
  status: HealthStatus;
  action: SuggestedAction;
  reason: string;
  evidence: Evidence;
}

export interface InspectionRunView {
  id: string;
  trigger: 'manual' | 'schedule';
  status: 'running' | 'done' | 'failed';
  startedAt: string;
  finishedAt: string | null;
  counts: Partial<Record<SuggestedAction, number>>;
  /** Only present on a single run (GET /api/inspections/:id). */
  results?: InspectionResultView[];
  log?: string[];
}

export interface ActionView {
  id: string;
  accountId: string;
  accountName: string;
  action: SuggestedAction;
  status: ActionStatus;
  origin: 'inspection' | 'policy' | 'manual';
  reason: string;
  evidence: Evidence;
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  result: string | null;
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: string;
  action: string;
  accountId: string | null;
  accountName: string | null;
  reason: string;
  evidence: Evidence;
  result: string;
}

export interface ScheduleView {
  mode: 'off' | 'interval' | 'daily';
  intervalMinutes: number | null;
  /** Daily HH:MM points, in timeZone. */
  dailyTimes: string[];
  timeZone: string;
  nextRunAt: string | null;
}
export type ScheduleInput = Omit<ScheduleView, 'nextRunAt'>;

export interface CpaServerView {
  name: string;
  baseUrl: string;
  /** Masked; never the key itself. */
  managementKey: string | null;
}

export interface SettingsView {
  cpaServers: CpaServerView[];
  /** Remaining % below which an account is flagged, per window. */
  thresholds: Record<'5h' | 'weekly' | 'monthly', number>;
  policy: { autoDisable: boolean; autoEnable: boolean; autoDelete: boolean };
  webhookUrl: string | null;
  probeConcurrency: number;
}

/** A settings change. A CPA server's managementKey: omitted keeps the stored key, a string replaces it. */
export interface SettingsInput {
  cpaServers?: Array<{ name: string; baseUrl: string; managementKey?: string }>;
  thresholds?: Partial<SettingsView['thresholds']>;
  policy?: Partial<SettingsView['policy']>;
  webhookUrl?: string | null;
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

export interface FleetService {
  listAccounts(): Promise<AccountView[]>;
  getAccount(id: string): Promise<AccountView | null>;
  pool(): Promise<PoolSummary>;
  /** Starts a refresh of every account, or joins the one in progress. Resolves when it is done. */
  refreshAll(): Promise<RefreshOutcome>;
  refreshAccount(id: string): Promise<AccountView>;
  setAccountDisabled(id: string, disabled: boolean, actor: string): Promise<AccountView>;

  /** The `codex auth report` HealthReport JSON, from the last stored check. */
  healthReport(): Promise<Record<string, unknown>>;
  forecast(): Promise<ForecastView>;

  runInspection(trigger: 'manual' | 'schedule'): Promise<InspectionRunView>;
  listInspections(limit: number): Promise<InspectionRunView[]>;
  getInspection(id: string): Promise<InspectionRunView | null>;

  listActions(status?: ActionStatus): Promise<ActionView[]>;
  decideAction(id: string, decision: 'approve' | 'reject', actor: string): Promise<ActionView>;
  listAudit(limit: number): Promise<AuditEntry[]>;

  getSchedule(): Promise<ScheduleView>;
  setSchedule(input: ScheduleInput): Promise<ScheduleView>;
  getSettings(): Promise<SettingsView>;
  setSettings(input: SettingsInput): Promise<SettingsView>;

  listAuthFiles(): Promise<AuthFileView[]>;
  getAuthFile(name: string): Promise<AuthFileView | null>;
  saveAuthFile(input: AuthFileInput, mode: 'create' | 'update'): Promise<AuthFileView>;
  deleteAuthFile(name: string): Promise<void>;

  /** Prometheus exposition text. */
  metrics(): Promise<{ contentType: string; body: string }>;
  subscribe(listener: (event: FleetEvent) => void): () => void;
  close(): Promise<void>;
}
