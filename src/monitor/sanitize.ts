// Turns a raw upstream failure body into what an operator may see: status, error type/code and the
// first meaningful message line, with every secret-looking thing masked. Pure; never throws.
import { maskSecrets } from '../upstream/sanitize.ts';
import type { FailureSummary } from './event.ts';

const MAX_MESSAGE = 300;
// Bodies can be megabytes (HTML pages, streamed dumps); only the head can hold the message.
const MAX_SCAN = 64 * 1024;

/** The one masker lives with the upstream messages; monitoring uses it unchanged. */
export { maskSecrets };

function oneLine(text: string): string {
  // ANSI escapes and control characters would corrupt terminals and CSV cells.
  return text
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' ')
    .trim();
}

/** First line that says something: not blank, not only brackets/punctuation, not a stack frame. */
export function firstMeaningfulLine(text: string): string | null {
  for (const raw of text.split(/\r?\n/)) {
    const line = oneLine(raw);
    if (line === '' || /^[\s{}[\]()<>,;:"'`.=#*-]*$/.test(line)) continue;
    if (/^(at |Traceback|File ")/.test(line)) continue;
    return line;
  }
  return null;
}

const IDENT = /^[A-Za-z0-9_.:-]{1,64}$/;
const ident = (v: unknown): string | null => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return IDENT.test(s) ? s : null;
};

interface Extracted {
  type: string | null;
  code: string | null;
  message: string | null;
}

// Shapes seen in the wild: OpenAI {error:{message,type,code}}, OAuth {error,error_description},
// ChatGPT {detail:{code}} / {detail:"…"}, Anthropic {type:"error",error:{type,message}},
// Google {error:{code:429,status,message}}, and plain {message}.
function fromJson(value: unknown, depth = 0): Extracted | null {
  if (value === null || typeof value !== 'object' || depth > 3) return null;
  if (Array.isArray(value)) return value.length > 0 ? fromJson(value[0], depth + 1) : null;
  const o = value as Record<string, unknown>;
  const err = o.error;
  if (err !== null && typeof err === 'object' && !Array.isArray(err)) {
    const e = err as Record<string, unknown>;
    const inner = fromJson(e, depth + 1);
    const code = ident(e.code);
    return {
      type: ident(e.type) ?? ident(e.status) ?? inner?.type ?? null,
      code:
        code !== null && /^\d+$/.test(code) && typeof e.status === 'string'
          ? ident(e.status)
          : (code ?? inner?.code ?? null),
      message: typeof e.message === 'string' ? e.message : (inner?.message ?? null),
    };
  }
  if (typeof err === 'string') {
    return {
      type: ident(o.type) ?? null,
      code: ident(err),
      message:
        typeof o.error_description === 'string' ? o.error_description : typeof o.message === 'string' ? o.message : err,
    };
  }
  const detail = o.detail;
  if (typeof detail === 'string') return { type: null, code: ident(o.code), message: detail };
  if (detail !== null && typeof detail === 'object') {
    const d = detail as Record<string, unknown>;
    return { type: ident(d.type), code: ident(d.code), message: typeof d.message === 'string' ? d.message : null };
  }
  if (typeof o.message === 'string' || o.code !== undefined || o.type !== undefined) {
    return {
      type: ident(o.type),
      code: ident(o.code),
      message: typeof o.message === 'string' ? o.message : null,
    };
  }
  return null;
}

function tryJson(text: string): unknown {
  const t = text.trim();
  if (!(t.startsWith('{') || t.startsWith('['))) return undefined;
  try {
    return JSON.parse(t);
  } catch {
    return undefined;
  }
}

function extract(body: string): Extracted {
  const head = body.length > MAX_SCAN ? body.slice(0, MAX_SCAN) : body;
  const json = tryJson(head);
  if (json !== undefined) {
    const e = fromJson(json);
    if (e) return e;
  }
  // Server-sent events: the first data line usually carries the JSON error.
  const data = /^data:\s*(\{.*\})\s*$/m.exec(head);
  if (data) {
    const e = fromJson(tryJson(data[1]));
    if (e) return e;
  }
  if (/<html|<!doctype html/i.test(head)) {
    const challenge = /just a moment|cf-chl|challenge-platform|attention required/i.test(head);
    const title = /<title[^>]*>([^<]*)<\/title>/i.exec(head)?.[1] ?? null;
    return {
      type: challenge ? 'cloudflare_challenge' : 'html_response',
      code: null,
      message: title ? `HTML page: ${title}` : 'HTML page',
    };
  }
  return { type: null, code: null, message: head };
}

/** Summarizes a failure for display. The body is read, never returned. */
export function summarizeFailure(statusCode: number | null, body: string | null | undefined): FailureSummary {
  const e = typeof body === 'string' && body.trim() !== '' ? extract(body) : { type: null, code: null, message: null };
  let message = e.message === null ? null : firstMeaningfulLine(e.message);
  if (message !== null) {
    message = maskSecrets(message);
    if (message.length > MAX_MESSAGE) message = `${message.slice(0, MAX_MESSAGE - 1)}…`;
  }
  return {
    statusCode: statusCode ?? null,
    errorType: e.type === null ? null : maskSecrets(e.type),
    errorCode: e.code === null ? null : maskSecrets(e.code),
    message,
  };
}

/** The failure-type filter value: the most specific identifier we have. */
export function failureTypeOf(summary: FailureSummary): string {
  return summary.errorCode ?? summary.errorType ?? (summary.statusCode ? `http_${summary.statusCode}` : 'unknown');
}
