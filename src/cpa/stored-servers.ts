// The CPA server list as this tool stores it (setting cpa.servers). It is our own record, written only
// after the input was validated (server-input.ts), so reading it back is a plain shape check: every
// command that lists accounts reads it, and none of them should have to load a schema library for that.

/** A 401 seen with a key, kept so that the next process (a cron run) does not try that key again. */
export interface StoredBreaker {
  keyFingerprint: string;
  reason: string;
  at: string;
}

export interface StoredServer {
  name: string;
  url: string;
  managementKey: string;
  breaker?: StoredBreaker | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const allStrings = (o: Record<string, unknown>, keys: readonly string[]) => keys.every((k) => typeof o[k] === 'string');

function isStoredBreaker(v: unknown): v is StoredBreaker | null | undefined {
  return v == null || (isObject(v) && allStrings(v, ['keyFingerprint', 'reason', 'at']));
}

/** False for a damaged setting: reads then treat the list as empty, writes refuse to overwrite it. */
export function isStoredServerList(raw: unknown): raw is StoredServer[] {
  return (
    Array.isArray(raw) &&
    raw.every((s) => isObject(s) && allStrings(s, ['name', 'url', 'managementKey']) && isStoredBreaker(s.breaker))
  );
}
