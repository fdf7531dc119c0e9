// The dashboard: static files from src/web (read once at startup into memory, so no request path
// ever touches the file system), preact + htm + uPlot from node_modules (no CDN), the app shell for
// every page path with the session's CSRF token in a meta tag, and an HTML 404 page for any other
// page-like path (API paths keep their JSON errors).

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono } from 'hono';
import { nodeCrypto } from '../../runtime/crypto.ts';
import type { AppEnv, RouteDeps } from './context.ts';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** Client-side pages; each path answers with the app shell. /auth… are codex-quota's paths. */
export const PAGE_PATHS = [
  '/',
  '/accounts',
  '/inspection',
  '/actions',
  '/monitoring',
  '/auth',
  '/auth/new',
  '/auth/edit',
  '/settings',
  '/doctor',
];

export interface WebAssets {
  files: Map<string, { body: Uint8Array; type: string }>;
  shell: string;
  /** CSP hashes of the shell's inline scripts (the import map). */
  scriptHashes: string[];
}

/** From the sources this file is src/server/routes (files in src/web); built, every chunk sits in dist/ beside dist/web. */
const DEFAULT_ROOT = [new URL('../../web/', import.meta.url), new URL('./web/', import.meta.url)]
  .map((url) => fileURLToPath(url))
  .find((dir) => existsSync(join(dir, 'index.html')))!;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(join(dir, d.name)) : [join(dir, d.name)],
  );
}

export function loadWebAssets(root = DEFAULT_ROOT): WebAssets {
  const files = new Map<string, { body: Uint8Array; type: string }>();
  for (const file of walk(root)) {
    const type = TYPES[extname(file)];
    if (!type) continue;
    files.set(`/assets/${relative(root, file).split(sep).join('/')}`, { body: readFileSync(file), type });
  }
  const vendor: Record<string, string> = {
    'preact.mjs': fileURLToPath(import.meta.resolve('preact')),
    'hooks.mjs': fileURLToPath(import.meta.resolve('preact/hooks')),
    'htm.mjs': fileURLToPath(import.meta.resolve('htm')),
    // uPlot (time series charts): its ES module and stylesheet, straight from the package.
    'uplot.mjs': fileURLToPath(import.meta.resolve('uplot/dist/uPlot.esm.js')),
    'uplot.css': fileURLToPath(import.meta.resolve('uplot/dist/uPlot.min.css')),
  };
  for (const [name, path] of Object.entries(vendor)) {
    files.set(`/assets/vendor/${name}`, { body: readFileSync(path), type: TYPES[extname(name)] });
  }
  const shell = readFileSync(join(root, 'index.html'), 'utf8');
  const scriptHashes = [...shell.matchAll(/<script type="importmap">([\s\S]*?)<\/script>/g)].map(
    (m) => `sha256-${nodeCrypto().createHash('sha256').update(m[1]).digest('base64')}`,
  );
  return { files, shell, scriptHashes };
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function webRoutes(deps: RouteDeps, assets: WebAssets): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/assets/*', (c) => {
    const file = assets.files.get(c.req.path);
    if (!file) return c.json({ error: `no asset ${c.req.path}` }, 404);
    return c.body(file.body as Uint8Array<ArrayBuffer>, 200, {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
    });
  });
  app.get('/favicon.ico', (c) => c.redirect('/assets/favicon.svg', 301));
  for (const path of PAGE_PATHS) {
    app.get(path, (c) => {
      const session = c.get('session');
      const csrf = session ? deps.sessions.csrfToken(session.id) : '';
      const body = assets.shell
        .replace('__CSRF_TOKEN__', escapeAttr(csrf))
        .replace('__ADMIN_KEY_SET__', deps.adminKey === null ? 'false' : 'true');
      return c.html(body);
    });
  }
  // Unknown dashboard paths (not /api/…, /assets/…, /metrics, /healthz): a page a person can read.
  app.get('*', (c, next) => {
    const path = c.req.path;
    if (/^\/(api|assets|metrics|healthz|login|logout|refresh)(\/|$)/.test(path)) return next();
    if (!(c.req.header('accept') ?? '').includes('text/html')) return next();
    return c.html(notFoundPage(path), 404);
  });
  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A plain page (no script) so the CSP needs nothing new. */
function notFoundPage(path: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><meta name="viewport" content="width=device-width, initial-scale=1" />
<title>Not found · codex-fleet</title><link rel="icon" href="/assets/favicon.svg" type="image/svg+xml" />
<link rel="stylesheet" href="/assets/style.css" /></head>
<body><main class="not-found"><h1>Page not found</h1>
<p>There is no dashboard page at <code>${escapeHtml(path)}</code>.</p>
<p><a href="/">Go to the overview</a> · <a href="/accounts">Accounts</a> · <a href="/monitoring">Monitoring</a></p>
</main></body></html>`;
}
