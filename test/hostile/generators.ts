// fast-check generators shared by the hostile-input suite: hostile strings and JSON values, and
// mutations of valid documents (a field deleted, retyped, replaced by hostile text, the text truncated).
import fc from 'fast-check';

/** Reproducible by default; HOSTILE_SEED=<n> explores other inputs (fast-check prints the seed of a failure). */
export const SEED = Number(process.env.HOSTILE_SEED ?? 20261204);

/** Strings that broke parsers before: control characters, NUL, RTL marks, lone surrogates, path tricks, huge numbers. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\t\n\r',
    '\ufeff',
    '\u202e',
    '\ud800',
    '../../etc/passwd',
    '..\\..\\x',
    '%00',
    '%2e%2e%2f',
    '<script>alert(1)</script>',
    '"; DROP TABLE settings; --',
    '__proto__',
    'constructor',
    '1e999',
    '-0',
    'NaN',
    'null',
    'true',
    '{}',
    '[]',
    'eyJ',
    'eyJhbGciOiJub25lIn0.eyJ9.',
    'a'.repeat(5000),
  ),
);

export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  hostileString,
  fc.constantFrom(null, true, false, 0, -1, 1e308, -1e308, 2 ** 53 + 1, [], {}, [[[[[]]]]], { __proto__: { x: 1 } }),
);

export type JsonPath = Array<string | number>;

/** Every path into a JSON document (objects and arrays), the root excluded. */
export function pathsOf(doc: unknown, prefix: JsonPath = []): JsonPath[] {
  if (doc === null || typeof doc !== 'object') return [];
  const entries: Array<[string | number, unknown]> = Array.isArray(doc)
    ? doc.map((v, i) => [i, v])
    : Object.entries(doc as Record<string, unknown>);
  return entries.flatMap(([k, v]) => [[...prefix, k], ...pathsOf(v, [...prefix, k])]);
}

export type Mutation = { kind: 'delete' } | { kind: 'set'; value: unknown } | { kind: 'wrap' };

export const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant<Mutation>({ kind: 'delete' }),
  fc.constant<Mutation>({ kind: 'wrap' }),
  hostileJson.map((value): Mutation => ({ kind: 'set', value })),
);

/** A deep copy of doc with one mutation applied at path. */
export function mutate(doc: unknown, path: JsonPath, m: Mutation): unknown {
  const copy = structuredClone(doc);
  if (path.length === 0) return copy;
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
  const last = path[path.length - 1];
  if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else if (m.kind === 'wrap') parent[last] = [parent[last]];
  else parent[last] = m.value;
  return copy;
}
