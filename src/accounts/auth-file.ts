// Reads an auth file from disk into a ParsedAuthFile (or an error value naming the file and the
// problem), and serializes a changed document back in the file's own style. The one place the
// product reads auth files: regular files only, opened non-blocking (a FIFO named *.json cannot
// hang a sweep) and read with a size cap (a link to /dev/zero cannot eat the memory).
import { basename } from 'node:path';
import type { AccountSourceKind, AuthFileFormat } from '../domain/account.ts';
import { fs } from '../runtime/fs.ts';
import { type AccountLoadError, type ParsedAuthFile, parseAuthText } from './formats/index.ts';
import { stringifyJson } from './formats/json-style.ts';

const { closeSync, constants, fstatSync, openSync, readSync } = fs;

/** Real auth files are a few KiB; a multi-auth file with hundreds of accounts stays far below this. */
export const MAX_AUTH_FILE_BYTES = 1024 * 1024;

/** A file that exists but is no auth file we will read (wrong type, too large). */
class UnreadableAuthFile extends Error {}

function kindOf(st: import('node:fs').Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * The file's text, read through one non-blocking descriptor: the type and size are checked on that
 * descriptor (no race with a rename), and at most MAX_AUTH_FILE_BYTES + 1 bytes are ever read.
 * Synchronous calls on purpose: a file is a few KiB, and for a directory of 1000 they are ~10× faster
 * than fs/promises, where open, fstat, read and close are each a thread-pool round trip (the cached
 * `report` reads every file on each run). The non-blocking open keeps a FIFO from blocking.
 */
export async function readAuthText(path: string): Promise<string> {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  try {
    const st = fstatSync(fd);
    if (!st.isFile())
      throw new UnreadableAuthFile(`is ${kindOf(st)}, not a regular file: auth files must be regular files`);
    if (st.size > MAX_AUTH_FILE_BYTES) throw new UnreadableAuthFile(tooLarge(st.size));
    const buffer = Buffer.alloc(Math.min(st.size, MAX_AUTH_FILE_BYTES) + 1);
    let length = 0;
    // The file may grow between stat and read: stop one byte past the cap.
    while (length < buffer.length) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_AUTH_FILE_BYTES) throw new UnreadableAuthFile(tooLarge(length));
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(bytes: number): string {
  return `is too large (${bytes > MAX_AUTH_FILE_BYTES ? `over ${MAX_AUTH_FILE_BYTES}` : bytes} bytes): auth files are at most 1 MiB`;
}

export function fsErrorMessage(path: string, error: unknown): string {
  if (error instanceof UnreadableAuthFile) return `${path}: ${error.message}`;
  const code = (error as NodeJS.ErrnoException)?.code;
  switch (code) {
    case 'ENOENT':
      return `${path}: no such file`;
    case 'EACCES':
    case 'EPERM':
      return `${path}: permission denied (check the file's owner and mode)`;
    case 'EISDIR':
      return `${path}: is a directory, not an auth file`;
    default:
      return `${path}: cannot be read (${code ?? 'unknown error'})`;
  }
}

export async function readAuthFile(
  path: string,
  sourceKind: AccountSourceKind,
  expected?: AuthFileFormat,
): Promise<ParsedAuthFile | AccountLoadError> {
  let text: string;
  try {
    text = await readAuthText(path);
  } catch (error) {
    return { path, index: null, format: expected ?? null, message: fsErrorMessage(path, error) };
  }
  return parseAuthText(text, { path, fileName: basename(path), sourceKind, expected });
}

export function serializeAuthFile(parsed: ParsedAuthFile): string {
  return stringifyJson(parsed.doc, parsed.style);
}
