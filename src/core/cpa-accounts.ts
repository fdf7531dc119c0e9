// The accounts that live on CPA servers, as first-class accounts of the core: listed with the local
// ones, probed through CPA's api-call in the same sweep (same cache rules, same classifier, the working
// usage path remembered per CPA server), enabled and disabled through CPA. Tokens never leave CPA.
import pLimit from 'p-limit';
import type { CpaClient } from '../cpa/client.ts';
import type { CpaProbeOptions } from '../cpa/probe.ts';
import type { CpaServers } from '../cpa/servers.ts';
import {
  accountFromAuthFile,
  type CpaAccount,
  type CpaFileDetails,
  detailsFromAuthFileText,
  isCodexAuthFile,
} from '../cpa/source.ts';
import { probeCpaAccounts } from '../cpa/sweep.ts';
import type { Account } from '../domain/account.ts';
import type { ProbeOutcome } from '../upstream/probe.ts';
import type { SweepProgress } from '../upstream/probe-runner.ts';
import type { UsagePathMemory } from '../upstream/usage-paths.ts';

const DETAILS_SETTING = 'cpa.fileDetails';
const USAGE_PATHS_SETTING = 'upstream.usagePaths.cpa';
/** A listing is reused this long in one process: every CPA request costs a bcrypt key check (~60 ms). */
const LISTING_TTL_MS = 15_000;

type DetailsCache = Record<string, { modtime: string | null; details: CpaFileDetails | null }>;

interface SettingsLike {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

export function isCpaAccount(account: Account): account is CpaAccount {
  return account.sourceKind === 'cpa' && 'cpa' in account;
}

export interface CpaListing {
  accounts: CpaAccount[];
  /** One line per server that could not be listed (the last good listing is kept meanwhile). */
  problems: string[];
}

/** The CPA side of the account registry: listings per server, with their file details cached by modtime. */
export class CpaAccounts {
  readonly #servers: CpaServers;
  readonly #settings: SettingsLike;
  readonly #clock: () => number;
  readonly #listed = new Map<string, { at: number; accounts: CpaAccount[]; problem: string | null }>();
  readonly #pathMemory = new Map<string, UsagePathMemory>();

  constructor(servers: CpaServers, settings: SettingsLike, clock: () => number) {
    this.#servers = servers;
    this.#settings = settings;
    this.#clock = clock;
  }

  /** Forgets the in-process listings (after a change made through CPA, or a server added). */
  invalidate(server?: string): void {
    if (server) this.#listed.delete(server);
    else this.#listed.clear();
  }

  /** Every codex account on every configured CPA server (or one server), listing each at most once per TTL. */
  async list(options: { only?: string | null; fresh?: boolean } = {}): Promise<CpaListing> {
    const out: CpaListing = { accounts: [], problems: [] };
    for (const view of await this.#servers.list()) {
      if (options.only && view.name !== options.only) continue;
      const cached = this.#listed.get(view.name);
      if (!options.fresh && cached && this.#clock() - cached.at < LISTING_TTL_MS) {
        out.accounts.push(...cached.accounts);
        if (cached.problem) out.problems.push(cached.problem);
        continue;
      }
      const client = await this.#servers.client(view.name);
      const accounts = client.ok ? await this.#load(client.value) : null;
      await this.#servers.settled();
      if (!accounts) {
        const why = client.ok ? (client.value.breaker().reason ?? 'listing failed (see doctor)') : client.error.message;
        const problem = `CPA ${view.name}: ${why}`;
        out.problems.push(problem);
        // The last good listing stays visible; a down server is asked again only after the TTL.
        this.#listed.set(view.name, { at: this.#clock(), accounts: cached?.accounts ?? [], problem });
        if (cached) out.accounts.push(...cached.accounts);
        continue;
      }
      this.#listed.set(view.name, { at: this.#clock(), accounts, problem: null });
      out.accounts.push(...accounts);
    }
    return out;
  }

  /**
   * Probes CPA accounts through api-call, one server at a time, with that server's remembered usage path
   * (so with /wham retired only the first sweep pays a failed call per account).
   */
  async probe(
    accounts: readonly CpaAccount[],
    options: CpaProbeOptions & { concurrency: number },
    onProgress?: (p: SweepProgress) => void,
  ): Promise<Map<string, ProbeOutcome>> {
    const results = new Map<string, ProbeOutcome>();
    const byServer = new Map<string, CpaAccount[]>();
    for (const a of accounts) byServer.set(a.cpa.server, [...(byServer.get(a.cpa.server) ?? []), a]);
    let done = 0;
    for (const [server, list] of byServer) {
      const client = await this.#servers.client(server);
      if (!client.ok) {
        for (const a of list) results.set(a.id, cpaUnreachable(client.error.message, this.#clock()));
        continue;
      }
      const pathMemory = await this.#memory(server);
      const outcomes = await probeCpaAccounts(client.value, list, { ...options, pathMemory }, (p) =>
        onProgress?.({ ...p, done: done + p.done, total: accounts.length }),
      );
      done += list.length;
      for (const [i, a] of list.entries()) results.set(a.id, outcomes[i]);
      await this.#settings.set(`${USAGE_PATHS_SETTING}.${server}`, pathMemory);
      await this.#servers.settled();
    }
    return results;
  }

  async #memory(server: string): Promise<UsagePathMemory> {
    let memory = this.#pathMemory.get(server);
    if (!memory) {
      memory = (await this.#settings.get<UsagePathMemory>(`${USAGE_PATHS_SETTING}.${server}`)) ?? {};
      this.#pathMemory.set(server, memory);
    }
    return memory;
  }

  /** Each file is downloaded (for its account id, plan, expiry) only when it is new or changed. */
  async #load(client: CpaClient): Promise<CpaAccount[] | null> {
    const listed = await client.listAuthFiles();
    if (!listed.ok) return null;
    const key = `${DETAILS_SETTING}.${client.name}`;
    const cache = (await this.#settings.get<DetailsCache>(key)) ?? {};
    const next: DetailsCache = {};
    const limit = pLimit(4);
    const accounts = await Promise.all(
      listed.value.filter(isCodexAuthFile).map((file) =>
        limit(async () => {
          const modtime = file.modtime ?? null;
          let details = cache[file.name]?.modtime === modtime && modtime != null ? cache[file.name].details : undefined;
          if (details === undefined) {
            const text = await client.downloadAuthFile(file.name);
            details = text.ok ? detailsFromAuthFileText(text.value) : null;
          }
          next[file.name] = { modtime, details };
          return accountFromAuthFile(client.name, file, details);
        }),
      ),
    );
    await this.#settings.set(key, next);
    return accounts;
  }
}

function cpaUnreachable(message: string, now: number): ProbeOutcome {
  return {
    state: 'unknown',
    reason: 'network_error',
    httpStatus: null,
    errorCode: 'cpa_unreachable',
    message: message.slice(0, 300),
    snapshot: null,
    resetAfterSeconds: null,
    retryAfterSeconds: null,
    transient: true,
    source: 'cpa',
    fetchedAt: new Date(now).toISOString(),
    attempts: 0,
    usagePath: null,
  };
}
