import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { usageRequestHeaders, userAgent } from './headers.ts';
import { decodeJwtClaims, isJwtExpired } from './jwt.ts';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (payload: unknown) => `${b64({ alg: 'RS256' })}.${b64(payload)}.sig`;

describe('decodeJwtClaims', () => {
  test('reads exp, email and the OpenAI auth claims', () => {
    const token = jwt({
      exp: 1767225600,
      email: 'a@b.c',
      'https://api.openai.com/auth': {
        chatgpt_plan_type: 'plus',
        chatgpt_account_id: 'acc-1',
        chatgpt_user_id: 'user-1',
      },
    });
    assert.deepEqual(decodeJwtClaims(token), {
      exp: 1767225600,
      email: 'a@b.c',
      planType: 'plus',
      accountId: 'acc-1',
      userId: 'user-1',
      subject: null,
    });
  });
  test('missing claims are null; email from the profile claim', () => {
    assert.deepEqual(decodeJwtClaims(jwt({ 'https://api.openai.com/profile': { email: 'p@q.r' } })), {
      exp: null,
      email: 'p@q.r',
      planType: null,
      accountId: null,
      userId: null,
      subject: null,
    });
  });
  test('garbage gives null, never throws', () => {
    for (const t of [
      null,
      undefined,
      '',
      'abc',
      'a.b',
      'a..c',
      'a.!!!.c',
      `x.${b64([1])}.y`,
      `x.${b64('s')}.y`,
      'a.b.c.d',
      42 as never,
    ]) {
      assert.equal(decodeJwtClaims(t), null, String(t));
    }
  });
  test('isJwtExpired: true/false by exp, null when unknown', () => {
    const now = 1_000_000_000_000;
    assert.equal(isJwtExpired(jwt({ exp: now / 1000 - 1 }), now), true);
    assert.equal(isJwtExpired(jwt({ exp: now / 1000 + 100 }), now), false);
    assert.equal(isJwtExpired(jwt({ exp: now / 1000 + 100 }), now, 300_000), true);
    assert.equal(isJwtExpired('opaque-token', now), null);
    assert.equal(isJwtExpired(jwt({ exp: 'soon' }), now), null);
  });
});

describe('request headers (UPSTREAM.md §1)', () => {
  test('user agent shape', () => {
    assert.equal(
      userAgent('0.169.0', { os: 'Linux 6.1.0', arch: 'x86_64' }),
      'codex_cli_rs/0.169.0 (Linux 6.1.0; x86_64)',
    );
    assert.match(userAgent(), /^codex_cli_rs\/\d+\.\d+\.\d+ \([^;]+; [^)]+\)$/);
  });
  test('all headers, account id only when known', () => {
    const h = usageRequestHeaders({ accessToken: 'tok', accountId: 'acc' }, 'ua');
    assert.deepEqual(h, {
      Authorization: 'Bearer tok',
      originator: 'codex_cli_rs',
      'User-Agent': 'ua',
      Accept: 'application/json',
      'ChatGPT-Account-Id': 'acc',
    });
    assert.equal('ChatGPT-Account-Id' in usageRequestHeaders({ accessToken: 'tok', accountId: null }, 'ua'), false);
  });
});
