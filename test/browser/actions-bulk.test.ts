// Actions over the real core and the simulator (test/support/demo-server): evidence as chips, a
// filtered selection approved at once after a confirmation (the audit log records each), and at
// phone width (390 px) the Settings checkboxes keep their size and Inspection's evidence is not clipped.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { type Browser, chromiumMissing, launchBrowser } from '../support/browser.ts';
import { type DemoServer, startDemoServer } from '../support/demo-server.ts';
import { waitFor } from '../support/wait.ts';

const skip = chromiumMissing();

describe('actions: chips and bulk decisions', { skip }, () => {
  let demo: DemoServer;
  // A fresh demo per test: the two must not see each other's inspections and decisions.
  beforeEach(async () => {
    demo = await startDemoServer(30);
  });
  afterEach(async () => {
    await demo?.close();
  });

  it('approves a filtered selection after a confirmation; the audit log has each', async () => {
    // The inspection runs from its page, as an operator starts it; its suggestions fill the queue.
    const start: Browser = await launchBrowser({ width: 1366, height: 900 });
    try {
      const page = await start.context.newPage();
      await page.goto(`${demo.url}/inspection`);
      await page.getByRole('button', { name: /Run inspection now/ }).click();
      await page.locator('.evidence li').first().waitFor({ timeout: 60_000 });
    } finally {
      await start.close();
    }
    const pending = await demo.service.listActions('pending');
    const kinds = [...new Set(pending.map((a) => a.action))];
    assert.ok(pending.length > 1, `inspection queued ${pending.length} actions`);
    const kind = kinds.sort(
      (a, b) => pending.filter((x) => x.action === b).length - pending.filter((x) => x.action === a).length,
    )[0];
    const ofKind = pending.filter((a) => a.action === kind).length;
    const browser: Browser = await launchBrowser({ width: 1366, height: 900 });
    try {
      const page = await browser.context.newPage();
      await page.goto(`${demo.url}/actions`);
      const queue = page.getByTestId('action-queue');
      await queue.locator('.evidence li').first().waitFor();
      await page.getByRole('combobox', { name: 'Action' }).selectOption(kind);
      assert.equal(await queue.locator('tbody tr').count(), ofKind);
      await page.getByTestId('select-all').check();
      let asked = '';
      page.once('dialog', (d) => {
        asked = d.message();
        void d.accept();
      });
      await page.getByRole('button', { name: `Approve ${ofKind} selected` }).click();
      await page.waitForFunction(
        (n) => document.querySelectorAll('[data-testid="action-queue"] tbody tr').length === 0 || n === 0,
        ofKind,
      );
      assert.match(asked, new RegExp(`^Approve ${ofKind} action\\(s\\)\\? ${kind}`));
      const left = await demo.service.listActions('pending');
      assert.equal(left.filter((a) => a.action === kind).length, 0, `no pending ${kind} left`);
      assert.equal(left.length, pending.length - ofKind, 'actions of other kinds were not touched');
      // Each decision's audit entry lands after its action ran, which can be after the row left the
      // queue: wait for the entries (a state with a deadline), then check them.
      // (The core records the dashboard's loopback actor as person:…local.)
      await waitFor(
        async () => {
          const audited = (await demo.service.listAudit(200)).filter((e) => /local$/.test(e.actor)).length;
          return { ok: audited >= ofKind, seen: `${audited} of ${ofKind} decisions audited` };
        },
        { what: 'each decision in the audit log' },
      );
    } finally {
      await browser.close();
    }
  });

  it('phone width: Settings checkboxes keep their size, Inspection evidence is not clipped', async () => {
    const browser: Browser = await launchBrowser({ width: 390, height: 844 });
    try {
      const page = await browser.context.newPage();
      await page.goto(`${demo.url}/settings`);
      const box = page.locator('input[type="checkbox"]').first();
      await box.waitFor();
      const size = await box.evaluate((b) => b.getBoundingClientRect().width);
      assert.ok(size >= 14, `checkbox is ${size} px wide`);
      await page.goto(`${demo.url}/inspection`);
      const runs = () => demo.service.listInspections(5).then((r) => r.length);
      const before = await runs();
      await page.getByRole('button', { name: /Run inspection now/ }).click();
      // Wait for this run to be stored (not only for an older run's chips), so nothing runs on after close.
      await page.waitForFunction(
        async (n) => {
          const r = await fetch('/api/inspections?limit=5').then((x) => x.json());
          return r.runs.length > n && r.runs.every((x: { status: string }) => x.status !== 'running');
        },
        before,
        { timeout: 60_000, polling: 500 },
      );
      const chip = page.locator('.evidence li').first();
      await chip.waitFor({ timeout: 60_000 });
      const clipped = await page.evaluate(() =>
        Array.from(document.querySelectorAll('.evidence li')).some(
          (li) => li.getBoundingClientRect().right > innerWidth + 1,
        ),
      );
      assert.equal(clipped, false, 'an evidence chip runs past the screen edge');
    } finally {
      await browser.close();
    }
  });
});
