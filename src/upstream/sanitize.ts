// Upstream messages end up in tables, logs, the API and metrics: strip anything that could be a
// credential or personal data before they leave this room.
const RULES: [RegExp, string][] = [
  [/Bearer\s+[^\s"',;]+/gi, 'Bearer ***'],
  [/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[token]'],
  [/\b(sk|rt|sess)-[\w-]{6,}/gi, '$1-***'],
  [/[\w.+-]+@[\w-]+(\.[\w-]+)+/g, '[email]'],
  [/[A-Za-z0-9+/_=-]{32,}/g, '[redacted]'],
];

/** One sanitized line, at most maxLength characters; null for empty input. */
export function sanitizeMessage(text: unknown, maxLength = 200): string | null {
  if (typeof text !== 'string') return null;
  let out = text;
  for (const [pattern, replacement] of RULES) out = out.replace(pattern, replacement);
  out = out.replace(/\s+/g, ' ').trim();
  if (out === '') return null;
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}
