// Action executor for accounts that live on a CPA server: enable/disable via PATCH status, delete via
// DELETE. Idempotent: the current state is read first, so applying an action twice changes nothing
// the second time and says so ("already disabled", "already deleted"). Failures are values.

import type { CpaClient } from '../../cpa/client.ts';
import type { CpaAccountRef } from '../../cpa/source.ts';
import type { CpaResult } from '../../cpa/types.ts';
import type { Account } from '../../domain/account.ts';

export interface ExecutorOutcome {
  ok: boolean;
  /** False when the account was already in the wanted state (nothing was sent). */
  changed: boolean;
  /** One line for the audit log; never a secret. */
  message: string;
}

/** The interface every executor (local file, CPA) implements for the actions room. */
export interface AccountExecutor {
  setDisabled(account: Account, disabled: boolean): Promise<ExecutorOutcome>;
  delete(account: Account): Promise<ExecutorOutcome>;
}

/** Where to get a server's client (CpaServers fits). */
export interface CpaClientProvider {
  client(server: string): Promise<CpaResult<CpaClient>>;
}

/** The server and file behind an account: from its `cpa` ref, else from its id `cpa:<server>:<file>`. */
export function cpaTarget(account: Account): { server: string; fileName: string } | null {
  const ref = (account as Account & { cpa?: Partial<CpaAccountRef> }).cpa;
  if (ref?.server && ref.fileName) return { server: ref.server, fileName: ref.fileName };
  const m = /^cpa:([^:]+):(.+)$/.exec(account.id);
  return m ? { server: m[1], fileName: m[2] } : null;
}

const fail = (message: string): ExecutorOutcome => ({ ok: false, changed: false, message });

export class CpaExecutor implements AccountExecutor {
  #clients: CpaClientProvider;

  constructor(clients: CpaClientProvider) {
    this.#clients = clients;
  }

  async setDisabled(account: Account, disabled: boolean): Promise<ExecutorOutcome> {
    const resolved = await this.#resolve(account);
    if ('error' in resolved) return fail(resolved.error);
    const { client, fileName } = resolved;
    const listed = await client.listAuthFiles({ name: fileName });
    if (!listed.ok) return fail(listed.error.message);
    const current = listed.value.find((f) => f.name === fileName);
    if (!current) return fail(`${fileName} is no longer on CPA server "${client.name}"`);
    const verb = disabled ? 'disabled' : 'enabled';
    if (current.disabled === disabled) return { ok: true, changed: false, message: `already ${verb} on CPA` };
    const res = await client.setDisabled(fileName, disabled);
    if (!res.ok) return fail(res.error.message);
    return { ok: true, changed: true, message: `${verb} ${fileName} on CPA server "${client.name}"` };
  }

  async delete(account: Account): Promise<ExecutorOutcome> {
    const resolved = await this.#resolve(account);
    if ('error' in resolved) return fail(resolved.error);
    const { client, fileName } = resolved;
    const res = await client.deleteAuthFiles([fileName]);
    if (!res.ok) return fail(res.error.message);
    if (res.value.deleted.includes(fileName)) {
      return { ok: true, changed: true, message: `deleted ${fileName} on CPA server "${client.name}"` };
    }
    const why = res.value.failed.find((f) => f.name === fileName)?.error ?? 'not deleted';
    // Gone already is the wanted end state: deleting twice is harmless.
    if (/not found/i.test(why)) return { ok: true, changed: false, message: 'already deleted on CPA' };
    return fail(`CPA server "${client.name}" did not delete ${fileName}: ${why}`);
  }

  async #resolve(account: Account): Promise<{ client: CpaClient; fileName: string } | { error: string }> {
    const target = cpaTarget(account);
    if (!target) return { error: `account ${account.name} is not a CPA account (no server/file reference)` };
    const client = await this.#clients.client(target.server);
    if (!client.ok) return { error: client.error.message };
    return { client: client.value, fileName: target.fileName };
  }
}
