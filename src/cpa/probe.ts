// Server inspection through CPA: the usage request is made BY CPA (POST api-call) with
// "Authorization: Bearer $TOKEN$", so the account's raw token never leaves CPA. The upstream
// probe loop (path fallback /wham → /codex, classification, backoff) is reused unchanged by giving
// it a fetch that goes through api-call.
import type { FetchLike } from '../upstream/http.ts';
import { type ProbeOptions, type ProbeOutcome, probeAccount } from '../upstream/probe.ts';
import { realSleep } from '../upstream/retry.ts';
import type { CpaClient } from './client.ts';
import type { CpaError } from './types.ts';

/** CPA replaces this placeholder with the account's current access token. */
export const CPA_TOKEN_PLACEHOLDER = '$TOKEN$';

export interface CpaProbeTarget {
  authIndex: string;
  /** ChatGPT account id, sent as ChatGPT-Account-Id when known. */
  accountId: string | null;
  /** Expiry (ms) of the token CPA holds, from its auth file's "expired"; decides what a 401 means. */
  tokenExpiresAt?: number | null;
}

export type CpaProbeOptions = Omit<ProbeOptions, 'fetch' | 'onUnauthorized'>;

/** CPA refusing us (bad key, breaker) is not about the account: no point waiting to retry. */
const FATAL_KINDS: ReadonlySet<CpaError['kind']> = new Set([
  'unauthorized',
  'breaker_open',
  'forbidden',
  'invalid_input',
  'no_management_api',
]);

class CpaCallError extends Error {
  readonly cpa: CpaError;
  constructor(cpa: CpaError) {
    super(cpa.message);
    this.name = 'CpaCallError';
    this.cpa = cpa;
  }
}

/** Statuses that must not carry a body in a fetch Response. */
const NULL_BODY = new Set([101, 204, 205, 304]);

/** A fetch whose requests CPA makes on behalf of one account (via api-call). */
export function cpaFetch(client: CpaClient, authIndex: string, onFatal?: (e: CpaError) => void): FetchLike {
  return async (input, init = {}) => {
    const header: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => {
      header[key] = value;
    });
    const call = client.apiCall({
      authIndex,
      method: init.method ?? 'GET',
      url: String(input),
      header,
      data: typeof init.body === 'string' ? init.body : undefined,
      signal: init.signal ?? undefined,
    });
    const res = await abortable(call, init.signal);
    if (!res.ok) {
      if (FATAL_KINDS.has(res.error.kind)) onFatal?.(res.error);
      throw new CpaCallError(res.error);
    }
    const { statusCode, header: answerHeaders, body } = res.value;
    if (statusCode < 200 || statusCode > 599) {
      throw new Error(`CPA api-call returned an impossible upstream status ${statusCode}`);
    }
    const headers = new Headers();
    for (const [name, values] of Object.entries(answerHeaders)) {
      for (const value of values) {
        try {
          headers.append(name, value);
        } catch {
          // a header name or value fetch cannot hold: skip it rather than fail the probe
        }
      }
    }
    return new Response(NULL_BODY.has(statusCode) ? null : body, { status: statusCode, headers });
  };
}

/**
 * Probes one CPA account's quota through api-call. Never throws. The result's source is 'cpa'.
 * CPA refreshes tokens itself, so no refresh is tried here: the answer goes through the one
 * classifier with the expiry CPA's file gives, so a 401 means what it means locally (expired token:
 * auth_expired with upstream's own code; rejected unexpired token: auth_invalid).
 */
export async function probeViaCpa(
  client: CpaClient,
  target: CpaProbeTarget,
  options: CpaProbeOptions,
): Promise<ProbeOutcome> {
  let fatal: CpaError | null = client.breaker().open
    ? { kind: 'breaker_open', server: client.name, status: null, message: client.breaker().reason ?? 'breaker open' }
    : null;
  const sleep = options.sleep ?? realSleep;
  const outcome = await probeAccount(
    { accessToken: CPA_TOKEN_PLACEHOLDER, accountId: target.accountId, expiresAt: target.tokenExpiresAt ?? null },
    {
      ...options,
      fetch: cpaFetch(client, target.authIndex, (e) => {
        fatal ??= e; // the first refusal is the cause; later ones are the breaker
      }),
      // Once CPA refused us, retries fail at once without the network: do not wait between them.
      sleep: (ms) => (fatal ? Promise.resolve() : sleep(ms)),
    },
  );
  const result: ProbeOutcome = { ...outcome, source: 'cpa' };
  if (fatal) {
    const e = fatal as CpaError;
    result.message = e.message.slice(0, 300);
    result.errorCode = `cpa_${e.kind}`;
  }
  return result;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
