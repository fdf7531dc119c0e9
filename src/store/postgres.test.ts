// `?` → `$n` rewriting: placeholders outside literals only (pure, no server needed).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redactUrl, rewritePlaceholders } from './postgres.ts';

describe('rewritePlaceholders', () => {
  const cases: Array<[string, string]> = [
    ['SELECT ?', 'SELECT $1'],
    ['INSERT INTO t (a, b) VALUES (?, ?), (?, ?)', 'INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)'],
    ["SELECT '?' , ?", "SELECT '?' , $1"],
    ["SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1"],
    ['SELECT "we?ird" FROM t WHERE x = ?', 'SELECT "we?ird" FROM t WHERE x = $1'],
    ['SELECT ? -- why?\n, ?', 'SELECT $1 -- why?\n, $2'],
    ['SELECT /* a ? b */ ?', 'SELECT /* a ? b */ $1'],
    ['SELECT $$ ? $$, $tag$ ?? $tag$, ?', 'SELECT $$ ? $$, $tag$ ?? $tag$, $1'],
    ['SELECT ?::bigint, x::text', 'SELECT $1::bigint, x::text'],
    ["SELECT 'unterminated ?", "SELECT 'unterminated ?"],
  ];
  for (const [input, expected] of cases) {
    it(JSON.stringify(input), () => assert.equal(rewritePlaceholders(input), expected));
  }
});

describe('redactUrl', () => {
  it('hides the password and survives garbage', () => {
    assert.equal(redactUrl('postgres://fleet:s3cret@db:5432/fleet'), 'postgres://fleet:****@db:5432/fleet');
    assert.equal(redactUrl('not a url'), '<unparseable database URL>');
  });
});
