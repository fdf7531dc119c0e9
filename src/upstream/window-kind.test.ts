// The one window-length rule: nearest known duration within a tolerance, for seconds and minutes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { windowKindOfMinutes, windowKindOfSeconds } from './window-kind.ts';

describe('windowKindOfSeconds: by duration, never by slot', () => {
  const cases: [number | null, string][] = [
    [18000, '5h'],
    [18030, '5h'],
    [17940, '5h'], // seen in the wild (UPSTREAM.md §2)
    [17100, '5h'], // 4 h 45 min: inside the 5% tolerance
    [16000, 'other'],
    [604800, 'weekly'],
    [604740, 'weekly'], // seen in the wild
    [7 * 86400 + 6 * 3600, 'weekly'],
    [2592000, 'monthly'], // the go plan's one 30-day window
    [28 * 86400, 'monthly'],
    [31 * 86400, 'monthly'],
    [28 * 86400 - 60, 'monthly'],
    [27 * 86400, 'other'],
    [32 * 86400, 'other'],
    [3600, 'other'],
    [86400, 'other'],
    [0, 'other'],
    [-18000, 'other'],
    [null, 'other'],
    [Number.NaN, 'other'],
    [Number.POSITIVE_INFINITY, 'other'],
  ];
  for (const [seconds, kind] of cases)
    test(`${seconds} → ${kind}`, () => assert.equal(windowKindOfSeconds(seconds), kind));
});

describe('windowKindOfMinutes: the CLI and x-codex-* headers round up to whole minutes', () => {
  const cases: [number | null, string][] = [
    [300, '5h'],
    [299, '5h'], // ceil(17940 / 60)
    [10080, 'weekly'],
    [10079, 'weekly'], // ceil(604740 / 60)
    [43200, 'monthly'],
    [60, 'other'],
    [null, 'other'],
  ];
  for (const [minutes, kind] of cases)
    test(`${minutes} min → ${kind}`, () => assert.equal(windowKindOfMinutes(minutes), kind));
});
