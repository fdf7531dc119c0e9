// Response headers arrive as a fetch `Headers`, a plain record, or (through CPA's api-call) a record
// of arrays. One reader for all three keeps the parsers and the classifier indifferent to the source.
export type HeaderBag = Headers | Record<string, string | readonly string[] | undefined | null>;

/** First value of a header, case-insensitive; null when absent. */
export function headerValue(headers: HeaderBag | null | undefined, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== wanted) continue;
    if (typeof value === 'string') return value;
    if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
    return null;
  }
  return null;
}

/** A plain lower-cased record, for raw output and storage. */
export function headersToRecord(headers: HeaderBag | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  if (typeof (headers as Headers).forEach === 'function' && typeof (headers as Headers).get === 'function') {
    (headers as Headers).forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
    return out;
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value === 'string') out[key.toLowerCase()] = value;
    else if (Array.isArray(value)) out[key.toLowerCase()] = value.join(', ');
  }
  return out;
}
