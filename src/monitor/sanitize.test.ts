import assert from 'node:assert/strict';
import { test } from 'node:test';
import { firstMeaningfulLine, maskSecrets, summarizeFailure } from './sanitize.ts';

const JWT =
  'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwiZW1haWwiOiJhQGIuY29tIn0.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const SECRETS = [
  'sk-proj-abcdefghijklmnop1234567890',
  'sk-ant-api03-ZZZZZZZZZZZZZZZZ9999',
  JWT,
  'alice.smith+codex@example.co.uk',
  'QWxhZGRpbjpvcGVuIHNlc2FtZQ0K1234567890abcdefXYZ',
  'AIzaSyA1234567890abcdefghijklmnopqrstu',
  'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
  'hunter2-password-value',
  'rt_9f8e7d6c5b4a39281706',
];

const cases: Array<{
  name: string;
  status: number;
  body: string;
  type?: string | null;
  code?: string | null;
  message?: RegExp | null;
}> = [
  {
    name: 'OpenAI error object',
    status: 429,
    body: '{"error":{"type":"usage_limit_reached","message":"The usage limit has been reached","resets_in_seconds":100}}',
    type: 'usage_limit_reached',
    message: /^The usage limit has been reached$/,
  },
  {
    name: 'key echoed in an invalid-key message',
    status: 401,
    body: `{"error":{"message":"Incorrect API key provided: ${SECRETS[0]}. You can find your key at https://x","type":"invalid_request_error","code":"invalid_api_key"}}`,
    type: 'invalid_request_error',
    code: 'invalid_api_key',
    message: /^Incorrect API key provided: sk-\*\*\*\*\./,
  },
  {
    name: 'ChatGPT deactivated workspace',
    status: 402,
    body: '{"detail":{"code":"deactivated_workspace"}}',
    code: 'deactivated_workspace',
    message: null,
  },
  {
    name: 'OAuth refresh error with description',
    status: 401,
    body: '{"error":"invalid_grant","error_description":"refresh token rt_9f8e7d6c5b4a39281706 is gone"}',
    code: 'invalid_grant',
  },
  {
    name: 'Anthropic overloaded',
    status: 529,
    body: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
    type: 'overloaded_error',
    message: /^Overloaded$/,
  },
  {
    name: 'Google numeric code uses the status name',
    status: 429,
    body: '{"error":{"code":429,"message":"Resource has been exhausted","status":"RESOURCE_EXHAUSTED"}}',
    code: 'RESOURCE_EXHAUSTED',
  },
  {
    name: 'Cloudflare challenge page',
    status: 403,
    body: '<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>cf-chl</body></html>',
    type: 'cloudflare_challenge',
    message: /^HTML page: Just a moment/,
  },
  {
    name: 'SSE stream with an error event',
    status: 500,
    body: 'event: error\ndata: {"error":{"type":"server_error","message":"boom"}}\n\n',
    type: 'server_error',
    message: /^boom$/,
  },
  {
    name: 'plain text with blank and bracket lines first, bearer header inside',
    status: 502,
    body: `\n\n  {\n---\nupstream said: Authorization: Bearer ${SECRETS[0]} rejected for ${SECRETS[3]}\nsecond line`,
    message: /^upstream said: Authorization: /,
  },
  {
    name: 'ANSI and control characters stripped',
    status: 500,
    body: '\x1b[31mfatal\x1b[0m:\x00 disk on fire',
    message: /^fatal: {1,2}disk on fire$/,
  },
  { name: 'empty body', status: 504, body: '', type: null, code: null, message: null },
  { name: 'truncated JSON falls back to text', status: 500, body: '{"error":{"message":"cut', message: /cut/ },
  {
    name: 'huge body',
    status: 500,
    body: `${'x'.repeat(2000)} ${JWT}\n${'y'.repeat(5_000_000)}`,
    message: /^x{299}…$/,
  },
  {
    name: 'secret-looking type values are dropped',
    status: 400,
    body: `{"error":{"type":"${'a b '.repeat(40)}","code":"${SECRETS[1]}","message":"password=${SECRETS[7]} token: ${SECRETS[4]}"}}`,
    type: null,
  },
];

for (const c of cases) {
  test(`summarizeFailure: ${c.name}`, () => {
    const s = summarizeFailure(c.status, c.body);
    assert.equal(s.statusCode, c.status);
    if (c.type !== undefined) assert.equal(s.errorType, c.type);
    if (c.code !== undefined) assert.equal(s.errorCode, c.code);
    if (c.message === null) assert.equal(s.message, null);
    else if (c.message) assert.match(s.message ?? '', c.message);
    assert.ok((s.message ?? '').length <= 300);
    const shown = JSON.stringify(s);
    for (const secret of SECRETS) assert.ok(!shown.includes(secret), `leaked ${secret.slice(0, 12)} in ${shown}`);
    assert.ok(!shown.includes('\x1b') && !shown.includes('\x00'));
  });
}

test('maskSecrets masks each kind and keeps ordinary words', () => {
  const table: Array<[string, string]> = [
    [`Bearer ${SECRETS[0]}`, 'Bearer ****'],
    [`key ${SECRETS[0]}`, 'key sk-****'],
    [`jwt ${JWT} end`, 'jwt [jwt] end'],
    [`mail ${SECRETS[3]}`, 'mail [email]'],
    [`blob ${SECRETS[4]}`, 'blob [redacted]'],
    ['api_key="abc123def"', 'api_key="****"'],
    ['refresh_token: rt_x', 'refresh_token: ****'],
    ['the_usage_limit_for_this_workspace_was_reached', 'the_usage_limit_for_this_workspace_was_reached'],
    ['Rate limit reached for gpt-5 in organization', 'Rate limit reached for gpt-5 in organization'],
  ];
  for (const [input, want] of table) assert.equal(maskSecrets(input), want);
});

test('firstMeaningfulLine skips noise and stack frames', () => {
  assert.equal(firstMeaningfulLine('\n  ]\n"}\n   at foo (x.js:1)\nreal line\n'), 'real line');
  assert.equal(firstMeaningfulLine('{}\n---\n'), null);
});
