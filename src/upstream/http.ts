// One HTTP exchange with a deadline that covers headers and body. Failures come back as values
// (timeout / network) so the classifier sees every outcome the same way.
import { sanitizeMessage } from './sanitize.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Bodies beyond this are cut: usage answers are small, and a runaway body must not eat memory. */
const MAX_BODY_CHARS = 1_000_000;

export interface HttpAnswer {
  status: number | null;
  headers: Headers | null;
  body: string | null;
  failure: 'timeout' | 'network' | null;
  failureMessage: string | null;
}

/** The per-request deadline when the caller passes none (CODEX_AUTH_FETCH_TIMEOUT_MS is read in core/config.ts). */
export const DEFAULT_TIMEOUT_MS = 15_000;

function describeError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } })?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * `skipSuccessBody`: for streaming endpoints (POST /codex/responses) where only the headers matter,
 * a 2xx body is cancelled instead of read; error bodies are always read for classification.
 */
export async function fetchAnswer(
  url: string,
  init: RequestInit,
  timeoutMs: number,
  fetchImpl: FetchLike = fetch,
  skipSuccessBody = false,
): Promise<HttpAnswer> {
  const controller = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, timeoutMs);
  try {
    const response = await fetchImpl(url, { ...init, signal: controller.signal });
    if (skipSuccessBody && response.ok) {
      await response.body?.cancel().catch(() => {});
      return { status: response.status, headers: response.headers, body: null, failure: null, failureMessage: null };
    }
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: text.length > MAX_BODY_CHARS ? text.slice(0, MAX_BODY_CHARS) : text,
      failure: null,
      failureMessage: null,
    };
  } catch (error) {
    return {
      status: null,
      headers: null,
      body: null,
      failure: timedOut ? 'timeout' : 'network',
      failureMessage: timedOut ? `no answer within ${timeoutMs} ms` : sanitizeMessage(describeError(error)),
    };
  } finally {
    clearTimeout(timer);
  }
}
