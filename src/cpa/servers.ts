// The configured CPA servers (many at once), kept in the store's settings under one key. The store
// seals that setting (src/store/secret-box.ts: the database never holds a key in clear) and every
// listing masks the keys. One CpaClient per
// server is kept, so a detected route generation and an open 401 breaker survive between calls; a
// changed URL or key reconfigures the client, which is what closes the breaker.
import { maskSecret } from '../domain/account.ts';
import { CpaClient, type CpaClientOptions, normalizeCpaUrl, ok } from './client.ts';
import { closeSharedBreaker, keyFingerprint as fingerprint } from './guard.ts';
import type { CpaGeneration } from './routes.ts';
import { isStoredServerList, type StoredServer } from './stored-servers.ts';

export type { CpaServerInput } from './server-input.ts';

import type { CpaBreakerState, CpaResult, CpaServerConfig } from './types.ts';

/** What the servers registry needs from the store (src/store/settings-repo.ts SettingsRepo fits). */
export interface SettingsStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

export const CPA_SERVERS_SETTING = 'cpa.servers';

/** A server as shown to people and machines: the key masked. */
export interface CpaServerView {
  name: string;
  url: string;
  managementKey: string | null;
  generation: CpaGeneration | null;
  breaker: CpaBreakerState;
}

export class CpaServers {
  #settings: SettingsStore;
  #clientOptions: CpaClientOptions;
  #clients = new Map<string, { client: CpaClient; url: string; key: string }>();
  #pending = new Set<Promise<void>>();

  constructor(settings: SettingsStore, clientOptions: CpaClientOptions = {}) {
    this.#settings = settings;
    this.#clientOptions = clientOptions;
  }

  async list(): Promise<CpaServerView[]> {
    return (await this.#load()).map((s) => this.#view(s));
  }

  /** Waits for breaker states still being written; call before closing the store. */
  async settled(): Promise<void> {
    await Promise.all([...this.#pending]);
  }

  /** The full config, key included: for building clients, never for output. */
  async config(name: string): Promise<CpaServerConfig | null> {
    const s = (await this.#load()).find((x) => x.name === name);
    return s ? { name: s.name, url: s.url, managementKey: s.managementKey } : null;
  }

  /** Adds or edits a server. Input errors come back as a value saying what to fix. */
  async upsert(input: unknown): Promise<CpaResult<CpaServerView>> {
    // The input schema (zod) loads only when a change arrives, never on a read-only command.
    const { cpaServerInputSchema } = await import('./server-input.ts');
    const parsed = cpaServerInputSchema.safeParse(input);
    const name = typeof (input as { name?: unknown })?.name === 'string' ? (input as { name: string }).name : '?';
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => i.message).join('; ');
      return invalid(name, msg);
    }
    const servers = await this.#loadForWrite();
    if (!servers) {
      return invalid(
        parsed.data.name,
        `the stored server list (setting ${CPA_SERVERS_SETTING}) is damaged; repair or delete that setting first`,
      );
    }
    const existing = servers.find((s) => s.name === parsed.data.name);
    const key = parsed.data.managementKey ?? existing?.managementKey;
    if (!key) return invalid(parsed.data.name, 'managementKey: required for a new server');
    const url = normalizeCpaUrl(parsed.data.url) ?? parsed.data.url;
    // Entering a key (even the same one, e.g. after fixing CPA's config) is the reconfiguration that closes the breaker.
    const breaker = parsed.data.managementKey === undefined ? (existing?.breaker ?? null) : null;
    const next: StoredServer = { name: parsed.data.name, url, managementKey: key, breaker };
    const updated = existing ? servers.map((s) => (s.name === next.name ? next : s)) : [...servers, next];
    await this.#settings.set(CPA_SERVERS_SETTING, updated);
    if (parsed.data.managementKey !== undefined) closeSharedBreaker(url, key);
    this.#sync(next, parsed.data.managementKey !== undefined);
    return ok(this.#view(next));
  }

  async remove(name: string): Promise<boolean> {
    const servers = await this.#load();
    const kept = servers.filter((s) => s.name !== name);
    if (kept.length === servers.length) return false;
    await this.#settings.set(CPA_SERVERS_SETTING, kept);
    this.#clients.delete(name);
    return true;
  }

  /** The client for one server, reused across calls. */
  async client(name: string): Promise<CpaResult<CpaClient>> {
    const config = (await this.#load()).find((s) => s.name === name);
    if (!config) {
      const known = (await this.#load()).map((s) => s.name);
      return invalid(name, `no CPA server named "${name}" (configured: ${known.join(', ') || 'none'})`);
    }
    return ok(this.#sync(config));
  }

  async clients(): Promise<CpaClient[]> {
    return (await this.#load()).map((s) => this.#sync(s));
  }

  /** The client for a stored server. `reset`: a key was entered, so close the breaker even if URL and key are unchanged. */
  #sync(stored: StoredServer, reset = false): CpaClient {
    const config: CpaServerConfig = { name: stored.name, url: stored.url, managementKey: stored.managementKey };
    const held = this.#clients.get(config.name);
    // Same config: this process's client (and its breaker) is the authority.
    if (held && !reset && held.url === config.url && held.key === config.managementKey) return held.client;
    const persisted =
      stored.breaker && stored.breaker.keyFingerprint === fingerprint(stored.managementKey) ? stored.breaker : null;
    if (held && !persisted) {
      held.client.reconfigure(config);
      this.#clients.set(config.name, { client: held.client, url: config.url, key: config.managementKey });
      return held.client;
    }
    const client = new CpaClient(config, {
      ...this.#clientOptions,
      openBreaker: persisted ? `${persisted.reason} (seen ${persisted.at})` : null,
      onBreakerOpen: (reason) => {
        const p = this.#persistBreaker(config.name, config.managementKey, reason);
        this.#pending.add(p);
        void p.finally(() => this.#pending.delete(p));
      },
    });
    this.#clients.set(config.name, { client, url: config.url, key: config.managementKey });
    return client;
  }

  async #persistBreaker(name: string, key: string, reason: string): Promise<void> {
    try {
      const servers = await this.#loadForWrite();
      if (!servers) return;
      const updated = servers.map((s) =>
        s.name === name && s.managementKey === key
          ? { ...s, breaker: { keyFingerprint: fingerprint(key), reason, at: new Date().toISOString() } }
          : s,
      );
      await this.#settings.set(CPA_SERVERS_SETTING, updated);
    } catch {
      // The in-memory breaker still protects this process.
    }
  }

  #view(config: StoredServer): CpaServerView {
    const client = this.#clients.get(config.name)?.client;
    const persisted = config.breaker && config.breaker.keyFingerprint === fingerprint(config.managementKey);
    return {
      name: config.name,
      url: config.url,
      managementKey: maskSecret(config.managementKey),
      generation: client?.generation ?? null,
      breaker: client?.breaker().open
        ? client.breaker()
        : persisted && config.breaker
          ? { open: true, reason: config.breaker.reason }
          : { open: false, reason: null },
    };
  }

  async #load(): Promise<StoredServer[]> {
    return (await this.#loadForWrite()) ?? [];
  }

  /**
   * The stored list, or null when the setting is damaged. Reads treat a damaged list as empty (the
   * tool keeps working); writes refuse, so that nothing overwrites what an operator may still repair.
   */
  async #loadForWrite(): Promise<StoredServer[] | null> {
    const raw = await this.#settings.get(CPA_SERVERS_SETTING);
    if (raw === undefined) return [];
    return isStoredServerList(raw) ? raw : null;
  }
}

function invalid(server: string, message: string): CpaResult<never> {
  return {
    ok: false,
    error: { kind: 'invalid_input', server, status: null, message: `CPA server "${server}": ${message}` },
  };
}
