// A batch of parsed events as columns: numbers in one Float64Array, strings as codes into a per-batch
// table (repeated values such as models or accounts appear once), dedupe keys in a BigInt64Array. The
// collector's storage thread receives it with its buffers transferred, not copied: handing over 10,000
// event objects would cost the main thread ~20 ms of serialization per batch and the thread as much again.
import type { CacheState, FailureSummary, UsageEvent } from './event.ts';
import { CACHE_STATES } from './event.ts';
import { dedupeKeyOf } from './record.ts';

/** Numeric columns, in this order per row; NaN stands for null. */
export const NUM = {
  ts: 0,
  latency: 1,
  ttft: 2,
  status: 3,
  failed: 4,
  cache: 5,
  input: 6,
  output: 7,
  reasoning: 8,
  cached: 9,
  cacheCreation: 10,
  total: 11,
} as const;
export const NUM_WIDTH = 12;

/** String columns (codes into `strings`, -1 for null), in the dictionary's kinds plus the API key hash. */
export const STR = {
  provider: 0,
  executor: 1,
  model: 2,
  alias: 3,
  endpoint: 4,
  account: 5,
  authType: 6,
  apiKey: 7,
  project: 8,
  failureType: 9,
  effort: 10,
  tier: 11,
} as const;
export const STR_WIDTH = 12;

export interface FailureCell {
  row: number;
  failure: FailureSummary | null;
  body: string | null;
}

/** The plain data of a batch: what crosses to the storage thread (structured clone, buffers moved). */
export interface EventColumns {
  n: number;
  num: Float64Array;
  str: Int32Array;
  keys: BigInt64Array;
  strings: string[];
  /** Masked label per API key hash code (`labels[code]`). */
  labels: Array<string | undefined>;
  requestIds: Array<string | null>;
  /** Failed rows only. */
  failures: FailureCell[];
}

/** Builds EventColumns one event at a time; the event object can be dropped right after. */
export class ColumnsBuilder {
  private data: EventColumns;
  private readonly codes = new Map<string, number>();

  private readonly capacity: number;

  /** `capacity`: rows before the first growth (a collector passes its batch size). */
  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.data = emptyColumns(capacity);
  }

  get size(): number {
    return this.data.n;
  }

  push(e: UsageEvent): void {
    if (this.data.n === this.data.keys.length) this.grow();
    const d = this.data;
    const i = d.n++;
    const num = d.num;
    const o = i * NUM_WIDTH;
    num[o] = e.timestamp;
    num[o + 1] = e.latencyMs ?? Number.NaN;
    num[o + 2] = e.ttftMs ?? Number.NaN;
    num[o + 3] = e.status;
    num[o + 4] = e.failed ? 1 : 0;
    num[o + 5] = CACHE_STATES.indexOf(e.cacheState);
    const t = e.tokens;
    num[o + 6] = t.input;
    num[o + 7] = t.output;
    num[o + 8] = t.reasoning;
    num[o + 9] = t.cached;
    num[o + 10] = t.cacheCreation;
    num[o + 11] = t.total;
    const s = i * STR_WIDTH;
    const str = d.str;
    str[s] = this.code(e.provider);
    str[s + 1] = this.code(e.executor);
    str[s + 2] = this.code(e.model);
    str[s + 3] = this.code(e.alias);
    str[s + 4] = this.code(e.endpoint);
    str[s + 5] = this.code(e.authIndex);
    str[s + 6] = this.code(e.authType);
    const key = this.code(e.apiKeyHash);
    str[s + 7] = key;
    if (key >= 0 && d.labels[key] === undefined) d.labels[key] = e.apiKeyLabel ?? '****';
    str[s + 8] = this.code(e.project);
    str[s + 9] = this.code(e.failureType);
    str[s + 10] = this.code(e.reasoningEffort);
    str[s + 11] = this.code(e.serviceTier);
    d.keys[i] = e.dedupeKey;
    d.requestIds.push(e.requestId);
    if (e.failed) d.failures.push({ row: i, failure: e.failure, body: e.failureBody });
  }

  /** The columns so far; the builder starts over empty. */
  take(): EventColumns {
    const d = this.data;
    this.data = emptyColumns(this.capacity);
    this.codes.clear();
    return d;
  }

  private code(v: string | null): number {
    if (v === null) return -1;
    let c = this.codes.get(v);
    if (c === undefined) {
      c = this.data.strings.length;
      this.data.strings.push(v);
      this.codes.set(v, c);
    }
    return c;
  }

  private grow(): void {
    const d = this.data;
    const cap = d.keys.length * 2;
    const num = new Float64Array(cap * NUM_WIDTH);
    num.set(d.num);
    const str = new Int32Array(cap * STR_WIDTH);
    str.set(d.str);
    const keys = new BigInt64Array(cap);
    keys.set(d.keys);
    this.data = { ...d, num, str, keys };
  }
}

function emptyColumns(capacity: number): EventColumns {
  return {
    n: 0,
    num: new Float64Array(capacity * NUM_WIDTH),
    str: new Int32Array(capacity * STR_WIDTH),
    keys: new BigInt64Array(capacity),
    strings: [],
    labels: [],
    requestIds: [],
    failures: [],
  };
}

export function columnsOf(events: Iterable<UsageEvent>): EventColumns {
  const b = new ColumnsBuilder();
  for (const e of events) b.push(e);
  return b.take();
}

/** The buffers to transfer with a batch (each used once; the sender must not touch them again). */
export const transferables = (c: EventColumns): ArrayBuffer[] => [
  c.num.buffer as ArrayBuffer,
  c.str.buffer as ArrayBuffer,
  c.keys.buffer as ArrayBuffer,
];

const nullable = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** Row `i` as an event again (for listeners such as the realtime stream). */
export function eventAt(c: EventColumns, i: number, failures: ReadonlyMap<number, FailureCell>): UsageEvent {
  const o = i * NUM_WIDTH;
  const s = i * STR_WIDTH;
  const text = (col: number): string | null => {
    const code = c.str[s + col];
    return code < 0 ? null : c.strings[code];
  };
  const key = c.str[s + STR.apiKey];
  const f = failures.get(i);
  return {
    timestamp: c.num[o],
    latencyMs: nullable(c.num[o + 1]),
    ttftMs: nullable(c.num[o + 2]),
    provider: text(STR.provider),
    executor: text(STR.executor),
    model: text(STR.model),
    alias: text(STR.alias),
    endpoint: text(STR.endpoint),
    authIndex: text(STR.account),
    authType: text(STR.authType),
    apiKeyHash: key < 0 ? null : c.strings[key],
    apiKeyLabel: key < 0 ? null : (c.labels[key] ?? null),
    project: text(STR.project),
    status: c.num[o + 3],
    failed: c.num[o + 4] === 1,
    failureType: text(STR.failureType),
    failure: f?.failure ?? null,
    failureBody: f?.body ?? null,
    tokens: {
      input: c.num[o + 6],
      output: c.num[o + 7],
      reasoning: c.num[o + 8],
      cached: c.num[o + 9],
      cacheCreation: c.num[o + 10],
      total: c.num[o + 11],
    },
    cacheState: CACHE_STATES[c.num[o + 5]] as CacheState,
    reasoningEffort: text(STR.effort),
    serviceTier: text(STR.tier),
    requestId: c.requestIds[i],
    // A parser may leave request keys to the store (requestKeyLater): derived the same way here.
    dedupeKey: c.keys[i] === 0n && c.requestIds[i] !== null ? dedupeKeyOf(c.requestIds[i], null) : c.keys[i],
  };
}
