/**
 * The Services page and the service detail in the browser UI, against the real headless server:
 * actions and their outcome, the state timeline and restart history of a child killed from outside,
 * the live log tail of a service added from the Add dialog, the configuration form and raw JSON
 * (validated by the API's own schemas, refused at the field), and removal with a confirmation.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { collectPageErrors } from './support/page-errors';
import { byTestId, screenshot, text, uiSession, waitConnection, WAIT } from './support/ui-session';

const TEST_TIMEOUT = 150_000;
const TICK_SCRIPT = "setInterval(()=>console.log('tick '+Date.now()),200)";

const session = uiSession({ viewport: { width: 1440, height: 1000 } });
const { newPage, open, call } = session;

interface Info {
  name: string;
  state: string;
  pid: number | null;
  restarts: number;
  definition: Record<string, unknown> & {
    description: string;
    stop: { timeoutMs: number };
    restart: { policy: string; backoff: unknown };
  };
}

const get = (name: string) => call<Info>('services.get', { name });

/** A plain command that stays up and prints nothing. */
async function addSleeper(name: string, extra: Record<string, unknown> = {}): Promise<void> {
  await call('services.add', {
    definition: {
      name,
      kind: 'custom',
      description: 'e2e: sleeps',
      program: { type: 'command', command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] },
      ...extra,
    },
  });
}

async function selectTab(page: Page, tab: 'overview' | 'timeline' | 'logs' | 'config'): Promise<void> {
  await byTestId(page, `detail-tab-${tab}`).click();
  await byTestId(page, `detail-panel-${tab}`).waitFor();
}

/** The rendered log lines' sequence numbers, in order. */
async function shownSeqs(page: Page): Promise<number[]> {
  return (
    await byTestId(page, 'log-line').evaluateAll((els) => els.map((e) => e.getAttribute('data-seq')))
  ).map(Number);
}

describe('Services page and service detail', () => {
  it('starts the trader from its detail only once the person confirms its mode, and restarts it the same way', async () => {
    const page = await newPage();
    const errors = collectPageErrors(page);
    await open(page, '#/services/trader');
    await byTestId(page, 'service-detail', { 'data-service': 'trader' }).waitFor();
    // Cancel: nothing starts.
    await byTestId(page, 'detail-start-trader').click();
    await byTestId(page, 'detail-cancel-start-trader').click();
    expect((await get('trader')).state).toBe('stopped');
    // Confirm: the start carries the mode shown, which the supervisor requires.
    await byTestId(page, 'detail-start-trader').click();
    expect(await page.getByRole('group', { name: 'Confirm: start trader' }).innerText()).toContain('paper');
    await byTestId(page, 'detail-confirm-start-trader').click();
    await byTestId(page, 'service-detail', { 'data-state': 'running' }).waitFor({ timeout: 30_000 });
    const firstPid = (await get('trader')).pid;
    await byTestId(page, 'detail-restart-trader').click();
    await byTestId(page, 'detail-confirm-restart-trader').click();
    await expect
      .poll(
        async () => {
          const t = await get('trader');
          return t.state === 'running' && t.pid !== firstPid;
        },
        { timeout: 30_000 },
      )
      .toBe(true);
    expect(await byTestId(page, 'detail-action-error').count()).toBe(0);
    await call('services.stop', { name: 'trader' });
    expect(errors).toEqual([]);
  });

  it(
    'starts and stops a service from the detail with the state following; a refused start shows the typed error; a fatal one is acknowledged',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page, '#/services/selfcheck');
      const detail = byTestId(page, 'service-detail', { 'data-service': 'selfcheck' });
      await detail.waitFor();
      const start = byTestId(page, 'detail-start-selfcheck');
      expect(await start.getAttribute('aria-label')).toBe('Start selfcheck');
      expect(await byTestId(page, 'detail-stop-selfcheck').isDisabled()).toBe(true);
      expect(await byTestId(page, 'remove-selfcheck').isEnabled()).toBe(true);

      await start.click();
      await byTestId(page, 'service-detail', { 'data-state': 'running' }).waitFor();
      await byTestId(page, 'service-row-selfcheck', { 'data-state': 'running' }).waitFor();
      await byTestId(page, 'detail-action-outcome', { 'data-ok': 'true' })
        .filter({ hasText: /^Started at/ })
        .waitFor();
      await byTestId(page, 'service-checks').waitFor();
      expect(await text(page, 'detail-pid')).toMatch(/^\d+$/);
      // Heartbeat age and whole-tree usage follow the once-a-second metrics event (nothing polls).
      const age = byTestId(page, 'detail-heartbeat').locator('[data-age-ms]');
      await age.waitFor();
      const ageOf = async () => Number(await age.getAttribute('data-age-ms'));
      expect(await ageOf()).toBeLessThan(5000);
      const firstAge = await ageOf();
      await expect.poll(ageOf, { timeout: WAIT }).not.toBe(firstAge);
      expect(await text(page, 'detail-usage')).toMatch(/%.*MB/);
      // A running service cannot be removed: the button says why.
      expect(await byTestId(page, 'remove-selfcheck').isDisabled()).toBe(true);
      expect(await byTestId(page, 'remove-selfcheck').getAttribute('title')).toContain('Stop it before');
      await screenshot(page, 'service-detail-running');

      // Keyboard: one tab stop for the tab bar, arrows move between the tabs.
      await byTestId(page, 'detail-tab-overview').focus();
      await page.keyboard.press('ArrowRight');
      await byTestId(page, 'detail-tab-timeline', { 'aria-selected': 'true' }).waitFor();
      await byTestId(page, 'timeline-entry', { 'data-to': 'running' }).first().waitFor();
      await page.keyboard.press('End');
      await byTestId(page, 'detail-tab-config', { 'aria-selected': 'true' }).waitFor();
      await page.keyboard.press('Home');
      await byTestId(page, 'detail-tab-overview', { 'aria-selected': 'true' }).waitFor();

      await byTestId(page, 'detail-stop-selfcheck').click();
      await byTestId(page, 'service-detail', { 'data-state': 'stopped' }).waitFor();
      await byTestId(page, 'service-row-selfcheck', { 'data-state': 'stopped' }).waitFor();
      await byTestId(page, 'detail-action-outcome')
        .filter({ hasText: /^Stopped at .*stopped/ })
        .waitFor();

      // A service whose dependency is fatal: the start is refused, and the detail shows the typed error.
      await call('services.add', {
        definition: {
          name: 'e2e-dep-crash',
          kind: 'custom',
          program: { type: 'command', command: process.execPath, args: ['-e', 'process.exit(3)'] },
          restart: { policy: 'always', crashLoop: { maxFailures: 1, windowMs: 60_000, action: 'fatal' } },
        },
      });
      await addSleeper('e2e-needs-dep', { dependsOn: ['e2e-dep-crash'] });
      await call('services.start', { name: 'e2e-dep-crash' });
      await expect.poll(async () => (await get('e2e-dep-crash')).state, { timeout: WAIT }).toBe('fatal');

      await open(page, '#/services/e2e-needs-dep');
      await byTestId(page, 'detail-start-e2e-needs-dep').click();
      const failure = byTestId(page, 'detail-action-error', { 'data-code': 'conflict' });
      await failure.waitFor();
      expect(await text(page, 'detail-action-error-message')).toContain(
        'which is fatal: acknowledge it first',
      );
      await screenshot(page, 'service-detail-action-error');

      // The fatal one: Start is off, Acknowledge is offered and brings it back to stopped.
      await byTestId(page, 'service-row-e2e-dep-crash').locator('a').click();
      await byTestId(page, 'service-detail', {
        'data-service': 'e2e-dep-crash',
        'data-state': 'fatal',
      }).waitFor();
      expect(await byTestId(page, 'detail-start-e2e-dep-crash').isDisabled()).toBe(true);
      await byTestId(page, 'detail-acknowledge-e2e-dep-crash').click();
      await byTestId(page, 'service-detail', { 'data-state': 'stopped' }).waitFor();
      expect(await byTestId(page, 'detail-acknowledge-e2e-dep-crash').count()).toBe(0);
      expect((await get('e2e-dep-crash')).state).toBe('stopped');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'adds a custom service from the Add dialog, and tails its output: follows, pauses, searches, filters by stream, copies',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await page
        .context()
        .grantPermissions(['clipboard-read', 'clipboard-write'], { origin: session.server.origin });
      await open(page, '#/services');
      await byTestId(page, 'service-row-selfcheck').waitFor();
      const before = (await call<Info[]>('services.list')).length;

      await byTestId(page, 'add-service').click();
      const dialog = byTestId(page, 'add-service-dialog');
      await dialog.waitFor();
      // Nothing typed: the problems show at their fields, and nothing is added.
      await byTestId(page, 'add-submit').click();
      expect(await text(page, 'add-name-error')).toBe('must not be empty');
      expect(await text(page, 'add-program-command-error')).toBe('must not be empty');
      expect(await byTestId(page, 'add-name').getAttribute('aria-invalid')).toBe('true');
      // A name the schema refuses, as typed.
      await byTestId(page, 'add-name').fill('Bad Name');
      expect(await text(page, 'add-name-error')).toMatch(/^must be lower-case letters/);
      // A taken name passes the schema; the server refuses it, at the field.
      await byTestId(page, 'add-name').fill('selfcheck');
      await byTestId(page, 'add-program-command').fill(process.execPath);
      await byTestId(page, 'add-program-args').fill(`-e\n${TICK_SCRIPT}`);
      await byTestId(page, 'add-submit').click();
      await byTestId(page, 'add-name-error').filter({ hasText: 'already exists' }).waitFor();
      expect((await call<Info[]>('services.list')).length).toBe(before);
      await screenshot(page, 'service-add-refused');

      // The built-in programs are offered next to the custom command; choosing one fills its kind,
      // description and example configuration, and back to the custom command clears them.
      await byTestId(page, 'add-program-collector').locator('input').check();
      expect(await byTestId(page, 'add-kind').inputValue()).toBe('collector');
      expect(await byTestId(page, 'add-description').inputValue()).toMatch(/^Market data/);
      expect(JSON.parse(await byTestId(page, 'add-config').inputValue())).toMatchObject({
        venue: 'binance-spot',
      });
      expect(await byTestId(page, 'add-program-command').count()).toBe(0);
      await byTestId(page, 'add-program-selfcheck').locator('input').check();
      expect(await byTestId(page, 'add-kind').inputValue()).toBe('custom');
      expect(await byTestId(page, 'add-config').count()).toBe(0); // it takes none
      await screenshot(page, 'service-add-builtin');
      await byTestId(page, 'add-program-custom').locator('input').check();
      expect(await byTestId(page, 'add-config').count()).toBe(0);
      expect(await byTestId(page, 'add-program-command').inputValue()).toBe(process.execPath);

      await byTestId(page, 'add-name').fill('e2e-ticker');
      expect(await byTestId(page, 'add-name-error').count()).toBe(0);
      await byTestId(page, 'add-start-now').check();
      await byTestId(page, 'add-submit').click();
      await dialog.waitFor({ state: 'detached' });
      await page.waitForURL(/#\/services\/e2e-ticker$/);
      await byTestId(page, 'service-row-e2e-ticker').waitFor();
      await byTestId(page, 'service-detail', {
        'data-service': 'e2e-ticker',
        'data-state': 'running',
      }).waitFor();
      const added = await get('e2e-ticker');
      expect(added.definition).toMatchObject({
        kind: 'custom',
        program: { type: 'command', command: process.execPath, args: ['-e', TICK_SCRIPT] },
        protocol: 'none',
      });

      // The tail: the recent lines, then live ones, following the newest.
      await selectTab(page, 'logs');
      const tail = byTestId(page, 'log-tail');
      await tail.waitFor();
      expect(await tail.getAttribute('data-following')).toBe('true');
      await byTestId(page, 'log-line', { 'data-stream': 'out' })
        .filter({ hasText: /^.*tick \d+/ })
        .first()
        .waitFor();
      // More lines than the view holds (20), and the newest in view.
      await expect
        .poll(async () => Number(/^(\d+) lines/.exec(await text(page, 'log-status'))?.[1] ?? 0), {
          timeout: WAIT,
        })
        .toBeGreaterThan(40);
      const atBottom = () =>
        byTestId(page, 'log-view').evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
      await expect.poll(atBottom, { timeout: WAIT }).toBe(true);
      const view = byTestId(page, 'log-view');
      expect(await view.evaluate((el) => el.scrollHeight > el.clientHeight * 1.5)).toBe(true);
      // Only the rows in view (plus a margin) are in the DOM.
      expect(await byTestId(page, 'log-line').count()).toBeLessThan(50);
      const seqsFollowing = await shownSeqs(page);
      await expect
        .poll(async () => Math.max(...(await shownSeqs(page))), { timeout: WAIT })
        .toBeGreaterThan(Math.max(...seqsFollowing));
      expect(await atBottom()).toBe(true);
      await screenshot(page, 'service-logs-following');

      // Pause: the view holds still while new lines are counted.
      await byTestId(page, 'log-pause').click();
      expect(await tail.getAttribute('data-paused')).toBe('true');
      const frozen = await shownSeqs(page);
      const frozenTop = await view.evaluate((el) => el.scrollTop);
      await byTestId(page, 'log-new-count')
        .and(page.locator(':not([data-count="0"]):not([data-count="1"]):not([data-count="2"])'))
        .waitFor();
      expect(await shownSeqs(page)).toEqual(frozen);
      expect(await view.evaluate((el) => el.scrollTop)).toBe(frozenTop);
      await screenshot(page, 'service-logs-paused');
      await byTestId(page, 'log-pause').click();
      await expect
        .poll(async () => Math.max(...(await shownSeqs(page))), { timeout: WAIT })
        .toBeGreaterThan(Math.max(...frozen));

      // Search: marks and filters (the supervisor's note that it started the process).
      await byTestId(page, 'log-search').fill('as pid');
      await byTestId(page, 'log-mark').first().waitFor();
      const found = await byTestId(page, 'log-line').evaluateAll((els) =>
        els.map((e) => ({ stream: e.getAttribute('data-stream'), text: e.textContent ?? '' })),
      );
      expect(found.length).toBeGreaterThan(0);
      for (const line of found) {
        expect(line.stream).toBe('vigil');
        expect(line.text).toContain('as pid');
      }
      expect(await text(page, 'log-status')).toMatch(/matching “as pid”/);
      // Marked, not filtered: the tick lines are back, the match still marked.
      await byTestId(page, 'log-only-matching').uncheck();
      await byTestId(page, 'log-line', { 'data-stream': 'out' }).first().waitFor();
      await byTestId(page, 'log-search').fill('TICK');
      await byTestId(page, 'log-only-matching').check();
      await byTestId(page, 'log-mark').first().waitFor();
      expect((await byTestId(page, 'log-mark').first().textContent())?.toLowerCase()).toBe('tick');
      await screenshot(page, 'service-logs-search');
      await byTestId(page, 'log-search').fill('');

      // Streams: without stdout only the supervisor's notes are left, and the other way round.
      await byTestId(page, 'log-stream-out').click();
      expect(await byTestId(page, 'log-stream-out').getAttribute('aria-pressed')).toBe('false');
      await expect
        .poll(
          async () =>
            new Set(
              await byTestId(page, 'log-line').evaluateAll((els) =>
                els.map((e) => e.getAttribute('data-stream')),
              ),
            ),
        )
        .toEqual(new Set(['vigil']));
      await byTestId(page, 'log-stream-out').click();
      await byTestId(page, 'log-stream-vigil').click();
      await expect
        .poll(
          async () =>
            new Set(
              await byTestId(page, 'log-line').evaluateAll((els) =>
                els.map((e) => e.getAttribute('data-stream')),
              ),
            ),
        )
        .toEqual(new Set(['out']));

      // Copy: the lines shown, to the clipboard.
      await byTestId(page, 'log-pause').click();
      await byTestId(page, 'log-copy').click();
      await byTestId(page, 'log-copy-status').waitFor();
      const copied = await page.evaluate<string>('navigator.clipboard.readText()');
      const copiedLines = copied.split('\n');
      expect(await text(page, 'log-copy-status')).toBe(`Copied ${copiedLines.length} lines.`);
      expect(copiedLines.every((l) => /^\d\d:\d\d:\d\d\.\d{3} out {3}tick \d+$/.test(l))).toBe(true);
      expect(copiedLines.length).toBeGreaterThan(40);
      expect(errors).toEqual([]);

      // The clipboard refused (and the copy command too): the lines are offered, selected, to copy by hand.
      const denied = await newPage();
      const deniedErrors = collectPageErrors(denied);
      await denied.addInitScript({
        content: `
          Object.defineProperty(navigator, 'clipboard', {
            configurable: true,
            value: { writeText: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) },
          });
          document.execCommand = () => false;
        `,
      });
      await open(denied, '#/services/e2e-ticker');
      await selectTab(denied, 'logs');
      await byTestId(denied, 'log-line', { 'data-stream': 'out' }).first().waitFor();
      await byTestId(denied, 'log-copy').click();
      const manual = byTestId(denied, 'log-copy-text');
      await manual.waitFor();
      expect(await manual.inputValue()).toContain('tick ');
      // Selected, so Ctrl+C takes it.
      expect(
        await manual.evaluate((el) => {
          const area = el as unknown as { selectionStart: number; selectionEnd: number; value: string };
          return area.selectionEnd - area.selectionStart === area.value.length;
        }),
      ).toBe(true);
      await screenshot(denied, 'service-logs-copy-fallback');
      await byTestId(denied, 'log-copy-close').click();
      await manual.waitFor({ state: 'detached' });
      expect(deniedErrors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'a chatty service: the tail keeps a bounded buffer, draws only the rows in view, and the page stays responsive',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      // About 4 000 lines a second, in bursts.
      await call('services.add', {
        definition: {
          name: 'e2e-chatty',
          kind: 'custom',
          program: {
            type: 'command',
            command: process.execPath,
            args: ['-e', "let n=0;setInterval(()=>{for(let i=0;i<200;i++)console.log('line '+(n++))},50)"],
          },
        },
      });
      await call('services.start', { name: 'e2e-chatty' });
      await open(page, '#/services/e2e-chatty');
      await selectTab(page, 'logs');
      await byTestId(page, 'log-line', { 'data-stream': 'out' }).first().waitFor();
      // Past the buffer: the oldest lines go, 5 000 stay.
      await byTestId(page, 'log-status')
        .filter({ hasText: /^5000 lines \(the oldest \d+ dropped/ })
        .waitFor();
      // Frames keep coming while it streams: the longest gap between two over 3 s.
      const longestGap = await page.evaluate<number>(`new Promise((done) => {
        let last = performance.now(), worst = 0;
        const end = last + 3000;
        const frame = (t) => {
          worst = Math.max(worst, t - last);
          last = t;
          if (t < end) requestAnimationFrame(frame); else done(worst);
        };
        requestAnimationFrame(frame);
      })`);
      console.log(`chatty service: longest frame gap ${longestGap.toFixed(0)} ms over 3 s`);
      expect(longestGap).toBeLessThan(1000);
      expect(await byTestId(page, 'log-line').count()).toBeLessThan(60);
      // Controls answer at once: pause holds, search filters the whole buffer.
      await byTestId(page, 'log-pause').click();
      await byTestId(page, 'log-tail', { 'data-paused': 'true' }).waitFor({ timeout: 2000 });
      await byTestId(page, 'log-search').fill('line 4');
      await byTestId(page, 'log-status')
        .filter({ hasText: /matching “line 4”/ })
        .waitFor({ timeout: 2000 });
      await screenshot(page, 'service-logs-chatty');
      await call('services.stop', { name: 'e2e-chatty' });

      // Load older: the 2 000 lines before the oldest kept here, read back from the server (its
      // ring, then the log file), in front of the rest with nothing missing between.
      await byTestId(page, 'log-search').fill('');
      await byTestId(page, 'log-pause').click();
      await byTestId(page, 'log-tail', { 'data-paused': 'false' }).waitFor();
      const newest = (await call<{ seq: number }[]>('services.logs', { name: 'e2e-chatty', lines: 1 }))[0]!;
      await byTestId(page, 'log-status')
        .filter({ hasText: /^5000 lines/ })
        .waitFor();
      await expect.poll(async () => Math.max(...(await shownSeqs(page))), { timeout: WAIT }).toBe(newest.seq);
      await byTestId(page, 'log-older').click();
      await byTestId(page, 'log-status')
        .filter({ hasText: /^7000 lines/ })
        .waitFor();
      await byTestId(page, 'log-view').evaluate((el) => {
        el.scrollTop = 0;
      });
      await expect
        .poll(async () => Math.min(...(await shownSeqs(page))), { timeout: WAIT })
        .toBe(newest.seq - 6999);
      const top = await shownSeqs(page);
      expect(top).toEqual(top.map((_, i) => top[0]! + i));
      await screenshot(page, 'service-logs-older');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'a child killed from outside: the restart count rises, the timeline shows the exit and its reason, the restart history the backoff',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await addSleeper('e2e-victim');
      await open(page, '#/services/e2e-victim');
      await byTestId(page, 'detail-start-e2e-victim').click();
      await byTestId(page, 'service-detail', { 'data-state': 'running' }).waitFor();
      expect(await text(page, 'detail-restart-count')).toBe('0');
      const { pid } = await get('e2e-victim');
      expect(pid).toBeGreaterThan(0);

      await selectTab(page, 'timeline');
      await byTestId(page, 'timeline-entry', { 'data-to': 'running' }).first().waitFor();
      expect(await byTestId(page, 'restart-history-empty').count()).toBe(1);

      process.kill(pid!, 'SIGTERM');

      // Live, without a reload: into backoff with the exit and its reason, then up again.
      const backoff = byTestId(page, 'timeline-entry', { 'data-to': 'backoff' }).first();
      await backoff.waitFor();
      expect(await backoff.locator('[data-testid="timeline-reason"]').textContent()).toMatch(
        /^killed by SIGTERM; restarting in /,
      );
      expect(await backoff.locator('[data-testid="timeline-exit"]').textContent()).toBe('exit SIGTERM');
      await expect
        .poll(async () => byTestId(page, 'timeline-entry').first().getAttribute('data-to'), { timeout: WAIT })
        .toBe('running');
      const restart = byTestId(page, 'restart-row', { 'data-kind': 'automatic' });
      await restart.waitFor();
      expect(await restart.locator('[data-testid="restart-exit"]').textContent()).toBe('SIGTERM');
      expect(await restart.textContent()).toContain('killed by SIGTERM');
      expect(await restart.locator('[data-testid="restart-backoff"]').textContent()).toMatch(
        /^\d+(\.\d)? (ms|s)$/,
      );
      await screenshot(page, 'service-timeline-killed');

      await selectTab(page, 'overview');
      await byTestId(page, 'detail-restart-count').filter({ hasText: /^1$/ }).waitFor();
      expect(await byTestId(page, 'detail-pid').textContent()).not.toBe(String(pid));
      expect((await get('e2e-victim')).restarts).toBe(1);
      // The table row says so too.
      expect(await byTestId(page, 'service-row-e2e-victim').locator('td').nth(5).textContent()).toBe('1');

      // After a reload the timeline is read back from the history: the same transitions, once each.
      await page.reload();
      await waitConnection(page, 'connected');
      await selectTab(page, 'timeline');
      await byTestId(page, 'restart-row', { 'data-kind': 'automatic' }).waitFor();
      const events = await call<{ items: unknown[] }>('events.list', { service: 'e2e-victim', limit: 1000 });
      await byTestId(page, 'timeline', { 'data-count': String(events.items.length) }).waitFor();
      await call('services.stop', { name: 'e2e-victim' });
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'configuration: invalid values are refused at the field and nothing is sent, a server refusal lands at its field, a valid edit is saved; the JSON view likewise',
    async () => {
      const page = await newPage({ height: 1600 });
      const errors = collectPageErrors(page);
      const sent: string[] = [];
      await page.routeWebSocket(/\/api\/ws/, (ws) => {
        const upstream = ws.connectToServer();
        ws.onMessage((message) => {
          sent.push(String(message));
          upstream.send(message);
        });
        upstream.onMessage((message) => ws.send(message));
      });
      await addSleeper('e2e-config');
      await addSleeper('e2e-config-user', { dependsOn: ['e2e-config'] });
      const original = (await get('e2e-config')).definition;

      await open(page, '#/services/e2e-config');
      await selectTab(page, 'config');
      const save = byTestId(page, 'cfg-save');
      const timeout = byTestId(page, 'cfg-stop-timeoutMs');
      await timeout.waitFor();
      expect(await timeout.inputValue()).toBe('10000');
      expect(await save.isDisabled()).toBe(true);
      expect(await byTestId(page, 'cfg-name').getAttribute('readonly')).not.toBeNull();

      // The schema's own messages, at the field, as typed.
      await timeout.fill('-5');
      expect(await text(page, 'cfg-stop-timeoutMs-error')).toBe('must not be negative');
      expect(await timeout.getAttribute('aria-invalid')).toBe('true');
      expect(await save.isDisabled()).toBe(true);
      await timeout.fill('soon');
      expect(await text(page, 'cfg-stop-timeoutMs-error')).toBe('must be a number');
      await timeout.press('Enter'); // submitting an invalid form sends nothing
      await timeout.fill('10000');
      // Rules across fields: at the field they concern.
      await byTestId(page, 'cfg-memory-softBytes').fill('2000000');
      await byTestId(page, 'cfg-memory-hardBytes').fill('1000000');
      expect(await text(page, 'cfg-memory-softBytes-error')).toBe('must be below the hard limit');
      await byTestId(page, 'cfg-memory-softBytes').fill('');
      await byTestId(page, 'cfg-heartbeat').check();
      expect(await text(page, 'cfg-heartbeat-error')).toBe('heartbeats need the vigil protocol');
      await byTestId(page, 'cfg-heartbeat').uncheck();
      await byTestId(page, 'cfg-env').fill('GOOD=1\nnot an assignment');
      expect(await text(page, 'cfg-env-error')).toBe('line 2: write NAME=value');
      await byTestId(page, 'cfg-env').fill('GOOD=1\nBAD-NAME=2');
      expect(await text(page, 'cfg-env-error')).toBe('BAD-NAME: environment names are letters, digits and _');
      await byTestId(page, 'cfg-config').fill('{"a": ');
      expect(await text(page, 'cfg-config-error')).toMatch(/^not valid JSON/);
      await screenshot(page, 'service-config-invalid');
      expect(await save.isDisabled()).toBe(true);
      await byTestId(page, 'cfg-revert').click();
      expect(await byTestId(page, 'cfg-env').inputValue()).toBe('');
      expect(sent.some((f) => f.includes('services.update'))).toBe(false);
      expect((await get('e2e-config')).definition).toEqual(original);

      // A dependency cycle is for the server to find: its refusal lands at the field.
      await byTestId(page, 'cfg-dependsOn-e2e-config-user').check();
      await save.click();
      await byTestId(page, 'cfg-dependsOn-error').waitFor();
      expect(await text(page, 'cfg-dependsOn-error')).toMatch(/^a dependency cycle: /);
      expect(sent.filter((f) => f.includes('services.update'))).toHaveLength(1);
      expect((await get('e2e-config')).definition).toEqual(original);
      await screenshot(page, 'service-config-server-refusal');
      await byTestId(page, 'cfg-dependsOn-e2e-config-user').uncheck();
      expect(await byTestId(page, 'cfg-dependsOn-error').count()).toBe(0);

      // A valid edit: saved, and the API has it.
      await byTestId(page, 'cfg-description').fill('edited from the UI');
      await timeout.fill('7000');
      await byTestId(page, 'cfg-restart-policy').selectOption('always');
      await byTestId(page, 'cfg-restart-backoff-type').selectOption('steps');
      await byTestId(page, 'cfg-restart-backoff-stepsMs').fill('100, 2000');
      await byTestId(page, 'cfg-env').fill('MODE=paper');
      expect(await text(page, 'cfg-status')).toBe('6 unsaved changes.');
      await save.click();
      await byTestId(page, 'cfg-status')
        .filter({ hasText: /^Saved\.$/ })
        .waitFor();
      const saved = (await get('e2e-config')).definition;
      expect(saved).toMatchObject({
        description: 'edited from the UI',
        env: { MODE: 'paper' },
        stop: { timeoutMs: 7000 },
        restart: { policy: 'always', backoff: { type: 'steps', stepsMs: [100, 2000] } },
      });
      expect(await save.isDisabled()).toBe(true);
      await screenshot(page, 'service-config-saved');

      // The raw JSON: the same definition, checked the same way, saved the same way.
      await byTestId(page, 'config-view-json').check();
      const json = byTestId(page, 'json-text');
      await json.waitFor();
      expect(JSON.parse(await json.inputValue())).toEqual(saved);
      const jsonSave = byTestId(page, 'json-save');
      await json.fill('{"name": ');
      await byTestId(page, 'json-issue').filter({ hasText: 'not valid JSON' }).waitFor();
      expect(await jsonSave.isDisabled()).toBe(true);
      await json.fill(JSON.stringify({ ...saved, stop: { signal: 'SIGTERM', timeoutMs: -1 } }, null, 2));
      await byTestId(page, 'json-issue', { 'data-path': 'stop.timeoutMs' }).waitFor();
      await json.fill(JSON.stringify({ ...saved, surprise: true }, null, 2));
      await byTestId(page, 'json-issue', { 'data-path': 'surprise' })
        .filter({ hasText: 'unknown field' })
        .waitFor();
      await json.fill(JSON.stringify({ ...saved, name: 'e2e-renamed' }, null, 2));
      await byTestId(page, 'json-issue', { 'data-path': 'name' })
        .filter({ hasText: 'renaming is not supported' })
        .waitFor();
      expect(await jsonSave.isDisabled()).toBe(true);
      expect(sent.filter((f) => f.includes('services.update'))).toHaveLength(2);
      await screenshot(page, 'service-config-json-invalid');
      await json.fill(JSON.stringify({ ...saved, description: 'edited as JSON' }, null, 2));
      await jsonSave.click();
      await byTestId(page, 'json-status')
        .filter({ hasText: /^Saved\.$/ })
        .waitFor();
      expect((await get('e2e-config')).definition.description).toBe('edited as JSON');
      // The form, untouched since its save, follows.
      await byTestId(page, 'config-view-form').check();
      await byTestId(page, 'cfg-description').and(page.locator('[value="edited as JSON"]')).waitFor();
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'remove asks first: Cancel and Escape keep the service, the server refuses while others depend on it, Confirm removes it',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await addSleeper('e2e-doomed');
      await addSleeper('e2e-doomed-user', { dependsOn: ['e2e-doomed'] });
      await open(page, '#/services/e2e-doomed');
      const remove = byTestId(page, 'remove-e2e-doomed');
      await remove.click();
      const dialog = byTestId(page, 'remove-dialog');
      await dialog.waitFor();
      expect(await dialog.getAttribute('role')).toBe('alertdialog');
      expect(await dialog.textContent()).toContain('e2e-doomed-user depends on it');
      // The safe choice has the focus.
      expect(await page.evaluate<string | null>("document.activeElement?.getAttribute('data-testid')")).toBe(
        'remove-cancel',
      );
      await screenshot(page, 'service-remove-confirm');
      await byTestId(page, 'remove-cancel').click();
      await dialog.waitFor({ state: 'detached' });
      expect((await get('e2e-doomed')).name).toBe('e2e-doomed');
      await remove.click();
      await dialog.waitFor();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect((await get('e2e-doomed')).name).toBe('e2e-doomed');

      // Confirmed while another service depends on it: the server's refusal, in the dialog.
      await remove.click();
      await byTestId(page, 'remove-confirm').click();
      await byTestId(page, 'remove-error', { 'data-code': 'conflict' }).waitFor();
      expect(await text(page, 'remove-error-message')).toBe('e2e-doomed-user depends on e2e-doomed');
      await byTestId(page, 'remove-cancel').click();

      // The dependent first, then the service itself.
      await byTestId(page, 'service-row-e2e-doomed-user').locator('a').click();
      await byTestId(page, 'remove-e2e-doomed-user').click();
      await byTestId(page, 'remove-confirm').click();
      await byTestId(page, 'services-notice').filter({ hasText: 'Removed e2e-doomed-user.' }).waitFor();
      expect(new URL(page.url()).hash).toBe('#/services');
      await byTestId(page, 'service-row-e2e-doomed-user').waitFor({ state: 'detached' });
      await byTestId(page, 'service-row-e2e-doomed').locator('a').click();
      await byTestId(page, 'remove-e2e-doomed').click();
      await byTestId(page, 'remove-confirm').click();
      await byTestId(page, 'services-notice').filter({ hasText: 'Removed e2e-doomed.' }).waitFor();
      await byTestId(page, 'service-row-e2e-doomed').waitFor({ state: 'detached' });
      const reply = await session.client.call('services.get', { name: 'e2e-doomed' });
      expect(reply.ok).toBe(false);
      await screenshot(page, 'service-removed');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});
