import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { notificationSettingsInput } from './alert-settings-schema.ts';
import {
  DEFAULT_NOTIFICATION_SETTINGS,
  mergeNotificationSettings,
  normalizeNotificationSettings,
  publicNotificationSettings,
} from './alerting.ts';

const email = {
  host: '127.0.0.1',
  port: 2525,
  secure: false,
  user: 'ops',
  from: 'fleet@example.test',
  to: ['ops@example.test'],
};

describe('notification settings', () => {
  it('an older stored shape gets the defaults for what it lacks', () => {
    const s = normalizeNotificationSettings({
      webhooks: [{ url: 'http://127.0.0.1:9/h', format: 'json' }],
      poolLowFraction: 0.3,
    });
    assert.equal(s.poolLowFraction, 0.3);
    assert.deepEqual(s.rules, DEFAULT_NOTIFICATION_SETTINGS.rules);
    assert.equal(s.email, null);
  });

  it('a partial update keeps what it does not name, and the stored SMTP password unless replaced', () => {
    const withMail = mergeNotificationSettings(DEFAULT_NOTIFICATION_SETTINGS, {
      email: { ...email, password: 's3cret' },
    });
    const levels = mergeNotificationSettings(withMail, { rules: { windowLevels: { weekly: [90] } } });
    assert.deepEqual(levels.rules.windowLevels, { '5h': [80, 95], weekly: [90], monthly: [80, 95] });
    const edited = mergeNotificationSettings(levels, { email: { ...email, port: 465, secure: true } });
    assert.equal(edited.email?.password, 's3cret');
    assert.equal(mergeNotificationSettings(edited, { email: { ...email, password: null } }).email?.password, null);
    assert.equal(mergeNotificationSettings(edited, { email: null }).email, null);
  });

  it('responses never carry the SMTP password', () => {
    const s = mergeNotificationSettings(DEFAULT_NOTIFICATION_SETTINGS, { email: { ...email, password: 's3cret' } });
    const shown = publicNotificationSettings(s);
    assert.doesNotMatch(JSON.stringify(shown), /s3cret/);
    assert.equal(shown.email?.passwordSet, true);
  });

  it('refuses unknown fields and bad values with messages that name them', () => {
    const bad = [
      [{ rules: { windowLevels: { weekly: [120] } } }, /1-100/],
      [{ schedule: { quietHours: { start: '25:00', end: '07:00', timeZone: 'UTC' } } }, /HH:MM/],
      [{ schedule: { quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Base' } } }, /IANA time zone/],
      [{ email: { ...email, to: ['not-an-address'] } }, /email\.to/],
      [{ surprise: true }, /unrecognized|Unrecognized/],
    ] as const;
    for (const [input, message] of bad) {
      const parsed = notificationSettingsInput.safeParse(input);
      assert.equal(parsed.success, false, JSON.stringify(input));
      assert.match(JSON.stringify(parsed.error?.issues), message);
    }
  });
});
