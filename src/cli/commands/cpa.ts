// `codex-fleet cpa list|add|remove|accounts|check`: the configured CPA servers. Thin: the work is in
// src/cpa (servers.ts, source.ts, doctor.ts). A management key is never taken from argv (other users
// can read it in `ps`): it comes from an environment variable or stdin, and output masks it.
import type { Command } from 'commander';
import { resolveStoreLocation } from '../../core/config.ts';
import { readAuthIndexBaseline, saveAuthIndexBaseline } from '../../core/doctor-run.ts';
import { checkCpaServer } from '../../cpa/doctor.ts';
import { CpaServers } from '../../cpa/servers.ts';
import { loadCpaAccounts } from '../../cpa/source.ts';
import type { Db } from '../../store/db.ts';
import { openStore } from '../../store/open.ts';
import { SettingsRepo } from '../../store/settings-repo.ts';
import { jsonOutput } from '../json-output.ts';
import { addStoreOptions, withCore } from '../shared-args.ts';

interface StoreFlags {
  dataDir?: string;
  databaseUrl?: string;
  json?: boolean;
}

interface AddFlags extends StoreFlags {
  keyEnv: string;
  keyStdin?: boolean;
}

interface CheckFlags extends StoreFlags {
  pollInterval: string;
}

async function withServers<T>(flags: StoreFlags, fn: (servers: CpaServers, settings: SettingsRepo) => Promise<T>) {
  const db: Db = await openStore(resolveStoreLocation(flags));
  try {
    const settings = new SettingsRepo(db);
    const servers = new CpaServers(settings);
    try {
      return await fn(servers, settings);
    } finally {
      // A 401 seen in this run is stored, so the next run does not send that key again.
      await servers.settled();
    }
  } finally {
    await db.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').trim();
}

function fail(message: string): void {
  console.error(`codex-fleet cpa: ${message}`);
  process.exitCode = 1;
}

export function register(program: Command): void {
  const cpa = program.command('cpa').description('CLIProxyAPI (CPA) servers: configure, list accounts, check');
  const store = (cmd: Command) => addStoreOptions(cmd).option('--json', 'machine-readable output');

  store(cpa.command('list').description('configured CPA servers (keys masked)')).action(async (flags: StoreFlags) => {
    const list = await withServers(flags, (s) => s.list());
    if (flags.json) console.log(jsonOutput(list));
    else if (list.length === 0)
      console.log('no CPA servers configured (add one with: codex-fleet cpa add <name> <url>)');
    else for (const s of list) console.log(`${s.name.padEnd(16)} ${s.url.padEnd(36)} key ${s.managementKey}`);
  });

  store(
    cpa
      .command('add <name> <url>')
      .description('add or update a CPA server; the key comes from $CODEX_FLEET_CPA_KEY (or --key-env / --key-stdin)')
      .option('--key-env <var>', 'environment variable that holds the management key', 'CODEX_FLEET_CPA_KEY')
      .option('--key-stdin', 'read the management key from stdin'),
  ).action(async (name: string, url: string, flags: AddFlags) => {
    const key = flags.keyStdin ? await readStdin() : process.env[flags.keyEnv];
    const known = await withServers(flags, async (s) => (await s.config(name)) !== null);
    if (!key && !known) return fail(`no management key: set ${flags.keyEnv} or pass --key-stdin`);
    // Through the core: its accounts are listed and probed now, so every view shows them at once.
    const out = await withCore(flags, async (core) => {
      const saved = await core.saveCpaServer({ name, url, ...(key ? { managementKey: key } : {}) });
      const swept = await core.sweepCpaServer(name);
      return { saved, accounts: swept.checks.length, problems: swept.errors.map((e) => e.message) };
    }).catch((error: Error) => error);
    if (out instanceof Error) return fail(out.message);
    for (const p of out.problems) console.error(`codex-fleet cpa add: ${p}`);
    if (flags.json) console.log(jsonOutput({ ...out.saved, accounts: out.accounts }));
    else
      console.log(
        `saved CPA server ${out.saved.name} (${out.saved.url}, key ${out.saved.managementKey}): ${out.accounts} codex account(s) checked`,
      );
  });

  store(cpa.command('remove <name>').description('forget a CPA server')).action(
    async (name: string, flags: StoreFlags) => {
      const removed = await withServers(flags, (s) => s.remove(name));
      if (!removed) return fail(`no CPA server named "${name}"`);
      if (flags.json) console.log(jsonOutput({ removed: name }));
      else console.log(`removed CPA server ${name}`);
    },
  );

  store(cpa.command('accounts <name>').description("the codex accounts on a CPA server, with CPA's status")).action(
    async (name: string, flags: StoreFlags) => {
      const res = await withServers(flags, async (s) => {
        const client = await s.client(name);
        return client.ok ? loadCpaAccounts(client.value) : client;
      });
      if (!res.ok) return fail(res.error.message);
      const rows = res.value.map((a) => ({
        name: a.cpa.fileName,
        email: a.email,
        authIndex: a.cpa.authIndex,
        disabled: a.disabled,
        status: a.cpa.status,
        statusMessage: a.cpa.statusMessage,
      }));
      if (flags.json) console.log(jsonOutput(rows));
      else if (rows.length === 0) console.log(`no codex auth files on ${name}`);
      else
        for (const r of rows) {
          const state = r.disabled ? 'disabled' : (r.status ?? 'unknown');
          console.log(
            `${state.padEnd(10)} ${r.authIndex ?? '-'.padEnd(16)}  ${r.name}${r.statusMessage ? `  (${r.statusMessage})` : ''}`,
          );
        }
    },
  );

  store(
    cpa
      .command('check [name]')
      .description('doctor checks per CPA server: key, usage publishing, retention, metadata, auth_index stability')
      .option('--poll-interval <seconds>', "the usage collector's poll interval", '10'),
  ).action(async (name: string | undefined, flags: CheckFlags) => {
    const poll = Number(flags.pollInterval);
    if (!Number.isFinite(poll) || poll <= 0)
      return fail(`--poll-interval must be a positive number, got "${flags.pollInterval}"`);
    const reports = await withServers(flags, async (s, settings) => {
      const clients = name ? [await s.client(name)] : (await s.clients()).map((c) => ({ ok: true as const, value: c }));
      const out = [];
      for (const c of clients) {
        if (!c.ok) return c.error;
        // The same baseline `doctor` keeps: two baselines would contradict each other.
        const previous = await readAuthIndexBaseline(settings, c.value.name);
        const report = await checkCpaServer(c.value, {
          pollIntervalSeconds: poll,
          previousAuthIndexes: previous ?? null,
        });
        if (Object.keys(report.authIndexes).length > 0) {
          await saveAuthIndexBaseline(settings, c.value.name, report.authIndexes);
        }
        out.push(...report.checks);
      }
      return out;
    });
    if (!Array.isArray(reports)) return fail(reports.message);
    if (flags.json) console.log(jsonOutput(reports));
    else if (reports.length === 0) console.log('no CPA servers configured');
    else
      for (const c of reports) {
        console.log(
          `${c.status.padEnd(8)} ${c.server}: ${c.id}: ${c.message}${c.fix ? `\n         fix: ${c.fix}` : ''}`,
        );
      }
    if (reports.some((c) => c.status === 'failed')) process.exitCode = 1;
  });
}
