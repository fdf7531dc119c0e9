// A Cloudflare challenge says nothing about the account: it is an HTML page (or a `cf-mitigated`
// header) in front of the API. Recognising it keeps it from being read as "account blocked".
import { type HeaderBag, headerValue } from './response-headers.ts';

export function looksLikeHtml(body: string | null | undefined): boolean {
  if (!body) return false;
  const head = body.slice(0, 2048).toLowerCase();
  return head.includes('<html') || head.includes('<!doctype html') || head.includes('just a moment');
}

export function isCloudflareChallenge(
  status: number | null,
  headers: HeaderBag | null | undefined,
  body: string | null | undefined,
): boolean {
  if (headerValue(headers, 'cf-mitigated')?.toLowerCase() === 'challenge') return true;
  if (status !== 403) return false;
  if (looksLikeHtml(body)) return true;
  const contentType = headerValue(headers, 'content-type')?.toLowerCase() ?? '';
  return contentType.includes('text/html');
}
