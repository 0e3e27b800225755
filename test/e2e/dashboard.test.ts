/**
 * The Dashboard in the browser against the real headless server (demo mode): the overall state
 * follows a crash-looping service, its row counts the restarts and the backoff countdown, the live
 * bars and sparklines draw the demo services, the range picker reads recorded history, and trading
 * starts only after a confirmation that names the mode and the symbols.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../../src/shared/services';
import { collectPageErrors } from './support/page-errors';
import { byTestId, screenshot, text, uiSession, WAIT } from './support/ui-session';

const TEST_TIMEOUT = 150_000;

const session = uiSession({ viewport: { width: 1400, height: 1000 } });
const { newPage, call } = session;

async function open(page: Page, hash = '#/dashboard'): Promise<void> {
  await session.open(page, hash);
  await byTestId(page, 'page-dashboard').waitFor();
}

async function stateOf(name: string): Promise<string> {
  return (await call<ServiceInfo>('services.get', { name })).state;
}

const idle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 2_000));

describe('the Dashboard in the browser UI', () => {
  beforeAll(async () => {
    // Record history every second (the default is 2 s) so the 1 h view has points soon.
    await call('settings.update', { patch: { history: { sampleIntervalMs: 1000 } } });
  });

  it(
    'says the overall state, turns to Failing with a crash-looping service whose row counts restarts and the backoff countdown',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      await byTestId(page, 'dashboard-row-selfcheck').waitFor();
      // The demo starts the simulator and the collectors: all healthy once they are up.
      await byTestId(page, 'dashboard-overall', { 'data-level': 'healthy' }).waitFor({ timeout: 60_000 });
      expect(await text(page, 'dashboard-overall-label')).toBe('All healthy');
      expect(await byTestId(page, 'trading-indicator').getAttribute('data-on')).toBe('false');
      // The demo's paper trader is there, stopped: only a person starts it.
      await byTestId(page, 'trader-trader', { 'data-state': 'stopped' }).waitFor();
      expect(await text(page, 'trader-mode-trader')).toBe('paper');
      // The counts the other tests rely on, and the open alerts.
      const list = await call<ServiceInfo[]>('services.list');
      expect(await text(page, 'count-total')).toBe(String(list.length));
      await byTestId(page, 'dashboard-open-alerts')
        .locator('.tile-value')
        .filter({ hasText: /^\d+$/ })
        .waitFor();
      await screenshot(page, 'dashboard-healthy');

      // A command that exits at once, restarted after 4 s every time, never given up on.
      await call('services.add', {
        definition: {
          name: 'e2e-looper',
          kind: 'custom',
          description: 'e2e: exits with code 3 at once',
          program: { type: 'command', command: process.execPath, args: ['-e', 'process.exit(3)'] },
          restart: {
            policy: 'always',
            backoff: { type: 'steps', stepsMs: [4000] },
            crashLoop: { maxFailures: 1000, windowMs: 600_000, action: 'alert' },
          },
        },
      });
      // (services.add raises no event: the row appears with the first transition.)
      await call('services.start', { name: 'e2e-looper' });
      const row = byTestId(page, 'dashboard-row-e2e-looper');
      await row.and(page.locator('[data-state="backoff"]')).waitFor();
      expect(await byTestId(page, 'dashboard-heartbeat-e2e-looper').textContent()).toBe('none');
      await byTestId(page, 'dashboard-overall', { 'data-level': 'failing' }).waitFor();
      expect(await text(page, 'dashboard-overall-label')).toBe('Failing');
      expect(await text(page, 'dashboard-overall-detail')).toContain('e2e-looper');
      // The countdown to the next restart ticks in the row, with the reason beside it.
      const countdown = byTestId(page, 'dashboard-countdown-e2e-looper');
      await countdown.waitFor();
      expect(await countdown.textContent()).toMatch(/^restart in \ds$/);
      expect(await text(page, 'dashboard-reason-e2e-looper')).toMatch(/code 3/);
      await screenshot(page, 'dashboard-failing');

      // The restart count rises as it keeps failing.
      const before = Number(await text(page, 'dashboard-restarts-e2e-looper'));
      await expect
        .poll(async () => Number(await text(page, 'dashboard-restarts-e2e-looper')), { timeout: WAIT })
        .toBeGreaterThan(before);
      await countdown.waitFor();

      // Stopped by a person and removed: all healthy again.
      await call('services.stop', { name: 'e2e-looper' });
      await row.and(page.locator('[data-state="stopped"]')).waitFor();
      await call('services.remove', { name: 'e2e-looper' });
      await row.waitFor({ state: 'detached' });
      await byTestId(page, 'dashboard-overall', { 'data-level': 'healthy' }).waitFor();

      // Memory over its soft limit (1 MB: any process): Degraded, and its memory bar says so.
      await call('services.add', {
        definition: {
          name: 'e2e-hungry',
          kind: 'custom',
          program: {
            type: 'command',
            command: process.execPath,
            args: ['-e', 'setInterval(() => {}, 1000)'],
          },
          memory: { softBytes: 1_000_000, hardBytes: 4_000_000_000 },
        },
      });
      await call('services.start', { name: 'e2e-hungry' });
      await byTestId(page, 'dashboard-mem-e2e-hungry', { 'data-band': 'soft' }).waitFor();
      expect(await byTestId(page, 'dashboard-mem-e2e-hungry').textContent()).toMatch(/MB \/ 3\.73 GB$/);
      await byTestId(page, 'dashboard-overall', { 'data-level': 'degraded' }).waitFor();
      expect(await text(page, 'dashboard-overall-label')).toBe('Degraded');
      expect(await text(page, 'dashboard-overall-detail')).toContain('e2e-hungry: memory over soft limit');
      await screenshot(page, 'dashboard-degraded');
      await call('services.stop', { name: 'e2e-hungry' });
      await byTestId(page, 'dashboard-overall', { 'data-level': 'healthy' }).waitFor();
      await call('services.remove', { name: 'e2e-hungry' });
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'draws CPU and memory bars, heartbeat ages and sparklines for the running demo services, and the live charts',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      const collector = (await call<ServiceInfo[]>('services.list')).find(
        (s) => s.kind === 'collector' && s.state === 'running',
      );
      expect(collector, 'a running demo collector').toBeDefined();
      const name = collector!.name;

      const cpu = byTestId(page, `dashboard-cpu-${name}`);
      await cpu.locator(`[data-testid="dashboard-cpu-${name}-fill"]`).waitFor();
      expect(await cpu.getAttribute('data-band')).not.toBe('none');
      expect(await cpu.locator('[role="meter"]').getAttribute('aria-label')).toBe(`CPU of ${name}`);
      const mem = byTestId(page, `dashboard-mem-${name}`);
      await mem.locator(`[data-testid="dashboard-mem-${name}-fill"]`).waitFor();
      expect(await mem.textContent()).toMatch(/\d MB/);
      // Heartbeat age from the 1 Hz metrics event (a dash until the first one arrives).
      await byTestId(page, `dashboard-heartbeat-${name}`)
        .filter({ hasText: /^\d+\.\d s$/ })
        .waitFor();
      // The sparkline fills as samples arrive (one a second).
      await expect
        .poll(async () => Number(await byTestId(page, `sparkline-${name}`).getAttribute('data-points')), {
          timeout: WAIT,
        })
        .toBeGreaterThanOrEqual(6);
      await byTestId(page, `sparkline-cpu-${name}`).waitFor();
      await byTestId(page, `sparkline-mem-${name}`).waitFor();
      expect(await byTestId(page, `sparkline-${name}`).getAttribute('aria-label')).toMatch(
        /CPU now .*memory now/,
      );

      // Live charts: a line per running service; the collectors' message rates.
      const charts = byTestId(page, 'dashboard-charts', { 'data-range': 'live' });
      await charts.waitFor();
      await byTestId(page, 'chart-cpu', { 'data-empty': 'false' }).waitFor();
      await byTestId(page, 'chart-memory', { 'data-empty': 'false' }).waitFor();
      await byTestId(page, 'chart-rates', { 'data-empty': 'false' }).waitFor();
      await byTestId(page, 'chart-cpu').locator('.recharts-line').first().waitFor();
      expect(Number(await byTestId(page, 'chart-cpu').getAttribute('data-series'))).toBeGreaterThanOrEqual(2);
      expect(await byTestId(page, `legend-${name}`).getAttribute('aria-pressed')).toBe('true');
      // The legend hides a service in every chart, and shows it again.
      const series = Number(await byTestId(page, 'chart-memory').getAttribute('data-series'));
      await byTestId(page, `legend-${name}`).click();
      expect(await byTestId(page, `legend-${name}`).getAttribute('aria-pressed')).toBe('false');
      await byTestId(page, 'chart-memory', { 'data-series': String(series - 1) }).waitFor();
      await byTestId(page, `legend-${name}`).press('Enter');
      await byTestId(page, 'chart-memory', { 'data-series': String(series) }).waitFor();
      await screenshot(page, 'dashboard-live');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'the range picker reads recorded history for 1 h, and moves with the keyboard',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      await byTestId(page, 'range-1h').click();
      await byTestId(page, 'dashboard-charts', { 'data-range': '1h' }).waitFor();
      // Samples are recorded every second; read again until the first minute has points.
      const deadline = Date.now() + 90_000;
      for (;;) {
        await byTestId(page, 'history-status', { 'data-status': 'ready' }).waitFor();
        const empty = await byTestId(page, 'chart-cpu', { 'data-empty': 'false' }).count();
        if (empty > 0) break;
        if (Date.now() > deadline) throw new Error('no history points within 90 s');
        await idle();
        await byTestId(page, 'history-refresh').click();
      }
      expect(Number(await byTestId(page, 'chart-cpu').getAttribute('data-points'))).toBeGreaterThanOrEqual(1);
      await byTestId(page, 'chart-memory', { 'data-empty': 'false' }).waitFor();
      // An hour is read from 1-minute rollups (plus the last minutes' raw samples, bucketed).
      expect(await text(page, 'history-status')).toMatch(/from 1-minute rollups · as of \d\d:\d\d:\d\d/);
      await screenshot(page, 'dashboard-history-1h');

      // Arrow keys move between the ranges (a radio group).
      await byTestId(page, 'range-1h').focus();
      await page.keyboard.press('ArrowRight');
      await byTestId(page, 'dashboard-charts', { 'data-range': '24h' }).waitFor();
      expect(await byTestId(page, 'range-24h').isChecked()).toBe(true);
      await byTestId(page, 'history-status', { 'data-status': 'ready' }).waitFor();
      await byTestId(page, 'range-live').click();
      await byTestId(page, 'dashboard-charts', { 'data-range': 'live' }).waitFor();
      await byTestId(page, 'chart-cpu', { 'data-empty': 'false' }).waitFor();
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'starts trading only after a confirmation naming the mode and symbols, and stops it after another',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await call('services.add', {
        definition: {
          name: 'e2e-trader',
          kind: 'trader',
          description: 'e2e: a trader that idles',
          program: {
            type: 'command',
            command: process.execPath,
            args: ['-e', 'setInterval(() => {}, 1000)'],
          },
          config: { mode: 'paper', symbols: ['BTCUSDT'] },
        },
      });
      await call('services.add', {
        definition: {
          name: 'e2e-live-trader',
          kind: 'trader',
          program: {
            type: 'command',
            command: process.execPath,
            args: ['-e', 'setInterval(() => {}, 1000)'],
          },
          config: { mode: 'live', symbols: ['ETHUSDT', 'SOLUSDT'] },
        },
      });
      await open(page);
      const card = byTestId(page, 'trader-e2e-trader', { 'data-state': 'stopped' });
      await card.waitFor();
      expect(await text(page, 'trader-mode-e2e-trader')).toBe('paper');
      expect(await text(page, 'trader-symbols-e2e-trader')).toBe('BTCUSDT');
      expect(await text(page, 'trader-mode-e2e-live-trader')).toBe('live');
      expect(await byTestId(page, 'trading-indicator').getAttribute('data-on')).toBe('false');

      // Start opens a modal: the mode and symbols named, focus on Cancel, kept inside, Escape cancels.
      const start = byTestId(page, 'trader-start-e2e-trader');
      expect(await start.getAttribute('aria-label')).toBe('Start trading with e2e-trader (paper)');
      await start.click();
      const dialog = byTestId(page, 'trader-confirm', { 'data-action': 'start' });
      await dialog.waitFor();
      expect(await dialog.evaluate((d) => d.matches('dialog[open]:modal'))).toBe(true);
      expect(await text(page, 'trader-confirm-mode')).toBe('paper');
      expect(await text(page, 'trader-confirm-symbols')).toBe('BTCUSDT');
      expect(await dialog.getAttribute('aria-labelledby')).toBeTruthy();
      const focused = () => page.locator(':focus').getAttribute('data-testid');
      expect(await focused()).toBe('trader-confirm-cancel');
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('trader-confirm-ok');
      await page.keyboard.press('Tab');
      expect(await focused()).toBe('trader-confirm-cancel');
      await page.keyboard.press('Shift+Tab');
      expect(await focused()).toBe('trader-confirm-ok');
      await screenshot(page, 'dashboard-trader-confirm');
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      expect(await focused()).toBe('trader-start-e2e-trader');
      // Cancel, too, starts nothing.
      await start.click();
      await byTestId(page, 'trader-confirm-cancel').click();
      await dialog.waitFor({ state: 'detached' });
      await idle();
      expect(await stateOf('e2e-trader')).toBe('stopped');
      expect(await byTestId(page, 'trading-indicator').getAttribute('data-on')).toBe('false');

      // A live trader says so, in red, and Escape leaves it stopped too.
      await byTestId(page, 'trader-start-e2e-live-trader').click();
      const liveDialog = byTestId(page, 'trader-confirm', { 'data-mode': 'live' });
      await liveDialog.waitFor();
      expect(await text(page, 'trader-confirm-mode')).toBe('LIVE');
      expect(await text(page, 'trader-confirm-symbols')).toBe('ETHUSDT, SOLUSDT');
      expect(await text(page, 'trader-confirm-ok')).toBe('Start LIVE trading');
      await screenshot(page, 'dashboard-trader-confirm-live');
      await page.keyboard.press('Escape');
      await liveDialog.waitFor({ state: 'detached' });
      expect(await stateOf('e2e-live-trader')).toBe('stopped');

      // Confirmed: it starts, and the header says trading is on.
      await start.click();
      await byTestId(page, 'trader-confirm-ok').click();
      await byTestId(page, 'trader-e2e-trader', { 'data-state': 'running' }).waitFor();
      expect(await stateOf('e2e-trader')).toBe('running');
      const indicator = byTestId(page, 'trading-indicator', { 'data-on': 'true' });
      await indicator.waitFor();
      expect(await indicator.getAttribute('data-mode')).toBe('paper');
      expect(await indicator.textContent()).toMatch(/Trading on.*e2e-trader \(paper\)/);
      expect(await byTestId(page, 'trader-start-e2e-trader').isEnabled()).toBe(false);
      await byTestId(page, 'dashboard-row-e2e-trader', { 'data-state': 'running' }).waitFor();
      await screenshot(page, 'dashboard-trading-on');

      // Stop asks too: Escape keeps it running, confirming stops it.
      const stop = byTestId(page, 'trader-stop-e2e-trader');
      await stop.click();
      const stopDialog = byTestId(page, 'trader-confirm', { 'data-action': 'stop' });
      await stopDialog.waitFor();
      await page.keyboard.press('Escape');
      await stopDialog.waitFor({ state: 'detached' });
      expect(await stateOf('e2e-trader')).toBe('running');
      await stop.click();
      await byTestId(page, 'trader-confirm-ok').click();
      await byTestId(page, 'trader-e2e-trader', { 'data-state': 'stopped' }).waitFor();
      await byTestId(page, 'trading-indicator', { 'data-on': 'false' }).waitFor();
      expect(await stateOf('e2e-trader')).toBe('stopped');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it('leaves the server running after everything above', () => {
    expect(session.server.alive(), session.server.output()).toBe(true);
  });
});
