// probeAccount's loop against a scripted loopback server: what the simulator's scenarios do not
// pin down exactly (Retry-After waits, one refresh only, a throwing refresh hook, give-up rules).
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, test } from 'node:test';
import { type ProbeOptions, probeAccount } from './probe.ts';

type Reply = { status: number; headers?: Record<string, string>; body?: string } | 'hang';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (expSeconds: number) => `${b64({ alg: 'none' })}.${b64({ exp: expSeconds })}.sig`;
const EXPIRED = jwt(1);
const FRESH = jwt(4_000_000_000);
const OK_BODY = JSON.stringify({
  plan_type: 'plus',
  rate_limit: { allowed: true, limit_reached: false, primary_window: { used_percent: 1, limit_window_seconds: 18000 } },
});

describe('probeAccount loop', () => {
  let server: Server;
  let base: string;
  let script: Reply[] = [];
  let seenTokens: string[] = [];
  let sleeps: number[] = [];

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      seenTokens.push(String(req.headers.authorization ?? '').replace('Bearer ', ''));
      const reply = script.shift() ?? { status: 200, body: OK_BODY };
      if (reply === 'hang') return; // never answers; the client's deadline ends it
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? '');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/backend-api`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    script = [];
    seenTokens = [];
    sleeps = [];
  });

  const opts = (extra: Partial<ProbeOptions> = {}): ProbeOptions => ({
    chatgptUrl: base,
    retries: 3,
    retryDelayMs: 1000,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  });

  test('5xx is retried with doubling full-jitter backoff, then reported', async () => {
    script = [{ status: 500 }, { status: 502 }, { status: 503 }, { status: 504 }];
    const o = await probeAccount({ accessToken: FRESH, accountId: 'a' }, opts());
    assert.equal(o.attempts, 4);
    assert.equal(o.reason, 'server_error');
    assert.equal(o.transient, true);
    assert.deepEqual(sleeps, [500, 1000, 2000]);
  });

  test('Retry-After is honoured as a floor', async () => {
    script = [{ status: 429, headers: { 'retry-after': '7' } }];
    const o = await probeAccount({ accessToken: FRESH, accountId: null }, opts());
    assert.equal(o.state, 'ok');
    assert.equal(o.attempts, 2);
    assert.deepEqual(sleeps, [7000]);
  });

  test('a Retry-After beyond the cap is reported, not waited for', async () => {
    script = [{ status: 429, headers: { 'retry-after': '3600' } }];
    const o = await probeAccount({ accessToken: FRESH, accountId: null }, opts());
    assert.equal(o.reason, 'throttled');
    assert.equal(o.retryAfterSeconds, 3600);
    assert.equal(o.attempts, 1);
    assert.deepEqual(sleeps, []);
  });

  test('retries: 0 means one attempt', async () => {
    script = [{ status: 500 }];
    const o = await probeAccount({ accessToken: FRESH, accountId: null }, opts({ retries: 0 }));
    assert.equal(o.attempts, 1);
  });

  test('401 with an expired JWT: refresh once, retry with the new token', async () => {
    script = [{ status: 401, body: '{"error":{"code":"token_expired"}}' }];
    let calls = 0;
    const o = await probeAccount(
      { accessToken: EXPIRED, accountId: null },
      opts({
        onUnauthorized: async () => {
          calls++;
          return FRESH;
        },
      }),
    );
    assert.equal(o.state, 'ok');
    assert.equal(calls, 1);
    assert.deepEqual(seenTokens, [EXPIRED, FRESH]);
  });

  test('401 again after the refresh → auth_invalid, and the hook is not called twice', async () => {
    script = [{ status: 401 }, { status: 401 }, { status: 401 }];
    let calls = 0;
    const o = await probeAccount(
      { accessToken: EXPIRED, accountId: null },
      opts({
        onUnauthorized: async () => {
          calls++;
          return FRESH;
        },
      }),
    );
    assert.equal(o.state, 'auth_invalid');
    assert.equal(o.reason, 'auth_invalid');
    assert.equal(calls, 1);
    assert.equal(o.attempts, 2);
  });

  test('a refresh hook that throws is a transient result, not a crash, and no false auth_invalid', async () => {
    script = [{ status: 401 }, { status: 401 }];
    const o = await probeAccount(
      { accessToken: EXPIRED, accountId: null },
      opts({
        onUnauthorized: async () => {
          throw new Error(`lock busy for ${FRESH}`);
        },
      }),
    );
    assert.equal(o.state, 'unknown');
    assert.equal(o.transient, true);
    assert.ok(!o.message?.includes(FRESH), 'the token in the error is not echoed');
  });

  test('a hook that reports a dead refresh token → refresh_token_dead', async () => {
    script = [{ status: 401 }];
    const o = await probeAccount(
      { accessToken: EXPIRED, accountId: null },
      opts({ onUnauthorized: async () => ({ errorCode: 'refresh_token_reused', httpStatus: 401 }) }),
    );
    assert.equal(o.reason, 'refresh_token_dead');
    assert.equal(o.errorCode, 'refresh_token_reused');
  });

  test('a hook returning null (no refresh possible) leaves auth_expired', async () => {
    script = [{ status: 401 }];
    const o = await probeAccount({ accessToken: EXPIRED, accountId: null }, opts({ onUnauthorized: async () => null }));
    assert.equal(o.state, 'auth_expired');
  });

  test('a server that never answers ends in timeout after the retries', async () => {
    script = ['hang', 'hang'];
    const o = await probeAccount({ accessToken: FRESH, accountId: null }, opts({ retries: 1, timeoutMs: 100 }));
    assert.equal(o.reason, 'timeout');
    assert.equal(o.httpStatus, null);
    assert.equal(o.attempts, 2);
  });

  test('an invalid base URL is a result, not an exception', async () => {
    const o = await probeAccount(
      { accessToken: FRESH, accountId: null },
      opts({ chatgptUrl: 'not a url', retries: 0 }),
    );
    assert.equal(o.state, 'unknown');
    assert.equal(o.reason, 'network_error');
  });
});
