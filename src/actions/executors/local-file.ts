// Action executor for accounts in local auth files: the `disabled` flag written atomically in the file's
// own format (multi-auth: enabled=false). Delete never destroys credentials: the file is moved into a
// `.deleted/` folder beside it, so an operator can undo a mistaken delete.
import { mkdir, rename } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setAccountDisabled } from '../../accounts/write-back.ts';
import type { Account } from '../../domain/account.ts';
import type { AccountExecutor, ExecutorOutcome } from './cpa.ts';

export class LocalFileExecutor implements AccountExecutor {
  readonly #clock: () => number;

  constructor(clock: () => number = Date.now) {
    this.#clock = clock;
  }

  async setDisabled(account: Account, disabled: boolean): Promise<ExecutorOutcome> {
    if (!account.sourcePath) return { ok: false, changed: false, message: `${account.name}: no local file behind it` };
    if (account.disabled === disabled) {
      return { ok: true, changed: false, message: `already ${disabled ? 'disabled' : 'enabled'}` };
    }
    const result = await setAccountDisabled(account, disabled);
    if (!result.ok) return { ok: false, changed: false, message: result.message };
    return {
      ok: true,
      changed: true,
      message: `${disabled ? 'disabled' : 'enabled'} in ${basename(account.sourcePath)}`,
    };
  }

  async delete(account: Account): Promise<ExecutorOutcome> {
    if (!account.sourcePath) return { ok: false, changed: false, message: `${account.name}: no local file behind it` };
    if (account.format === 'multi-auth') {
      // One file holds many accounts: removing an entry would touch the others. Disable it instead.
      const disabled = await this.setDisabled(account, true);
      return {
        ...disabled,
        message: `multi-auth entry kept and disabled (one file holds many accounts): ${disabled.message}`,
      };
    }
    const trash = join(dirname(account.sourcePath), '.deleted');
    await mkdir(trash, { recursive: true, mode: 0o700 });
    const target = join(trash, `${this.#clock()}-${basename(account.sourcePath)}`);
    try {
      await rename(account.sourcePath, target);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        return { ok: true, changed: false, message: 'already deleted' };
      return {
        ok: false,
        changed: false,
        message: `${basename(account.sourcePath)}: ${(error as NodeJS.ErrnoException).code ?? 'move failed'}`,
      };
    }
    return { ok: true, changed: true, message: `moved ${basename(account.sourcePath)} to .deleted/ (recoverable)` };
  }
}
