// Reads quota the way a live request sees it: a minimal POST {base}/codex/responses whose answer
// carries x-codex-* headers. Used by `report --live --model …`; same classification as the usage probe.

import { usageRequestHeaders } from './headers.ts';
import { fetchAnswer } from './http.ts';
import { parseCodexHeaders } from './parse.ts';
import {
  type Attempt,
  type ProbeOptions,
  type ProbeOutcome,
  type ProbeTarget,
  resolveProbeOptions,
  runProbe,
} from './probe.ts';
import { normalizeBaseUrl } from './usage-paths.ts';

export const RESPONSES_PATH = '/codex/responses';

export interface ResponsesProbeOptions extends ProbeOptions {
  model: string;
}

/** The smallest request the endpoint accepts: one short user message, nothing stored. */
export function minimalResponsesBody(model: string): string {
  return JSON.stringify({
    model,
    instructions: 'Reply with OK.',
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'ping' }] }],
    store: false,
    stream: true,
  });
}

export function probeViaResponses(target: ProbeTarget, options: ResponsesProbeOptions): Promise<ProbeOutcome> {
  const r = resolveProbeOptions(options);
  const url = normalizeBaseUrl(options.chatgptUrl) + RESPONSES_PATH;
  const attempt: Attempt = async (accessToken) => {
    const headers = {
      ...usageRequestHeaders({ accessToken, accountId: target.accountId }, r.userAgent),
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
    };
    const init = { method: 'POST', headers, body: minimalResponsesBody(options.model) };
    const http = await fetchAnswer(url, init, r.timeoutMs, r.fetch, true);
    const ok = http.status != null && http.status >= 200 && http.status < 300;
    const snapshot = parseCodexHeaders(http.headers, r.clock());
    // A refusal (429 usage_limit_reached) may still carry the windows in its headers.
    if (!ok) return { http, usagePath: RESPONSES_PATH, snapshot };
    // The request went through, so the account was allowed to serve it, whatever the headers say; and
    // a served request without x-codex-*-window headers means no rate-limit windows apply (§2).
    const windowless = !snapshot?.windows.some((w) => w.scope === 'primary' || w.scope === 'secondary');
    const withAllowed = snapshot
      ? { ...snapshot, allowed: snapshot.allowed ?? true, windowless }
      : {
          windowless,
          plan: null,
          allowed: true,
          limitReached: null,
          rateLimitReachedType: null,
          windows: [],
          credits: { hasCredits: null, unlimited: null, balance: null },
          fetchedAt: new Date(r.clock()).toISOString(),
        };
    return { http, usagePath: RESPONSES_PATH, snapshot: withAllowed };
  };
  return runProbe(target, options, attempt);
}
