// The one secret masker: upstream messages, inspection evidence and request-monitoring failures all
// end up in tables, logs, the API and metrics, so every one of them goes through maskSecrets here.
// Pure; never throws.

// Order matters: structured secrets first, so the generic long-token rule does not eat their labels.
const MASKS: Array<[RegExp, string | ((m: string, ...g: string[]) => string)]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, '[private-key]'],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, (_m, scheme: string) => `${scheme} ****`],
  [/\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]*)?/g, '[jwt]'],
  [/\b(sk|rk|pk|rt|sess)[-_][A-Za-z0-9_-]{6,}/g, (_m, p: string) => `${p}-****`],
  [
    /\b(AIza[0-9A-Za-z_-]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|xox[abpr]-[A-Za-z0-9-]{10,}|ya29\.[A-Za-z0-9._-]{10,})/g,
    '[key]',
  ],
  [
    /\b((?:api[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|token|secret|password|passwd|authorization|x-api-key|cookie)\s*["']?\s*[:=]\s*["']?)([^\s"',;}&]+)/gi,
    (_m, label: string) => `${label}****`,
  ],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, '[email]'],
  // Long base64/hex runs (tokens, signatures, cookies). Plain words are kept,
  // and so is a file path (short segments between slashes): `…/account/dennis.perlman26.auth.json`.
  [/[A-Za-z0-9+/_-]{32,}={0,2}/g, (m: string) => (looksLikeSecret(m) ? '[redacted]' : m)],
];

function looksLikeSecret(run: string): boolean {
  if (run.includes('/') && run.split('/').every((segment) => segment.length < 32)) return false;
  // A secret mixes digits and letters; a run of one kind (a long word, xxxx…) is kept.
  return /\d/.test(run) && /[A-Za-z]/.test(run);
}

/** Masks tokens, JWTs, API keys, bearer headers, labelled secrets, emails and long base64 runs in free text. */
export function maskSecrets(text: string): string {
  let out = text;
  for (const [re, to] of MASKS) out = out.replace(re, to as never);
  return out;
}

/** One sanitized line (secrets masked, whitespace folded), at most maxLength characters; null when empty. */
export function sanitizeMessage(text: unknown, maxLength = 200): string | null {
  if (typeof text !== 'string') return null;
  const out = maskSecrets(text).replace(/\s+/g, ' ').trim();
  if (out === '') return null;
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}
