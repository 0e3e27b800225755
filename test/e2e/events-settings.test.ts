/**
 * Alerts, events and settings in the browser UI against the real headless server: a crash-looping
 * custom service raises a real alert, its notification is acknowledged, the Events page lists it
 * live; the settings form refuses what the API refuses and saves the rest; the configuration goes out
 * and comes back in through a dry run.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { collectPageErrors } from './support/page-errors';
import { byTestId, screenshot, text, uiSession, waitConnection, WAIT } from './support/ui-session';

const TEST_TIMEOUT = 150_000;

const session = uiSession({ viewport: { width: 1280, height: 860 } });
const { newPage, open, call } = session;

/** A custom command that exits at once; the first `maxFailures` failures make it fatal. */
async function addCrasher(name: string, maxFailures: number): Promise<void> {
  await call('services.add', {
    definition: {
      name,
      kind: 'custom',
      description: 'e2e: exits with code 3 at once',
      program: { type: 'command', command: process.execPath, args: ['-e', 'process.exit(3)'] },
      restart: {
        policy: 'always',
        backoff: { type: 'steps', stepsMs: [300] },
        crashLoop: { maxFailures, windowMs: 120_000, action: 'fatal' },
      },
    },
  });
}

async function openAlertCount(page: Page): Promise<number> {
  return Number(await byTestId(page, 'open-alerts').getAttribute('data-count'));
}

interface Settings {
  retention: { rawHours: number; minuteDays: number; hourDays: number };
  desktop: { closeToTray: boolean; startAtLogin: boolean };
}

describe('alerts, events and settings in the browser UI', () => {
  it(
    'a crash-looping service: the transitions appear live, its alert pops up, is acknowledged from the notification and listed as such',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await addCrasher('e2e-crasher', 3);

      // Watch its transitions, filtered by the service, before anything happens.
      await open(page, '#/events');
      await byTestId(page, 'page-events').waitFor();
      await byTestId(page, 'feed-status').waitFor();
      await byTestId(page, 'open-alerts').waitFor();
      const openBefore = await openAlertCount(page);
      await byTestId(page, 'tab-transitions').click();
      await byTestId(page, 'filter-service').selectOption('e2e-crasher');
      expect(new URL(page.url()).hash).toBe('#/events/view=transitions&service=e2e-crasher');
      await byTestId(page, 'feed-empty').waitFor();

      await call('services.start', { name: 'e2e-crasher' });

      // Live, without a reload: the exits with their code, then fatal.
      await byTestId(page, 'transitions-table').locator('tr[data-to="fatal"]').waitFor();
      const exits = await byTestId(page, 'event-exit').allTextContents();
      expect(exits).toContain('code 3');
      const services = await byTestId(page, 'transitions-table')
        .locator('tbody tr')
        .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-service')));
      expect(new Set(services)).toEqual(new Set(['e2e-crasher']));
      // Newest first.
      const first = byTestId(page, 'transitions-table').locator('tbody tr').first();
      expect(await first.getAttribute('data-to')).toBe('fatal');

      // The notification: service, kind, message; it stays (fatal needs a person).
      const toast = byTestId(page, 'alert-toast', { 'data-service': 'e2e-crasher', 'data-kind': 'fatal' });
      await toast.waitFor();
      expect(await toast.getAttribute('data-sticky')).toBe('true');
      expect(await toast.locator('[data-testid="toast-message"]').textContent()).toContain(
        'e2e-crasher gave up after a crash loop',
      );
      expect(await byTestId(page, 'alert-announcer-urgent').textContent()).toContain('e2e-crasher');
      await expect.poll(() => openAlertCount(page), { timeout: WAIT }).toBeGreaterThan(openBefore);
      const openWithIt = await openAlertCount(page);
      await screenshot(page, 'events-transitions-live');
      expect(await toast.locator('[data-testid="toast-view"]').getAttribute('href')).toBe(
        '#/services/e2e-crasher',
      );

      // Keyboard: the notification's buttons are in the tab order, with names that say what they do.
      const ack = toast.locator('[data-testid="toast-ack"]');
      expect(await ack.getAttribute('aria-label')).toBe('Acknowledge Fatal: gave up alert for e2e-crasher');
      await ack.focus();
      await page.keyboard.press('Enter');
      await toast.waitFor({ state: 'detached' });
      await expect.poll(() => openAlertCount(page), { timeout: WAIT }).toBe(openWithIt - 1);

      // The alerts list, still filtered by the service: acknowledged.
      await byTestId(page, 'tab-alerts').click();
      expect(new URL(page.url()).hash).toBe('#/events/service=e2e-crasher');
      const row = byTestId(page, 'alerts-table').locator('tr[data-kind="fatal"]');
      await row.and(page.locator('[data-status="acknowledged"]')).waitFor();
      expect(await row.getAttribute('data-service')).toBe('e2e-crasher');
      expect(await row.locator('button').count()).toBe(0); // nothing left to acknowledge
      await byTestId(page, 'filter-status').selectOption('open');
      await byTestId(page, 'feed-empty').waitFor();
      await byTestId(page, 'filter-status').selectOption('acknowledged');
      await byTestId(page, 'alerts-table').locator('tr[data-kind="fatal"]').waitFor();
      await screenshot(page, 'events-alerts-filtered');
      // The filters live in the address: a reload keeps them.
      await page.reload();
      await byTestId(page, 'alerts-table').locator('tr[data-kind="fatal"]').waitFor();
      expect(await byTestId(page, 'filter-service').inputValue()).toBe('e2e-crasher');
      expect(await byTestId(page, 'filter-status').inputValue()).toBe('acknowledged');

      // The person acknowledges the service: its alert is cleared, and the list says so at once.
      await call('services.acknowledge', { name: 'e2e-crasher' });
      await row.locator('[data-testid="alert-status"]', { hasText: 'cleared' }).waitFor();
      await byTestId(page, 'filter-status').selectOption('cleared');
      await byTestId(page, 'alerts-table').locator('tr[data-kind="fatal"]').waitFor();
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'a warning notification dismisses itself; an alert is acknowledged from the list; notifications stack at most five',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page, '#/events/status=open');
      await byTestId(page, 'feed-status').waitFor();

      // A 1-byte soft memory limit: a memory-soft warning as soon as the process is sampled.
      await call('services.add', {
        definition: {
          name: 'e2e-hungry',
          kind: 'custom',
          program: {
            type: 'command',
            command: process.execPath,
            args: ['-e', 'setInterval(() => {}, 1000)'],
          },
          memory: { softBytes: 1 },
        },
      });
      await call('services.start', { name: 'e2e-hungry' });
      const toast = byTestId(page, 'alert-toast', {
        'data-service': 'e2e-hungry',
        'data-kind': 'memory-soft',
      });
      await toast.waitFor();
      expect(await toast.getAttribute('data-sticky')).toBe('false');
      expect(await byTestId(page, 'alert-announcer').textContent()).toContain('e2e-hungry');
      // It appears in the open alerts, live.
      const row = byTestId(page, 'alerts-table').locator('tr[data-service="e2e-hungry"]');
      await row.and(page.locator('[data-status="open"]')).waitFor();
      // It goes away on its own (12 s), unless hovered or focused.
      await toast.waitFor({ state: 'detached', timeout: 30_000 });

      // Acknowledged from the list.
      await row.locator('button', { hasText: 'Acknowledge' }).click();
      await row.and(page.locator('[data-status="acknowledged"]')).waitFor();
      await call('services.stop', { name: 'e2e-hungry' });

      // A burst of six fatal alerts: five shown, the sixth counted; Escape and "Dismiss all" clear them.
      const names = [
        'e2e-burst-1',
        'e2e-burst-2',
        'e2e-burst-3',
        'e2e-burst-4',
        'e2e-burst-5',
        'e2e-burst-6',
      ];
      for (const name of names) await addCrasher(name, 1);
      await Promise.all(names.map((name) => call('services.start', { name })));
      await byTestId(page, 'toasts-more', { 'data-count': '1' }).waitFor();
      expect(await byTestId(page, 'alert-toast').count()).toBe(5);
      await screenshot(page, 'alert-toasts-stacked');
      await byTestId(page, 'alert-toast').first().locator('[data-testid="toast-dismiss"]').focus();
      await page.keyboard.press('Escape');
      await byTestId(page, 'toasts-more').waitFor({ state: 'detached' });
      expect(await byTestId(page, 'alert-toast').count()).toBe(5);
      await byTestId(page, 'alert-toast').nth(4).locator('[data-testid="toast-dismiss"]').click();
      expect(await byTestId(page, 'alert-toast').count()).toBe(4);
      await screenshot(page, 'events-alerts-open');

      // Each burst alert joined the open list live, once; clearing one (the service is acknowledged)
      // takes it off the count and marks its row at once, without a reload.
      const burstRows = byTestId(page, 'alerts-table').locator('tr[data-kind="fatal"]');
      await expect
        .poll(
          async () => (await burstRows.evaluateAll((trs) => trs.map((tr) => tr.dataset.service))).sort(),
          {
            timeout: WAIT,
          },
        )
        .toEqual(names);
      const openNow = await openAlertCount(page);
      await call('services.acknowledge', { name: 'e2e-burst-1' });
      await expect.poll(() => openAlertCount(page), { timeout: WAIT }).toBe(openNow - 1);
      await burstRows
        .and(page.locator('[data-service="e2e-burst-1"][data-status="cleared"]'))
        .waitFor({ timeout: WAIT });
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'pages through transitions with the API cursor, newest first, and filters them by state and time',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      // 30 failures before it gives up: about 60 transitions, more than one page of 50.
      await addCrasher('e2e-looper', 30);
      await open(page, '#/events/view=transitions&service=e2e-looper');
      await byTestId(page, 'feed-empty').waitFor();
      await call('services.start', { name: 'e2e-looper' });
      await byTestId(page, 'transitions-table').locator('tr[data-to="fatal"]').waitFor({ timeout: 120_000 });
      const all = (
        await call<{ items: { id: number }[] }>('events.list', { service: 'e2e-looper', limit: 1000 })
      ).items;
      expect(all.length).toBeGreaterThan(50);
      // Built from the live events alone: every stored row, with its stored id, once, newest first.
      const liveIds = await byTestId(page, 'transitions-table')
        .locator('tbody tr')
        .evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')));
      expect(liveIds).toEqual(all.map((e) => `event-row-${e.id}`));

      // From a fresh start: one page, then the rest with "Load older".
      await page.reload();
      await byTestId(page, 'feed-status', { 'data-count': '50' }).waitFor();
      await byTestId(page, 'load-more').click();
      await byTestId(page, 'feed-status', { 'data-count': String(all.length) }).waitFor();
      expect(await byTestId(page, 'load-more').count()).toBe(0);
      expect(await text(page, 'feed-status')).toContain('that is all');
      const rows = byTestId(page, 'transitions-table').locator('tbody tr');
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-testid')));
      expect(ids).toEqual(all.map((e) => `event-row-${e.id}`));
      const times = (await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-at')))).map(
        Number,
      );
      expect(times).toEqual([...times].sort((a, b) => b - a));
      await screenshot(page, 'events-transitions-paged');

      // By the state entered, and by time.
      await byTestId(page, 'filter-state').selectOption('fatal');
      await byTestId(page, 'feed-status', { 'data-count': '1' }).waitFor();
      await byTestId(page, 'filter-state').selectOption('');
      await byTestId(page, 'filter-range').selectOption('15m');
      await byTestId(page, 'feed-status', { 'data-count': '50' }).waitFor();
      await byTestId(page, 'filter-range').selectOption('custom');
      await byTestId(page, 'filter-from').fill('2099-01-01T00:00');
      await byTestId(page, 'feed-empty').waitFor();
      expect(await text(page, 'feed-empty')).toContain('No state transitions match these filters');
      // The alerts list is filtered by time by alerts.list too: same result.
      await byTestId(page, 'tab-alerts').click();
      await byTestId(page, 'feed-empty').waitFor();
      await byTestId(page, 'filter-range').selectOption('1h');
      await byTestId(page, 'alerts-table').locator('tr[data-kind="fatal"]').waitFor();
      await byTestId(page, 'filter-clear').click();
      expect(new URL(page.url()).hash).toBe('#/events');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'settings: invalid values are refused at the field and never sent, a valid one is saved and kept, a server refusal lands at its field',
    async () => {
      const page = await newPage({ height: 1500 });
      const errors = collectPageErrors(page);
      // The page's WebSocket goes through a relay that can drop `config.changed`, so the form can be
      // made to work from settings the server no longer has (as with an event lost in a reconnect).
      let dropConfigEvents = false;
      const sent: string[] = [];
      await page.routeWebSocket(/\/api\/ws/, (ws) => {
        const upstream = ws.connectToServer();
        ws.onMessage((message) => {
          sent.push(String(message));
          upstream.send(message);
        });
        upstream.onMessage((message) => {
          if (dropConfigEvents && String(message).includes('"config.changed"')) return;
          ws.send(message);
        });
      });

      await open(page, '#/settings');
      const raw = byTestId(page, 'setting-retention-rawHours');
      await raw.waitFor();
      expect(await raw.inputValue()).toBe('24');
      const save = byTestId(page, 'settings-save');
      expect(await save.isDisabled()).toBe(true);

      // Out of bounds: the schema's own message, at the field; Save stays off, nothing is sent.
      await raw.fill('500');
      await byTestId(page, 'setting-retention-rawHours-error').waitFor();
      expect(await text(page, 'setting-retention-rawHours-error')).toBe('must be at most 168 hours');
      expect(await raw.getAttribute('aria-invalid')).toBe('true');
      expect(await save.isDisabled()).toBe(true);
      await raw.fill('twelve');
      expect(await text(page, 'setting-retention-rawHours-error')).toBe('must be a number');
      await raw.press('Enter'); // submitting an invalid form sends nothing
      // A rule across fields, shown at the field that was changed.
      await raw.fill('48');
      await byTestId(page, 'setting-retention-minuteDays').fill('1');
      expect(await text(page, 'setting-retention-minuteDays-error')).toMatch(
        /^minute retention \(1 day\) must cover raw retention \(48 hours\)/,
      );
      await byTestId(page, 'setting-bus-backend').selectOption('nats');
      expect(await text(page, 'setting-bus-natsUrl-error')).toBe('the nats backend needs natsUrl');
      await byTestId(page, 'setting-bus-natsUrl').fill('http://example');
      expect(await text(page, 'setting-bus-natsUrl-error')).toMatch(/^must be a nats:\/\/ or tls:\/\/ URL/);
      await byTestId(page, 'setting-bus-backend').selectOption('embedded');
      await byTestId(page, 'setting-bus-natsUrl').fill('');
      await screenshot(page, 'settings-invalid');
      expect(await save.isDisabled()).toBe(true);
      expect(sent.some((f) => f.includes('settings.update'))).toBe(false);

      // Valid: saved, and still there after a reload.
      await byTestId(page, 'setting-retention-minuteDays').fill('30');
      expect(await byTestId(page, 'setting-retention-minuteDays-error').count()).toBe(0);
      await save.click();
      await byTestId(page, 'settings-status').filter({ hasText: 'Saved.' }).waitFor();
      expect((await call<Settings>('settings.get')).retention.rawHours).toBe(48);
      await page.reload();
      await waitConnection(page, 'connected');
      await byTestId(page, 'setting-retention-rawHours').and(page.locator('[value="48"]')).waitFor();

      // Changed elsewhere, and this page does not hear of it: what it sends is refused by the server,
      // and the refusal is shown at the field it concerns.
      dropConfigEvents = true;
      await call('settings.update', { patch: { retention: { minuteDays: 60 } } });
      await byTestId(page, 'setting-retention-hourDays').fill('40');
      await save.click();
      await byTestId(page, 'setting-retention-hourDays-error').waitFor();
      expect(await text(page, 'setting-retention-hourDays-error')).toMatch(
        /^hour retention \(40 days\) must cover minute retention \(60 days\)/,
      );
      await screenshot(page, 'settings-server-refusal');
      dropConfigEvents = false;
      // Heard again: the untouched field follows the server, the edit is kept, and checked anew.
      await call('settings.update', { patch: { retention: { minuteDays: 35 } } });
      await byTestId(page, 'setting-retention-minuteDays').and(page.locator('[value="35"]')).waitFor();
      expect(await byTestId(page, 'setting-retention-hourDays').inputValue()).toBe('40');
      await byTestId(page, 'settings-changed-elsewhere').waitFor();
      expect(await byTestId(page, 'setting-retention-hourDays-error').count()).toBe(0);
      expect(await save.isEnabled()).toBe(true);
      await byTestId(page, 'settings-revert').click();
      expect(await byTestId(page, 'setting-retention-hourDays').inputValue()).toBe('365');
      await call('settings.update', { patch: { retention: { minuteDays: 30 } } });

      // Desktop settings: shown with their labels and explained here (a headless Vigil has no window,
      // tray or login item), and saved all the same.
      const toTray = page.getByLabel('Close to tray');
      expect(await toTray.getAttribute('data-testid')).toBe('setting-desktop-closeToTray');
      expect(await toTray.isChecked()).toBe(true);
      expect(await page.getByLabel('Start at login').isChecked()).toBe(false);
      expect(await text(page, 'settings-desktop-note')).toMatch(
        /desktop app only\. This page talks to a headless/,
      );
      await toTray.uncheck();
      await byTestId(page, 'settings-status').filter({ hasText: '1 unsaved change.' }).waitFor();
      await save.click();
      await byTestId(page, 'settings-status').filter({ hasText: 'Saved.' }).waitFor();
      expect((await call<Settings>('settings.get')).desktop).toEqual({
        closeToTray: false,
        startAtLogin: false,
      });
      await call('settings.update', { patch: { desktop: { closeToTray: true } } });
      await byTestId(page, 'setting-desktop-closeToTray').and(page.locator(':checked')).waitFor();

      // Theme: applied at once through data-theme, kept across a reload.
      const background = () => page.evaluate<string>('getComputedStyle(document.body).backgroundColor');
      const dark = await background();
      await byTestId(page, 'theme-light').check();
      expect(await page.locator('html').getAttribute('data-theme')).toBe('light');
      expect(await background()).not.toBe(dark);
      await screenshot(page, 'settings-light');
      await page.reload();
      await byTestId(page, 'theme-light').waitFor();
      expect(await page.locator('html').getAttribute('data-theme')).toBe('light');
      expect(await byTestId(page, 'theme-light').isChecked()).toBe(true);
      await byTestId(page, 'theme-system').check();
      expect(await page.locator('html').getAttribute('data-theme')).toBe('system');
      // `system` follows the OS, also when it switches while the page is open.
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.locator('html[data-palette="dark"]').waitFor();
      expect(await background()).toBe(dark);
      await page.emulateMedia({ colorScheme: 'light' });
      await page.locator('html[data-palette="light"]').waitFor();
      expect(await background()).not.toBe(dark);
      await byTestId(page, 'theme-dark').check();
      expect(await background()).toBe(dark);
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'configuration: export to a file and the clipboard, then import back through a dry run that lists the changes',
    async () => {
      const page = await newPage({ height: 1500 });
      const errors = collectPageErrors(page);
      await page
        .context()
        .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: session.server.origin });
      await open(page, '#/settings');
      await byTestId(page, 'settings-form').waitFor();

      await byTestId(page, 'export-run').click();
      const exported = byTestId(page, 'export-text');
      await exported.waitFor();
      const yaml = await exported.inputValue();
      expect(yaml).toMatch(/^version: 1$/m);
      expect(yaml).toMatch(/^ {4}rawHours: 48$/m);
      expect(yaml).toContain('e2e-crasher');

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        byTestId(page, 'export-download').click(),
      ]);
      expect(download.suggestedFilename()).toMatch(/^vigil-config-\d{8}-\d{4}\.yaml$/);
      expect(readFileSync(await download.path(), 'utf8')).toBe(yaml);

      await byTestId(page, 'export-copy').click();
      await byTestId(page, 'export-status').filter({ hasText: 'Copied' }).waitFor();
      expect(await page.evaluate<string>('navigator.clipboard.readText()')).toBe(yaml);

      // The same document back: nothing would change.
      const importText = byTestId(page, 'import-text');
      await importText.fill(yaml);
      await byTestId(page, 'import-dry-run').click();
      await byTestId(page, 'import-preview', { 'data-count': '0' }).waitFor();
      expect(await text(page, 'import-status')).toBe(
        'Nothing would change: this is the current configuration.',
      );
      await byTestId(page, 'import-cancel').click();

      // Changed: the dry run lists each change, and Cancel changes nothing.
      const edited = yaml
        .replace(/^( {4}rawHours:) 48$/m, '$1 72')
        .replace(/^( {4}hourDays:) 365$/m, '$1 400');
      await importText.fill(edited);
      await byTestId(page, 'import-dry-run').click();
      await byTestId(page, 'import-preview', { 'data-count': '2' }).waitFor();
      const paths = await byTestId(page, 'import-change').evaluateAll((rows) =>
        rows.map((r) => `${r.getAttribute('data-kind')} ${r.getAttribute('data-path')}`),
      );
      expect(paths.sort()).toEqual([
        'change settings.retention.hourDays',
        'change settings.retention.rawHours',
      ]);
      await screenshot(page, 'settings-import-preview');
      await byTestId(page, 'import-cancel').click();
      await byTestId(page, 'import-preview').waitFor({ state: 'detached' });
      expect((await call<Settings>('settings.get')).retention.rawHours).toBe(48);

      // Applied: the form follows at once.
      await byTestId(page, 'import-dry-run').click();
      await byTestId(page, 'import-apply').click();
      await byTestId(page, 'import-status').filter({ hasText: 'Applied 2 changes.' }).waitFor();
      await byTestId(page, 'setting-retention-rawHours').and(page.locator('[value="72"]')).waitFor();
      expect((await call<Settings>('settings.get')).retention).toMatchObject({ rawHours: 72, hourDays: 400 });

      // From a file (JSON): the format follows the file name.
      const json = (await call<{ text: string }>('config.export', { format: 'json' })).text;
      await byTestId(page, 'import-file').setInputFiles({
        name: 'vigil.json',
        mimeType: 'application/json',
        buffer: Buffer.from(json.replace('"rawHours": 72', '"rawHours": 96')),
      });
      expect(await byTestId(page, 'import-format').inputValue()).toBe('json');
      await byTestId(page, 'import-dry-run').click();
      await byTestId(page, 'import-change', { 'data-path': 'settings.retention.rawHours' }).waitFor();
      await byTestId(page, 'import-cancel').click();

      // Not a configuration: the server's typed error, naming the field.
      await importText.fill('version: 1\nservices: 12\n');
      await byTestId(page, 'import-dry-run').click();
      await byTestId(page, 'import-error', { 'data-code': 'invalid_input' }).waitFor();
      expect(await text(page, 'import-error-field')).toMatch(/^text/);
      await screenshot(page, 'settings-import-error');
      expect(session.server.alive(), session.server.output()).toBe(true);
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});
