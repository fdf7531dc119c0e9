// Encryption at rest for stored credentials (CPA management keys, the monitor's hashing secret):
// AES-256-GCM from node:crypto with a key that never lives in the database: CODEX_FLEET_SECRET_KEY,
// else a random key in <dataDir>/secret-key (0600, created on first need). A copied or dumped
// database (PostgreSQL, `db copy`, a backup) holds only sealed values; the key travels separately.

import { join } from 'node:path';
import { nodeCrypto } from '../runtime/crypto.ts';
import { fs } from '../runtime/fs.ts';

const { mkdirSync, readFileSync, statSync, writeFileSync } = fs;

export const SECRET_KEY_ENV = 'CODEX_FLEET_SECRET_KEY';
export const SECRET_KEY_FILE = 'secret-key';
const MIN_KEY_CHARS = 32;
const PREFIX = 'cfsecret:v1:';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/** One key: seals and opens values. `context` (e.g. the setting's name) is authenticated, so a sealed value cannot be moved elsewhere. */
export class SecretBox {
  readonly keyId: string;
  /** Where the key came from, for messages (never the key). */
  readonly source: string;
  readonly #key: Buffer;

  constructor(material: string, source: string) {
    // HKDF turns any long random string (openssl rand -base64 32) into exactly 32 key bytes.
    this.#key = Buffer.from(nodeCrypto().hkdfSync('sha256', material, 'codex-fleet', 'secret-box v1', 32));
    this.keyId = nodeCrypto().createHmac('sha256', this.#key).update('key-id').digest('hex').slice(0, 8);
    this.source = source;
  }

  seal(plaintext: string, context: string): string {
    const iv = nodeCrypto().randomBytes(IV_BYTES);
    const cipher = nodeCrypto().createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(context));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${PREFIX}${this.keyId}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  open(sealed: string, context: string): string {
    const parts = sealed.slice(PREFIX.length).split(':');
    if (!isSealed(sealed) || parts.length !== 2) throw new SecretKeyError(`${context}: the stored secret is damaged`);
    const [keyId, data] = parts;
    if (keyId !== this.keyId) {
      throw new SecretKeyError(
        `${context}: the stored secret was encrypted with key id ${keyId}, but the key from ${this.source} has id ${this.keyId}; set ${SECRET_KEY_ENV} to the original key (or restore the original ${SECRET_KEY_FILE} file)`,
      );
    }
    const raw = Buffer.from(data, 'base64url');
    try {
      const decipher = nodeCrypto().createDecipheriv('aes-256-gcm', this.#key, raw.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(context));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretKeyError(
        `${context}: the stored secret is damaged (it does not verify with key id ${this.keyId})`,
      );
    }
  }
}

export function isSealed(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith(PREFIX);
}

/** The key id a sealed value names, for messages. */
export function sealedKeyId(sealed: string): string {
  return sealed.slice(PREFIX.length).split(':')[0] ?? '?';
}

/** Finds the key lazily: sealing may create the key file, opening never does (a missing key is an error). */
export interface SecretKeys {
  forSeal(): SecretBox;
  /** null when no key exists yet (nothing can have been sealed with it here). */
  forOpen(): SecretBox | null;
  /** What to do when the key is missing or wrong, for messages. */
  readonly hint: string;
}

export function secretKeys(opts: { dataDir: string; env?: NodeJS.ProcessEnv }): SecretKeys {
  const env = opts.env ?? process.env;
  const file = join(opts.dataDir, SECRET_KEY_FILE);
  let box: SecretBox | null = null;
  const fromEnvOrFile = (): SecretBox | null => {
    if (box) return box;
    const fromEnv = env[SECRET_KEY_ENV]?.trim();
    if (fromEnv) {
      if (fromEnv.length < MIN_KEY_CHARS) {
        throw new SecretKeyError(
          `${SECRET_KEY_ENV} is too short (${fromEnv.length} characters); use at least ${MIN_KEY_CHARS}, e.g. \`openssl rand -base64 32\``,
        );
      }
      box = new SecretBox(fromEnv, SECRET_KEY_ENV);
      return box;
    }
    let mode: number;
    try {
      mode = statSync(file).mode;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new SecretKeyError(`cannot read the secret key file ${file}: ${(error as Error).message}`);
    }
    if ((mode & 0o077) !== 0) {
      throw new SecretKeyError(
        `the secret key file ${file} has mode ${(mode & 0o777).toString(8)} and others can read it; run \`chmod 600 ${file}\``,
      );
    }
    const material = readFileSync(file, 'utf8').trim();
    if (material.length < MIN_KEY_CHARS) throw new SecretKeyError(`the secret key file ${file} holds no usable key`);
    box = new SecretBox(material, file);
    return box;
  };
  return {
    hint: `set ${SECRET_KEY_ENV} to the original key or restore ${file}`,
    forOpen: fromEnvOrFile,
    forSeal() {
      const existing = fromEnvOrFile();
      if (existing) return existing;
      try {
        mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
        // 'wx': never overwrite a key another process just wrote; then read back whichever won.
        writeFileSync(file, `${nodeCrypto().randomBytes(32).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new SecretKeyError(
            `cannot store a secret key in ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); set ${SECRET_KEY_ENV} or choose a writable --data-dir`,
          );
        }
      }
      const created = fromEnvOrFile();
      if (!created) throw new SecretKeyError(`the secret key file ${file} vanished while it was created`);
      return created;
    },
  };
}

// Which keys belong to which open database: openStore knows the data directory, the repositories
// built over the Db later do not.
const KEYS_BY_DB = new WeakMap<object, SecretKeys>();
let processKeys: SecretKeys | null = null;

export function attachSecretKeys(db: object, keys: SecretKeys): void {
  KEYS_BY_DB.set(db, keys);
}

/**
 * The keys for a Db opened by openStore. A Db opened any other way (tests, tools) gets
 * CODEX_FLEET_SECRET_KEY, else one random key held in memory for this process only.
 */
export function secretKeysOf(db: object): SecretKeys {
  const attached = KEYS_BY_DB.get(db);
  if (attached) return attached;
  if (process.env[SECRET_KEY_ENV]) return secretKeys({ dataDir: '/nonexistent', env: process.env });
  if (!processKeys) {
    const box = new SecretBox(
      nodeCrypto().randomBytes(32).toString('base64url'),
      'a key held in memory by this process',
    );
    processKeys = { hint: 'this process holds the only key', forOpen: () => box, forSeal: () => box };
  }
  return processKeys;
}
