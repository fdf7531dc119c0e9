// One inspection run: probe every account of the chosen source (local files through the token-aware
// quota engine, CPA accounts through CPA's api-call so the raw token never leaves CPA), decide with the
// pure inspection + policy rules, queue or execute actions, and store results and a log.
import { hostname } from 'node:os';
import { ActionsRepo, type QueuedAction } from '../actions/actions-repo.ts';
import { type ActionContext, executeAction, flattenEvidence } from '../actions/execute.ts';
import { CpaExecutor } from '../actions/executors/cpa.ts';
import { LocalFileExecutor } from '../actions/executors/local-file.ts';
import { decideAction } from '../actions/policy.ts';
import { CpaServers } from '../cpa/servers.ts';
import type { Account } from '../domain/account.ts';
import type {
  InspectionRequestEvidence,
  InspectionResult,
  InspectionThresholds,
  PolicySettings,
  SuggestedAction,
} from '../domain/inspection.ts';
import type { ProbeResult } from '../domain/quota.ts';
import { inspectAccount } from '../inspect/inspection.ts';
import { type InspectionRun, RunsRepo, type RunTrigger } from '../inspect/runs-repo.ts';
import { tokenStateOf } from '../inspect/status.ts';
import { isCpaAccount } from './cpa-accounts.ts';
import type { Fleet } from './fleet.ts';
import { readInspectionSettings, SETTINGS } from './settings.ts';

export const THRESHOLDS_SETTING = SETTINGS.thresholds.key;
export const POLICY_SETTING = SETTINGS.policy.key;
/** Holder id of this process: runs it leaves `running` are failed on the next start. */
export const PROCESS_HOLDER = `${hostname()}:${process.pid}`;

export interface InspectionOptions {
  trigger: RunTrigger;
  /** 'local' (auth files), 'cpa:<server>', or 'all' (default). */
  source?: string;
  /** Who acts: `schedule:<id>` for scheduled runs, `person:<name>` / `cli` for a person. */
  actor: string;
  /** Execute the queued actions now as the actor (`inspect --apply`): a person's explicit approval. */
  apply?: boolean;
  onProgress?: (p: { done: number; total: number; current: string | null }) => void;
  /** Issue 20: request outcomes per account id, carried in each result's evidence (never decides). */
  requests?: (accounts: Account[]) => Promise<ReadonlyMap<string, InspectionRequestEvidence>>;
}

export interface InspectionOutcome {
  run: InspectionRun;
  results: InspectionResult[];
  queued: QueuedAction[];
  executed: QueuedAction[];
}

export function loadInspectionSettings(
  fleet: Fleet,
): Promise<{ thresholds: InspectionThresholds; policy: PolicySettings }> {
  return readInspectionSettings(fleet.repos.settings);
}

export function actionContext(fleet: Fleet, thresholds?: InspectionThresholds): ActionContext {
  const servers = new CpaServers(fleet.repos.settings);
  const local = new LocalFileExecutor(fleet.clock);
  const cpa = new CpaExecutor(servers);
  return {
    repos: fleet.repos,
    actions: new ActionsRepo(fleet.repos.db, fleet.clock),
    executorFor: (account: Account) => (account.sourceKind === 'cpa' ? cpa : local),
    clock: fleet.clock,
    thresholds,
  };
}

interface Probed {
  account: Account;
  probe: ProbeResult | null;
}

/**
 * Probes the run's source in one sweep of the core: local files through the token-aware engine, CPA
 * accounts through api-call, the same cache rules, classifier, concurrency and usage-path memory.
 */
async function probeSource(
  fleet: Fleet,
  source: string,
  options: InspectionOptions,
  log: (line: string) => void,
): Promise<Probed[]> {
  const server = source.startsWith('cpa:') ? source.slice(4) : null;
  const wanted = (a: Account) =>
    source === 'all' ||
    (source === 'local' && a.sourceKind !== 'cpa') ||
    (source === 'cpa' && a.sourceKind === 'cpa') ||
    (server != null && isCpaAccount(a) && a.cpa.server === server);
  // An inspection reads CPA's listing afresh: a file added or disabled there a minute ago counts.
  fleet.cpa.invalidate();
  const checked = await fleet.checkQuota({
    force: true,
    tokenRefresh: 'allowed',
    filter: wanted,
    onProgress: options.onProgress,
  });
  for (const e of checked.errors) log(`skipped: ${e.message}`);
  const cpaCount = checked.checks.filter((c) => c.account.sourceKind === 'cpa').length;
  if (cpaCount > 0) log(`CPA: ${cpaCount} codex account(s)`);
  return checked.checks.map((c) => ({ account: c.account, probe: c.result }));
}

export async function runInspection(fleet: Fleet, options: InspectionOptions): Promise<InspectionOutcome> {
  const runs = new RunsRepo(fleet.repos.db, fleet.clock);
  const source = options.source ?? 'all';
  const run = await runs.start(options.trigger, source, PROCESS_HOLDER);
  const log: string[] = [];
  const say = (line: string) => log.push(`${new Date(fleet.clock()).toISOString()} ${line}`);
  try {
    const { thresholds, policy } = await loadInspectionSettings(fleet);
    const ctx = actionContext(fleet, thresholds);
    say(`inspection started (${options.trigger}, source ${source}, by ${options.actor})`);
    const probed = await probeSource(fleet, source, options, say);
    const requests = await options.requests?.(probed.map((p) => p.account));
    const now = fleet.clock();
    const results: InspectionResult[] = [];
    const queued: QueuedAction[] = [];
    const executed: QueuedAction[] = [];
    for (const { account, probe } of probed) {
      const tokenState = await fleet.repos.accounts.getTokenState(account.id);
      const result = inspectAccount(
        account,
        {
          probe,
          token: tokenStateOf(account, tokenState?.refreshFailures ?? 0),
          requests: requests?.get(account.id) ?? null,
        },
        thresholds,
        now,
      );
      results.push(result);
      const decision = decideAction({
        inspection: result,
        ownership: await ctx.actions.ownership(account.id),
        history: await runs.accountHistory(account.id),
        settings: policy,
        now,
      });
      if (decision.decision === 'none' || !decision.action) {
        // The reason for an earlier suggestion may have cleared (e.g. a window reset): withdraw it.
        if (!result.evidence.transient) await ctx.actions.withdrawPending(account.id, null, decision.reason);
        continue;
      }
      await ctx.actions.withdrawPending(account.id, decision.action, `superseded by ${decision.action}`);
      const action = await ctx.actions.enqueue({
        accountId: account.id,
        accountName: account.name,
        action: decision.action,
        origin: decision.decision === 'auto' ? 'policy' : 'inspection',
        reason: decision.reason,
        evidence: flattenEvidence(result.evidence),
        runId: run.id,
      });
      queued.push(action);
      say(`${account.name}: ${decision.action} — ${decision.reason}`);
      if (decision.decision === 'auto' || options.apply) {
        const actor = options.actor;
        await ctx.actions.transition(action.id, ['pending'], 'approved', actor);
        const done = await executeAction(ctx, action, account, actor, result);
        executed.push(done);
        say(`${account.name}: ${done.action} ${done.status}: ${done.result ?? ''}`);
      }
    }
    await runs.saveResults(run.id, results);
    const counts: Partial<Record<SuggestedAction, number>> = {};
    for (const r of results) counts[r.action] = (counts[r.action] ?? 0) + 1;
    say(
      `inspection finished: ${results.length} account(s), ${queued.length} action(s) queued, ${executed.length} executed`,
    );
    await runs.finish(run.id, 'done', counts, log);
    return { run: (await runs.get(run.id))!, results, queued, executed };
  } catch (error) {
    say(`inspection failed: ${(error as Error).message}`);
    await runs.finish(run.id, 'failed', {}, log, (error as Error).message);
    throw error;
  }
}
