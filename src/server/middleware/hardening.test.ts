// Issue 15's server defects, each against the real HTTP app: anonymous requests never create (or
// evict) sessions, the login lockout is per client address with backoff, `next` never leaves the
// site, state-changing GETs refuse cross-site requests, and the doctor is a POST.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../../test/support/fleet-server.ts';
import { resolveConfig } from '../../core/config.ts';
import { createFleetService } from '../../core/fleet-service.ts';
import { createApp } from '../app.ts';
import { safeNext } from '../routes/login.ts';

const KEY = 'test-admin-key-0123456789abcdef';
const FORM = 'application/x-www-form-urlencoded';

/** The app in-process with a frozen clock: lockouts never expire by themselves, so nothing depends on speed. */
// The real core (an empty temp store): these tests are about the HTTP layer in front of it.
const coreDir = mkdtempSync(join(tmpdir(), 'codex-fleet-hardening-'));
// An account directory given explicitly must exist (a missing one is an error that names it).
mkdirSync(join(coreDir, 'account'));
const core = await createFleetService({
  config: resolveConfig({ dataDir: join(coreDir, 'data'), accountDir: join(coreDir, 'account') }, {}),
  background: false,
});
after(async () => {
  await core.close();
  rmSync(coreDir, { recursive: true, force: true });
});

function frozenApp() {
  const clock = () => 1_800_000_000_000;
  const fleet = core;
  const { app, close } = createApp({ service: fleet, clock, config: { adminKey: KEY }, log: () => {} });
  /** A request from one TCP peer address (what getConnInfo reads off the socket). */
  const from = (address: string, path: string, init: RequestInit = {}) =>
    app.request(`http://127.0.0.1${path}`, init, { incoming: { socket: { remoteAddress: address } } });
  return { app, from, close };
}

async function loginForm(from: ReturnType<typeof frozenApp>['from'], address: string, next = '/') {
  const page = await from(address, `/login?next=${encodeURIComponent(next)}`, { headers: { accept: 'text/html' } });
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const html = await page.text();
  const csrf = /name="_csrf" value="([^"]+)"/.exec(html)?.[1] ?? '';
  const post = (key: string, nextValue = next) =>
    from(address, '/login', {
      method: 'POST',
      headers: { cookie, 'content-type': FORM },
      body: new URLSearchParams({ key, _csrf: csrf, next: nextValue }).toString(),
      redirect: 'manual',
    });
  return { cookie, csrf, html, post };
}

describe('sessions exist only after a successful login (#4)', () => {
  it('10,050 cookie-less page and /healthz requests leave a signed-in session alone and store nothing', async () => {
    const { from, close } = frozenApp();
    const form = await loginForm(from, '127.0.0.1');
    const ok = await form.post(KEY);
    assert.equal(ok.status, 303);
    const session = ok.headers.get('set-cookie')!.split(';')[0];
    const health = await from('127.0.0.9', '/healthz', { headers: { accept: 'text/html' } });
    assert.equal(health.headers.get('set-cookie'), null, '/healthz hands out no cookie');
    for (let i = 0; i < 10_050; i++) {
      const path = i % 3 === 0 ? '/healthz' : i % 3 === 1 ? '/login' : '/accounts';
      const res = await from('127.0.0.9', path, { headers: { accept: 'text/html' }, redirect: 'manual' });
      assert.ok(res.status < 500, `${path}: ${res.status}`);
    }
    const still = await from('127.0.0.1', '/api/accounts', { headers: { cookie: session } });
    assert.equal(still.status, 200, 'the admin is still signed in');
    close();
  });

  it('a visitor cookie is worth nothing as a login, and logging out ends the session', async () => {
    const { from, close } = frozenApp();
    const form = await loginForm(from, '127.0.0.1');
    assert.equal((await from('127.0.0.1', '/api/accounts', { headers: { cookie: form.cookie } })).status, 401);
    const ok = await form.post(KEY);
    const session = ok.headers.get('set-cookie')!.split(';')[0];
    assert.equal((await from('127.0.0.1', '/api/accounts', { headers: { cookie: session } })).status, 200);
    const token = /name="csrf-token" content="([^"]+)"/.exec(
      await (await from('127.0.0.1', '/', { headers: { cookie: session, accept: 'text/html' } })).text(),
    )![1];
    const out = await from('127.0.0.1', '/logout', {
      method: 'POST',
      headers: { cookie: session, 'x-csrf-token': token },
      redirect: 'manual',
    });
    assert.equal(out.status, 303);
    assert.equal((await from('127.0.0.1', '/api/accounts', { headers: { cookie: session } })).status, 401);
    close();
  });
});

describe('login lockout per client address, with backoff (#5)', () => {
  it('ten wrong keys lock out that address only; another address logs in at once', async () => {
    const { from, close } = frozenApp();
    const attacker = await loginForm(from, '127.0.0.66');
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await attacker.post(`wrong-key-${i}-wrong-key`)).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429, 429, 429, 429, 429]);
    const locked = await attacker.post(KEY);
    assert.equal(locked.status, 429, 'the guessing address waits even with the right key');
    assert.match(await locked.text(), /try again in 1 s/);
    assert.equal(locked.headers.get('retry-after'), '1');
    const operator = await loginForm(from, '127.0.0.1');
    const ok = await operator.post(KEY);
    assert.equal(ok.status, 303, 'another address is not locked out');
    // '::ffff:127.0.0.66' is the same client as 127.0.0.66.
    const mapped = await loginForm(from, '::ffff:127.0.0.66');
    assert.equal((await mapped.post(KEY)).status, 429);
    close();
  });

  it('over real sockets, two loopback addresses are two clients', async (t) => {
    const s = await startTestServer({ adminKey: KEY });
    t.after(() => s.close());
    const port = Number(new URL(s.url).port);
    const send = (localAddress: string, method: string, path: string, headers: Record<string, string>, body = '') =>
      new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }>(
        (resolve, reject) => {
          const req = request({ host: '127.0.0.1', port, localAddress, method, path, headers }, (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (d) => {
              text += d;
            });
            res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
          });
          req.on('error', reject);
          req.end(body);
        },
      );
    const form = async (address: string) => {
      const page = await send(address, 'GET', '/login', { accept: 'text/html' });
      const cookie = String(page.headers['set-cookie']).split(';')[0];
      const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)![1];
      return (key: string) =>
        send(
          address,
          'POST',
          '/login',
          { cookie, 'content-type': FORM },
          new URLSearchParams({ key, _csrf: csrf, next: '/' }).toString(),
        );
    };
    const guess = await form('127.0.0.2');
    const seen = new Set<number>();
    for (let i = 0; i < 10; i++) seen.add((await guess(`wrong-key-${i}-wrong-key`)).status);
    assert.ok(seen.has(429), 'the guessing address is slowed down');
    const login = await form('127.0.0.1');
    assert.equal((await login(KEY)).status, 303, 'the operator on another address is not');
  });
});

describe('`next` stays on this site after URL parsing (#6)', () => {
  const hostile = [
    '//evil.example',
    '///evil.example',
    '/\\evil.example',
    '/\t/evil.example',
    '/\n/evil.example',
    '/\r\n/evil.example',
    '/%09/evil.example',
    '/./\\evil.example',
    '/.//evil.example',
    '/..//evil.example',
    '/\\/evil.example',
    '\\\\evil.example',
    ' //evil.example',
    'https://evil.example',
    'HTTPS://evil.example/',
    'http:evil.example',
    '//evil.example@127.0.0.1',
    '/\t\\evil.example',
    'javascript:alert(1)',
    'data:text/html,x',
    '/%2F%2Fevil.example',
    '/\u0000/evil.example',
    '/\u3000/evil.example',
  ];
  const site = 'http://127.0.0.1:4321';
  it('safeNext: every hostile value resolves, as a browser reads a Location, to this origin', () => {
    for (const raw of [...hostile, ...hostile.map((h) => decodeURIComponent(h.replace(/%(?![0-9A-F]{2})/gi, '%25')))]) {
      const next = safeNext(raw);
      assert.ok(next.startsWith('/') && !next.startsWith('//'), `${JSON.stringify(raw)} -> ${next}`);
      assert.equal(new URL(next, site).origin, site, `${JSON.stringify(raw)} -> ${next}`);
      assert.doesNotMatch(next, /[\t\n\r\\]/, `${JSON.stringify(raw)} -> ${next}`);
    }
    assert.equal(safeNext('/accounts?x=1#top'), '/accounts?x=1#top', 'a plain path survives');
  });

  it('the login page and the redirect after login stay on-site for GET /login?next=/%09/evil.example and friends', async () => {
    const { from, close } = frozenApp();
    for (const raw of hostile) {
      const form = await loginForm(from, `127.0.1.${hostile.indexOf(raw)}`, raw);
      const field = /name="next" value="([^"]*)"/.exec(form.html)![1];
      assert.equal(new URL(field.replaceAll('&amp;', '&'), site).origin, site, `form field for ${JSON.stringify(raw)}`);
      const ok = await form.post(KEY);
      assert.equal(ok.status, 303, JSON.stringify(raw));
      const location = ok.headers.get('location')!;
      assert.equal(new URL(location, site).origin, site, `${JSON.stringify(raw)} redirected to ${location}`);
    }
    // The raw query value (percent-decoded by the server) is the reported case.
    const page = await from('127.0.0.1', '/login?next=/%09/evil.example', { headers: { accept: 'text/html' } });
    assert.match(await page.text(), /name="next" value="\/"/);
    close();
  });
});

describe('state-changing GETs refuse cross-site requests; the doctor is a POST (#10)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ accounts: 2 });
  });
  after(() => s.close());

  it('GET /refresh from another site is refused (Sec-Fetch-Site, Origin, Referer); from a script it still works', async () => {
    const get = (headers: Record<string, string>) => fetch(`${s.url}/refresh`, { headers, redirect: 'manual' });
    const calls = s.refreshAllCalls;
    const refused: Array<Record<string, string>> = [
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { referer: 'http://evil.example/page' },
      { referer: 'http://127.0.0.1:1/other-port' },
    ];
    for (const headers of refused) {
      const res = await get(headers);
      assert.equal(res.status, 403, JSON.stringify(headers));
      assert.match(((await res.json()) as { error: string }).error, /cross-site request refused/);
    }
    assert.equal(s.refreshAllCalls, calls, 'no refused request started a refresh');
    assert.equal((await get({})).status, 303, 'codex-quota scripts keep working');
    assert.equal((await get({ 'sec-fetch-site': 'same-origin', referer: `${s.url}/` })).status, 303);
    assert.equal((await get({ 'sec-fetch-site': 'none' })).status, 303, 'typed into the address bar');
    const ownForm = { 'sec-fetch-site': 'same-origin', origin: 'null' };
    assert.equal((await get(ownForm)).status, 303, 'our own no-referrer pages send Origin: null');
  });

  it('GET /api/doctor is 405 and says to POST; POST needs the CSRF token', async () => {
    const res = await fetch(`${s.url}/api/doctor`);
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'POST');
    assert.match(((await res.json()) as { error: string }).error, /POST/);
    assert.equal((await fetch(`${s.url}/api/doctor`, { method: 'POST' })).status, 403);
  });
});
