/**
 * The Trader page in the browser against the real headless server (demo mode) and the real trader
 * program on the simulator's market data: Start needs the confirmation (Cancel starts nothing), the
 * page says PAPER and follows the running trader (ticks, equity, orders and fills), the limits editor
 * saves and refuses a bad value at its field, Stop opening shows the block in words and Resume clears
 * it, the kill switch (confirmed) flattens, and Stop and flatten stops it with no position left.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ServiceInfo } from '../../src/shared/services';
import type { TraderSnapshot } from '../../src/shared/trader-api';
import { collectPageErrors } from './support/page-errors';
import { byTestId, screenshot, text, uiSession, WAIT } from './support/ui-session';

const TEST_TIMEOUT = 150_000;
/** The demo trader trades on 1 s candles; its first orders need its strategy warm. */
const TRADE_WAIT = 90_000;

const session = uiSession({ viewport: { width: 1400, height: 1000 } });
const { newPage, call } = session;

let trader = '';

async function state(): Promise<TraderSnapshot> {
  return call<TraderSnapshot>('trader.state', { name: trader });
}

async function serviceState(): Promise<string> {
  return (await call<ServiceInfo>('services.get', { name: trader })).state;
}

const idle = (ms = 1_500): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function open(page: Page): Promise<void> {
  await session.open(page, `#/trader/${trader}`);
  await byTestId(page, 'trader-view', { 'data-name': trader }).waitFor();
}

describe('the Trader page in the browser UI', () => {
  beforeAll(async () => {
    const list = await call<ServiceInfo[]>('services.list');
    const traders = list.filter(
      (s) => s.kind === 'trader' && s.program.type === 'builtin' && s.program.name === 'trader',
    );
    // The demo's trader runs on the simulator (its name says demo); the default one reads real exchanges.
    const demo = traders.find((s) => /demo|sim/i.test(s.name)) ?? traders[0];
    expect(demo, `a built-in trader in the demo: ${list.map((s) => s.name).join(', ')}`).toBeDefined();
    trader = demo!.name;
    // Quick averages, so it decides (and trades) within a minute of 1 s candles.
    const { definition } = await call<ServiceInfo>('services.get', { name: trader });
    const config = (definition.config ?? {}) as Record<string, unknown>;
    await call('services.update', {
      name: trader,
      definition: {
        ...definition,
        config: { ...config, strategy: { id: 'ma-crossover', params: { fast: 2, slow: 5 } } },
      },
    });
  });

  it(
    'starts only after the confirmation, says PAPER, and follows the trader on simulated data',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      expect(await text(page, 'trader-mode-badge')).toBe('PAPER');
      await byTestId(page, 'trader-opening', { 'data-paused': 'true' }).waitFor();
      expect(await text(page, 'trader-opening')).toMatch(/^Not running/);
      expect(await text(page, 'trader-strategy-source')).toContain('set by hand');

      // Start opens the confirmation naming the mode; Cancel (and Escape) start nothing.
      const start = byTestId(page, 'trader-page-start');
      await start.click();
      const dialog = byTestId(page, 'trader-start-confirm', { 'data-action': 'start' });
      await dialog.waitFor();
      expect(await dialog.evaluate((d) => d.matches('dialog[open]:modal'))).toBe(true);
      expect(await dialog.getAttribute('data-mode')).toBe('paper');
      expect(await text(page, 'trader-confirm-mode')).toMatch(/^paper/);
      expect(await page.locator(':focus').getAttribute('data-testid')).toBe('trader-start-confirm-cancel');
      await screenshot(page, 'trader-start-confirm');
      await byTestId(page, 'trader-start-confirm-cancel').click();
      await dialog.waitFor({ state: 'detached' });
      await start.click();
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await idle();
      expect(await serviceState()).toBe('stopped');

      // Confirmed: it runs, on paper.
      await start.click();
      await byTestId(page, 'trader-start-confirm-ok').click();
      await byTestId(page, 'trader-view', { 'data-running': 'true' }).waitFor({ timeout: WAIT });
      expect(await serviceState()).toBe('running');
      expect(await text(page, 'trader-mode-badge')).toBe('PAPER');
      expect(await text(page, 'trader-mode-line')).toContain('Nothing is sent to an exchange');

      // Live figures: ticks counted, the live charts drawing, and (soon) orders and fills.
      const ticks = async () =>
        Number(/^([\d,]+) ticks/.exec(await text(page, 'trader-counters'))?.[1]?.replace(/,/g, '') ?? 0);
      await expect.poll(ticks, { timeout: WAIT }).toBeGreaterThan(0);
      const first = await ticks();
      await expect.poll(ticks, { timeout: WAIT }).toBeGreaterThan(first);
      await expect
        .poll(
          async () => Number((await byTestId(page, 'trader-chart-equity').getAttribute('data-points')) ?? 0),
          {
            timeout: WAIT,
          },
        )
        .toBeGreaterThan(1);
      await expect
        .poll(async () => Number((await byTestId(page, 'trader-fills').getAttribute('data-count')) ?? 0), {
          timeout: TRADE_WAIT,
          interval: 1_000,
        })
        .toBeGreaterThan(0);
      expect(Number(await byTestId(page, 'trader-orders').getAttribute('data-count'))).toBeGreaterThan(0);
      const fill = byTestId(page, 'trader-fill').first();
      expect(await fill.locator('td').nth(1).textContent()).toMatch(/USDT$/);
      await screenshot(page, 'trader-running');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'saves risk limits, and refuses a bad value at its field',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      const field = byTestId(page, 'trader-limit-maxOrdersPerMinute');
      const save = byTestId(page, 'trader-limits-save');
      await field.fill('0');
      await byTestId(page, 'trader-limit-maxOrdersPerMinute-error').waitFor();
      expect(await field.getAttribute('aria-invalid')).toBe('true');
      expect(await save.isEnabled()).toBe(false);
      await field.fill('2.5');
      expect(await text(page, 'trader-limit-maxOrdersPerMinute-error')).toBe('must be a whole number');
      await screenshot(page, 'trader-limits-invalid');

      await field.fill('45');
      await byTestId(page, 'trader-limit-maxOrdersPerMinute-error').waitFor({ state: 'detached' });
      await byTestId(page, 'trader-limit-maxDailyLoss').fill('750');
      await save.click();
      await expect.poll(() => text(page, 'trader-limits-status')).toBe('Saved, and in force now.');
      const limits = (await state()).limits;
      expect(limits.maxOrdersPerMinute).toBe(45);
      expect(limits.maxDailyLoss).toBe(750);
      // Saved into its configuration too (it survives a restart).
      const config = (await call<ServiceInfo>('services.get', { name: trader })).definition.config as {
        limits?: { maxOrdersPerMinute?: number };
      };
      expect(config.limits?.maxOrdersPerMinute).toBe(45);
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'stops opening with the block in words, resumes, flattens by the kill switch, and stops flat',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      await byTestId(page, 'trader-view', { 'data-running': 'true' }).waitFor();

      // Stop opening new positions: it keeps running, and says why it opens nothing.
      await byTestId(page, 'trader-page-stop').click();
      const stopDialog = byTestId(page, 'trader-stop-dialog', { 'data-action': 'stop' });
      await stopDialog.waitFor();
      expect(await text(page, 'trader-stop-dialog-holdings')).toMatch(/^It holds/);
      await byTestId(page, 'trader-stop-dialog-opening').click();
      await stopDialog.waitFor({ state: 'detached' });
      const person = byTestId(page, 'trader-block-person');
      await person.waitFor();
      expect(await person.textContent()).toMatch(/^Paused by you: no new positions are opened/);
      expect((await state()).blocks).toContain('person');
      expect(await serviceState()).toBe('running');
      await screenshot(page, 'trader-opening-stopped');
      await byTestId(page, 'trader-resume').click();
      await person.waitFor({ state: 'detached' });
      expect((await state()).blocks).not.toContain('person');

      // The kill switch asks first; confirmed, it cancels and flattens, and blocks opening.
      const kill = byTestId(page, 'trader-kill');
      await kill.click();
      const killDialog = byTestId(page, 'trader-kill-confirm');
      await killDialog.waitFor();
      await byTestId(page, 'trader-kill-confirm-cancel').click();
      await killDialog.waitFor({ state: 'detached' });
      expect((await state()).blocks).not.toContain('kill-switch');
      await kill.click();
      await byTestId(page, 'trader-kill-confirm-ok').click();
      await byTestId(page, 'trader-block-kill-switch').waitFor();
      await byTestId(page, 'trader-positions', { 'data-open': '0' }).waitFor();
      await byTestId(page, 'trader-working', { 'data-count': '0' }).waitFor();
      const killed = await state();
      expect(killed.blocks).toContain('kill-switch');
      expect(killed.positions.filter((p) => p.qty !== 0)).toEqual([]);
      await screenshot(page, 'trader-killed');
      await byTestId(page, 'trader-resume').click();
      await byTestId(page, 'trader-block-kill-switch').waitFor({ state: 'detached' });

      // Stop and flatten: stopped, and nothing held.
      await byTestId(page, 'trader-page-stop').click();
      await stopDialog.waitFor();
      await byTestId(page, 'trader-stop-dialog-ok').click();
      await byTestId(page, 'trader-view', { 'data-state': 'stopped' }).waitFor({ timeout: WAIT });
      await byTestId(page, 'trader-view', { 'data-running': 'false' }).waitFor();
      await byTestId(page, 'trader-positions-none').waitFor();
      const stopped = await state();
      expect(stopped.running).toBe(false);
      expect(stopped.positions.filter((p) => p.qty !== 0)).toEqual([]);
      expect(await serviceState()).toBe('stopped');
      expect(await text(page, 'trader-opening')).toMatch(/^Not running/);
      await screenshot(page, 'trader-stopped-flat');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it('leaves the server running after everything above', () => {
    expect(session.server.alive(), session.server.output()).toBe(true);
  });
});
