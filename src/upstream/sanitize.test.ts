// The one masker: secrets masked, everything an operator needs kept (file names, paths, words).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maskSecrets, sanitizeMessage } from './sanitize.ts';

describe('maskSecrets', () => {
  it('keeps auth file names and paths', () => {
    for (const text of [
      'dennis.perlman26.auth.json',
      '/tmp/codex-fleet-report-Ab12Cd/account/dennis.perlman26.auth.json: not found',
      'skipped /home/ops/codex-fleet/account/team-acct-2026-11-23.json',
    ]) {
      assert.equal(maskSecrets(text), text);
    }
  });

  it('masks tokens, keys, bearer headers, labelled secrets and emails', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlMTIzNDU2';
    const out = maskSecrets(
      `Bearer abc.def-123 ${jwt} sk-proj-abcdef123456 rt_0123456789abcdef access_token=xyz987 a@b.example ` +
        'QWxhZGRpbjpvcGVuIHNlc2FtZQ9876543210abcdefghijklmnop',
    );
    for (const leaked of [
      'abc.def-123',
      jwt,
      'abcdef123456',
      '0123456789abcdef',
      'xyz987',
      'a@b.example',
      '9876543210',
    ]) {
      assert.ok(!out.includes(leaked), `${leaked} leaked: ${out}`);
    }
  });

  it('sanitizeMessage folds whitespace and caps the length', () => {
    assert.equal(sanitizeMessage('  two\n lines  '), 'two lines');
    assert.equal(sanitizeMessage('x'.repeat(300), 10)?.length, 10);
    assert.equal(sanitizeMessage(''), null);
    assert.equal(sanitizeMessage(42), null);
  });
});
