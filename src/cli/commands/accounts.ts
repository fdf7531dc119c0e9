// `codex-fleet accounts list|show|import|add|remove|enable|disable|refresh`: thin over src/accounts
// and the store. Tokens are only ever shown masked; `add` reads them from a file or stdin, never argv.
import { readFile } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import Table from 'cli-table3';
import type { Command } from 'commander';
import pc from 'picocolors';
import { AddAccountError, TRASH_DIR } from '../../accounts/manage.ts';
import type { FleetService } from '../../core/fleet-service.ts';
import { type Account, maskSecret } from '../../domain/account.ts';
import { formatDuration } from '../../domain/time.ts';
import type { TokenState } from '../../store/index.ts';
import { jsonOutput } from '../json-output.ts';
import { addFleetOptions, type CommonOptions, withCore } from '../shared-args.ts';

interface AccountsOptions extends CommonOptions {
  name?: string;
  fromFile?: string;
  deleteFile?: boolean;
}

/** What list/show print: no secret beyond maskSecret's first/last 4 characters. */
export function accountView(a: Account, token: TokenState | undefined, now: number) {
  const exp = a.credentials.expiresAt;
  return {
    name: a.name,
    id: a.id,
    email: a.email,
    workspaceId: a.accountId,
    plan: a.plan,
    format: a.format,
    source: a.sourceKind,
    path: a.sourcePath,
    index: a.sourceIndex,
    disabled: a.disabled,
    accessToken: maskSecret(a.credentials.accessToken),
    refreshToken: maskSecret(a.credentials.refreshToken),
    accessExpiresAt: exp == null ? null : new Date(exp).toISOString(),
    accessExpiresIn: exp == null ? null : Math.round((exp - now) / 1000),
    lastRefresh: a.credentials.lastRefresh,
    refreshFailures: token?.refreshFailures ?? 0,
    lastRefreshError: token?.lastRefreshError ?? null,
  };
}

function find(accounts: readonly Account[], ref: string): Account | string {
  let hits = accounts.filter((a) => a.name === ref || a.id === ref || a.email === ref);
  // The workspace id was every account's id before seats: it still names a workspace's only seat.
  if (hits.length === 0) hits = accounts.filter((a) => a.accountId === ref);
  if (hits.length === 1) return hits[0];
  if (hits.length === 0)
    return `no account "${ref}" (use a name, id, email or workspace id from \`codex-fleet accounts list\`)`;
  return `"${ref}" matches ${hits.length} accounts: use one of the ids ${hits.map((a) => a.id).join(', ')}`;
}

async function withFleet(options: AccountsOptions, fn: (fleet: FleetService) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await withCore(options, fn);
  } catch (error) {
    console.error(`codex-fleet accounts: ${(error as Error).message}`);
    process.exitCode = 1;
  }
}

async function loadOne(fleet: FleetService, ref: string): Promise<Account | null> {
  const { accounts } = await fleet.loadAccounts();
  const hit = find(accounts, ref);
  if (typeof hit === 'string') {
    console.error(`codex-fleet accounts: ${hit}`);
    return null;
  }
  return hit;
}

export function register(program: Command): void {
  const accounts = program
    .command('accounts')
    .description('Manage accounts: list, show, import, add, remove, enable, disable');

  addFleetOptions(
    accounts
      .command('list')
      .description('Every account from every source (tokens masked)')
      .option('--json', 'print JSON'),
  ).action((options: AccountsOptions) =>
    withFleet(options, async (fleet) => {
      const { accounts: list, errors } = await fleet.loadAccounts();
      for (const e of errors) console.error(`codex-fleet: skipped ${e.message}`);
      const states = new Map((await fleet.tokenStates()).map((t) => [t.accountId, t]));
      const rows = list.map((a) => accountView(a, states.get(a.id), fleet.clock()));
      if (options.json) {
        console.log(jsonOutput(rows));
      } else if (rows.length === 0) {
        console.log(
          `no accounts yet: put auth files in ${fleet.config.accountDir} or run \`codex-fleet accounts import <path>\``,
        );
      } else {
        const table = new Table({
          head: [
            'name',
            'email',
            'plan',
            'format',
            'source',
            'enabled',
            'token expires',
            'access token',
            'last refresh error',
          ],
          // Same as the quota table: colour only on a terminal that supports it.
          style: pc.isColorSupported && process.stdout.isTTY === true ? { head: ['cyan'] } : { head: [], border: [] },
        });
        for (const r of rows) {
          table.push([
            r.name,
            r.email ?? '-',
            r.plan ?? '-',
            r.format,
            r.source,
            r.disabled ? 'no' : 'yes',
            r.accessExpiresIn == null
              ? 'unknown'
              : r.accessExpiresIn <= 0
                ? 'expired'
                : `in ${formatDuration(r.accessExpiresIn)}`,
            r.accessToken ?? '-',
            r.lastRefreshError ?? '-',
          ]);
        }
        console.log(table.toString());
      }
      return 0;
    }),
  );

  addFleetOptions(
    accounts
      .command('show')
      .argument('<account>', 'name, id or email')
      .description('One account in detail (tokens masked)')
      .option('--json', 'print JSON'),
  ).action((ref: string, options: AccountsOptions) =>
    withFleet(options, async (fleet) => {
      const account = await loadOne(fleet, ref);
      if (!account) return 1;
      const token = (await fleet.tokenStates()).find((t) => t.accountId === account.id);
      const view = accountView(account, token, fleet.clock());
      if (options.json) console.log(jsonOutput(view));
      else for (const [k, v] of Object.entries(view)) console.log(`${k.padEnd(18)} ${v ?? '-'}`);
      return 0;
    }),
  );

  addFleetOptions(
    accounts
      .command('import')
      .argument('<path>', 'an auth file (any format) or a directory of them; files stay where they are')
      .description('Remember auth files outside the account directory'),
  ).action((path: string, options: AccountsOptions) =>
    withFleet(options, async (fleet) => {
      const load = await fleet.importAccounts(path);
      for (const e of load.errors) console.error(`codex-fleet: skipped ${e.message}`);
      for (const a of load.accounts)
        console.log(`imported ${a.name} (${a.format}, ${a.email ?? a.id}) from ${a.sourcePath}`);
      if (load.accounts.length === 0) {
        console.error('codex-fleet accounts import: nothing imported');
        return 1;
      }
      return load.errors.length > 0 ? 1 : 0;
    }),
  );

  addFleetOptions(
    accounts
      .command('add')
      .description('New auth file in the account directory, from token JSON on stdin or in a file (never argv)')
      .option('--name <name>', 'file name for the account (required unless a CPA file with an email)')
      .option('--from-file <path>', 'read the token JSON from this file instead of stdin'),
  ).action((options: AccountsOptions) =>
    withFleet(options, async (fleet) => {
      if (options.name && /^eyJ|^rt_|^sk-/.test(options.name)) {
        console.error(
          'codex-fleet accounts add: tokens are never taken from the command line (shell history, ps): pipe them on stdin or use --from-file',
        );
        return 1;
      }
      let text: string;
      if (options.fromFile) {
        text = await readFile(options.fromFile, 'utf8');
      } else if (process.stdin.isTTY) {
        console.error('codex-fleet accounts add: pipe the token JSON on stdin, or pass --from-file <path>');
        return 1;
      } else {
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        text = Buffer.concat(chunks).toString('utf8');
      }
      try {
        const account = await fleet.addAccount(text, options.name);
        console.log(
          `added ${account.name} (${account.format}, ${account.email ?? account.id}) at ${account.sourcePath}, access token ${maskSecret(account.credentials.accessToken) ?? '-'}`,
        );
        return 0;
      } catch (error) {
        if (error instanceof AddAccountError) {
          console.error(`codex-fleet accounts add: ${error.message}`);
          return 1;
        }
        throw error;
      }
    }),
  );

  addFleetOptions(
    accounts
      .command('remove')
      .argument('<account>', 'name, id or email')
      .option('--delete-file', 'also delete its auth file (single-account files only)')
      .description('Forget an account (and optionally delete its file)'),
  ).action((ref: string, options: AccountsOptions) =>
    withFleet(options, async (fleet) => {
      const account = await loadOne(fleet, ref);
      if (!account) return 1;
      try {
        await fleet.removeAccount(account, { deleteFile: options.deleteFile });
      } catch (error) {
        console.error(`codex-fleet accounts remove: ${(error as Error).message}`);
        return 1;
      }
      console.log(
        `removed ${account.name}${options.deleteFile ? ` and moved ${account.sourcePath} to ${TRASH_DIR}/ (move it back to undo)` : ''}`,
      );
      const dir = resolve(fleet.config.accountDir);
      const path = account.sourcePath ? resolve(account.sourcePath) : '';
      if (
        !options.deleteFile &&
        (dirname(path) === dir || path.startsWith(dir + sep) || account.sourceKind === 'codex-home')
      ) {
        console.error(
          `note: ${account.sourcePath} is still read on every run, so it will come back; pass --delete-file to delete it`,
        );
      }
      return 0;
    }),
  );

  for (const [verb, disabled] of [
    ['enable', false],
    ['disable', true],
  ] as const) {
    addFleetOptions(
      accounts
        .command(verb)
        .argument('<account>', 'name, id or email')
        .description(
          `${verb === 'enable' ? 'Enable' : 'Disable'} an account in its own auth file (CPA's "disabled", multi-auth's "enabled")`,
        ),
    ).action((ref: string, options: AccountsOptions) =>
      withFleet(options, async (fleet) => {
        const account = await loadOne(fleet, ref);
        if (!account) return 1;
        // The dashboard's button does the same: executed at the account's home (file or CPA), owned, audited.
        try {
          await fleet.setAccountDisabled(account.id, disabled, 'cli');
        } catch (error) {
          console.error(`codex-fleet accounts ${verb}: ${(error as Error).message}`);
          return 1;
        }
        const where =
          account.sourceKind === 'cpa' ? `on CPA ${account.sourcePath ?? ''}`.trim() : `in ${account.sourcePath}`;
        console.log(`${account.name} ${disabled ? 'disabled' : 'enabled'} ${where}`);
        return 0;
      }),
    );
  }

  addFleetOptions(
    accounts
      .command('refresh')
      .argument('<account>', 'name, id or email')
      .description('Refresh the token pair now (written back to its file before use)'),
  ).action((ref: string, options: AccountsOptions) =>
    withFleet(options, async (fleet) => {
      const account = await loadOne(fleet, ref);
      if (!account) return 1;
      const r = await fleet.refreshToken(account);
      if (!r.ok) {
        console.error(`codex-fleet accounts refresh: ${account.name}: ${r.state} (${r.code}): ${r.message}`);
        return 1;
      }
      const exp = r.account.credentials.expiresAt;
      console.log(
        `${account.name}: ${r.action}; access token ${maskSecret(r.account.credentials.accessToken)} expires ${exp ? `in ${formatDuration((exp - fleet.clock()) / 1000)}` : 'at an unknown time'}`,
      );
      return 0;
    }),
  );
}
