// Replaces a file so that a reader (or a crash) sees either the old or the new content, never a mix:
// temp file in the same directory, write, fsync, rename over the target, fsync the directory.
// Credentials files end up mode 0600 whatever the old mode was (as the Codex CLI does).

import { basename, dirname, join } from 'node:path';
import { nodeCrypto } from '../runtime/crypto.ts';
import { fsPromises } from '../runtime/fs.ts';

export interface AtomicWriteOptions {
  /** Final file mode; 0600 by default because these files hold tokens. */
  mode?: number;
}

export async function writeFileAtomic(target: string, data: string | Uint8Array, options: AtomicWriteOptions = {}) {
  const mode = options.mode ?? 0o600;
  // A symlinked auth file (e.g. ~/.codex/auth.json linked into the account dir) must stay a link:
  // replace the file it points to, or the other tool keeps a copy whose refresh token we just spent.
  const path = await fsPromises()
    .realpath(target)
    .catch(() => target);
  const dir = dirname(path);
  // Dot-prefixed and not ending in .json: directory watchers (CLIProxyAPI) and our own sources skip it.
  const temp = join(dir, `.${basename(path)}.tmp-${process.pid}-${nodeCrypto().randomBytes(6).toString('hex')}`);
  const previous = await fsPromises()
    .stat(path)
    .catch(() => null);
  const handle = await fsPromises().open(temp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask may have narrowed or the open mode been ignored
    // Running as root on someone else's file: keep their ownership, or they lose access to it.
    if (previous && process.getuid?.() === 0) await handle.chown(previous.uid, previous.gid).catch(() => {});
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await fsPromises()
      .unlink(temp)
      .catch(() => {});
    throw error;
  }
  await handle.close();
  try {
    await fsPromises().rename(temp, path);
  } catch (error) {
    await fsPromises()
      .unlink(temp)
      .catch(() => {});
    throw error;
  }
  await syncDir(dir);
}

/** Makes the rename itself durable. Some file systems refuse fsync on a directory: that is fine. */
async function syncDir(dir: string): Promise<void> {
  const handle = await fsPromises()
    .open(dir, 'r')
    .catch(() => null);
  if (!handle) return;
  try {
    await handle.sync();
  } catch {
    // EINVAL/EISDIR on some platforms: nothing more we can do.
  } finally {
    await handle.close();
  }
}
