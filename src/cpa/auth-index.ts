import { nodeCrypto } from '../runtime/crypto.ts';

/**
 * CPA's auth_index for an auth file: hex of the first 8 bytes of sha256(lower(type) + ":" + absolute path).
 * It changes when the auth dir moves, which is why doctor compares it between runs.
 */
export function authIndexFor(type: string, absPath: string): string {
  return nodeCrypto().createHash('sha256').update(`${type.toLowerCase()}:${absPath}`).digest('hex').slice(0, 16);
}
