// The configured CPA servers (many at once), kept in the store's settings under one key. Keys are
// stored (the database is 0600 / access-controlled) but every listing masks them. One CpaClient per
// server is kept, so a detected route generation and an open 401 breaker survive between calls; a
// changed URL or key reconfigures the client, which is what closes the breaker.
import { z } from 'zod';
import { maskSecret } from '../domain/account.ts';
import { CpaClient, type CpaClientOptions, normalizeCpaUrl, ok } from './client.ts';
import type { CpaGeneration } from './routes.ts';
import type { CpaBreakerState, CpaResult, CpaServerConfig } from './types.ts';

/** What the servers registry needs from the store (src/store/settings-repo.ts SettingsRepo fits). */
export interface SettingsStore {
  get<T = unknown>(key: string): Promise<T | undefined>;
  set(key: string, value: unknown): Promise<void>;
}

export const CPA_SERVERS_SETTING = 'cpa.servers';

const nameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'name: 1-64 letters, digits, . _ - (starting with a letter or digit)');
const urlSchema = z
  .string()
  .trim()
  .refine((u) => normalizeCpaUrl(u) !== null, 'url: an http(s) URL such as http://127.0.0.1:8317, without credentials');
const keySchema = z.string().trim().min(1, 'managementKey: must not be empty').max(1024);

/** Adding needs all three; editing may omit the key to keep the stored one. */
export const cpaServerInputSchema = z.strictObject({
  name: nameSchema,
  url: urlSchema,
  managementKey: keySchema.optional(),
});
export type CpaServerInput = z.input<typeof cpaServerInputSchema>;

const storedSchema = z.array(z.object({ name: z.string(), url: z.string(), managementKey: z.string() }));

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

  constructor(settings: SettingsStore, clientOptions: CpaClientOptions = {}) {
    this.#settings = settings;
    this.#clientOptions = clientOptions;
  }

  async list(): Promise<CpaServerView[]> {
    return (await this.#load()).map((s) => this.#view(s));
  }

  /** The full config, key included: for building clients, never for output. */
  async config(name: string): Promise<CpaServerConfig | null> {
    return (await this.#load()).find((s) => s.name === name) ?? null;
  }

  /** Adds or edits a server. Input errors come back as a value saying what to fix. */
  async upsert(input: unknown): Promise<CpaResult<CpaServerView>> {
    const parsed = cpaServerInputSchema.safeParse(input);
    const name = typeof (input as { name?: unknown })?.name === 'string' ? (input as { name: string }).name : '?';
    if (!parsed.success) {
      const msg = parsed.error.issues.map((i) => i.message).join('; ');
      return invalid(name, msg);
    }
    const servers = await this.#load();
    const existing = servers.find((s) => s.name === parsed.data.name);
    const key = parsed.data.managementKey ?? existing?.managementKey;
    if (!key) return invalid(parsed.data.name, 'managementKey: required for a new server');
    const url = normalizeCpaUrl(parsed.data.url) ?? parsed.data.url;
    const next: CpaServerConfig = { name: parsed.data.name, url, managementKey: key };
    const updated = existing ? servers.map((s) => (s.name === next.name ? next : s)) : [...servers, next];
    await this.#settings.set(CPA_SERVERS_SETTING, updated);
    this.#sync(next);
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
    const config = await this.config(name);
    if (!config) {
      const known = (await this.#load()).map((s) => s.name);
      return invalid(name, `no CPA server named "${name}" (configured: ${known.join(', ') || 'none'})`);
    }
    return ok(this.#sync(config));
  }

  async clients(): Promise<CpaClient[]> {
    return (await this.#load()).map((s) => this.#sync(s));
  }

  #sync(config: CpaServerConfig): CpaClient {
    const held = this.#clients.get(config.name);
    if (held && held.url === config.url && held.key === config.managementKey) return held.client;
    if (held) {
      held.client.reconfigure(config);
      this.#clients.set(config.name, { client: held.client, url: config.url, key: config.managementKey });
      return held.client;
    }
    const client = new CpaClient(config, this.#clientOptions);
    this.#clients.set(config.name, { client, url: config.url, key: config.managementKey });
    return client;
  }

  #view(config: CpaServerConfig): CpaServerView {
    const client = this.#clients.get(config.name)?.client;
    return {
      name: config.name,
      url: config.url,
      managementKey: maskSecret(config.managementKey),
      generation: client?.generation ?? null,
      breaker: client?.breaker() ?? { open: false, reason: null },
    };
  }

  async #load(): Promise<CpaServerConfig[]> {
    const raw = await this.#settings.get(CPA_SERVERS_SETTING);
    if (raw === undefined) return [];
    const parsed = storedSchema.safeParse(raw);
    // A damaged setting must not take the tool down: treat it as empty and let the operator re-add.
    return parsed.success ? parsed.data : [];
  }
}

function invalid(server: string, message: string): CpaResult<never> {
  return {
    ok: false,
    error: { kind: 'invalid_input', server, status: null, message: `CPA server "${server}": ${message}` },
  };
}
