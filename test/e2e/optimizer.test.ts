/**
 * The Optimizer page in Chromium.
 *
 * On a stand-in API (support/fake-optimizer.ts, installed as `window.vigil` before the renderer
 * loads): the form built from a strategy's ParamSpecs, problems at their fields (typed, and refused
 * by the optimizer with what to do), a search submitted and followed to done by progress events,
 * the trial table sorted both ways, the heat map over two chosen parameters (labelled cells, legend,
 * keyboard), a trial's equity curve in and out of sample, Apply to a trader after a confirmation
 * naming the trader, strategy, parameters and the reload, and Cancel.
 *
 * On the real headless server (demo mode): the page renders from `optimizer.strategies` or says what
 * to do when the optimizer is not available; and the same full flow over the demo's recorded candles,
 * run by the real optimizer service.
 */
import type { Locator, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { OptimizerRun, StrategyInfo } from '../../src/shared/optimizer-api';
import type { MarketSeriesResult } from '../../src/shared/market-api';
import type { ServiceInfo } from '../../src/shared/services';
import type { TraderSnapshot } from '../../src/shared/trader-api';
import { installFakeVigil, type FakeVigilRecord } from './support/fake-optimizer';
import { collectPageErrors } from './support/page-errors';
import { byTestId, screenshot, text, uiSession } from './support/ui-session';

const TEST_TIMEOUT = 120_000;

const session = uiSession({ viewport: { width: 1500, height: 1600 } });
const { newPage, open, call } = session;

// ---- helpers ----

const pad = (n: number) => String(n).padStart(2, '0');
/** Epoch ms as a datetime-local input takes it (local time, to the second). */
function localInput(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}` +
    `T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
  );
}

const field = (page: Page, name: string): Locator => byTestId(page, `opt-field-${name}`);

async function setGrid(page: Page, param: string, min: number, max: number, step: number): Promise<void> {
  await field(page, `params-${param}-mode`).selectOption('search');
  await field(page, `params-${param}-min`).fill(String(min));
  await field(page, `params-${param}-max`).fill(String(max));
  await field(page, `params-${param}-step`).fill(String(step));
}

/** The numbers in one column of the trial table, top to bottom (null for "—"). */
async function columnValues(page: Page, column: string): Promise<(number | null)[]> {
  const cells = byTestId(page, 'optimizer-trial-row').locator(`td[data-col="${column}"]`);
  const raw = await cells.evaluateAll((tds) => tds.map((td) => td.getAttribute('data-value') ?? ''));
  return raw.map((v) => (v === '' ? null : Number(v)));
}

function expectOrdered(values: (number | null)[], order: 'asc' | 'desc'): void {
  const present = values.filter((v): v is number => v !== null);
  // Trials without a value come last, whichever the order.
  expect(values.slice(present.length).every((v) => v === null)).toBe(true);
  const sorted = [...present].sort((a, b) => (order === 'asc' ? a - b : b - a));
  expect(present).toEqual(sorted);
  expect(present.length).toBeGreaterThan(1);
}

async function sortBy(page: Page, column: string, expected: 'ascending' | 'descending'): Promise<void> {
  await byTestId(page, `optimizer-sort-${column}`).click();
  await page.locator(`th[aria-sort="${expected}"] [data-testid="optimizer-sort-${column}"]`).waitFor();
  // The rows follow the reply: wait until the column reads in order.
  await expect
    .poll(async () => {
      const values = (await columnValues(page, column)).filter((v): v is number => v !== null);
      const sorted = [...values].sort((a, b) => (expected === 'ascending' ? a - b : b - a));
      return values.length > 1 && values.every((v, i) => v === sorted[i]);
    })
    .toBe(true);
}

/** Every control and grid cell of the page has an accessible name (Chromium's accessibility tree). */
async function expectNamedControls(page: Page): Promise<void> {
  const snapshot = await byTestId(page, 'page-optimizer').ariaSnapshot();
  const unnamed = snapshot
    .split('\n')
    .filter((line) =>
      /^\s*- (textbox|combobox|button|checkbox|radio|spinbutton|gridcell|link|slider)(:|\s*\[|\s*$)/.test(
        line,
      ),
    );
  expect(unnamed, `controls without a name:\n${unnamed.join('\n')}`).toEqual([]);
}

async function fakeRecord(page: Page): Promise<FakeVigilRecord> {
  return page.evaluate(() => (globalThis as unknown as { __vigilFake: FakeVigilRecord }).__vigilFake);
}

/** The heat map, the trial table, the equity curve and Apply, on a finished run (either API). */
async function exploreResults(
  page: Page,
  opts: { x: string; y: string; cells: number; trader: string; strategyLabel: string },
): Promise<{ trialId: number; params: string }> {
  // The table: sorted by the in-sample score at first, best first; then by any column, both ways.
  await byTestId(page, 'optimizer-trial-row').first().waitFor();
  expect(await page.locator('th[aria-sort="descending"] [data-testid="optimizer-sort-score"]').count()).toBe(
    1,
  );
  expectOrdered(await columnValues(page, 'score'), 'desc');
  await sortBy(page, 'outOfSampleScore', 'descending');
  expectOrdered(await columnValues(page, 'outOfSampleScore'), 'desc');
  await sortBy(page, 'outOfSampleScore', 'ascending');
  expectOrdered(await columnValues(page, 'outOfSampleScore'), 'asc');
  // Lower is better for the drawdown: its first click sorts ascending. By keyboard, too.
  await byTestId(page, 'optimizer-sort-maxDrawdown:inSample').focus();
  await page.keyboard.press('Enter');
  await page
    .locator('th[aria-sort="ascending"] [data-testid="optimizer-sort-maxDrawdown:inSample"]')
    .waitFor();
  expect(await text(page, 'optimizer-trials-sort')).toContain('largest drawdown in sample, lowest first');
  await sortBy(page, 'totalReturn:outOfSample', 'descending');
  await screenshot(page, 'optimizer-trials-sorted');

  // The heat map over two chosen parameters: one labelled cell per pair, a legend.
  const grid = byTestId(page, 'optimizer-heatmap-grid');
  await grid.waitFor();
  await byTestId(page, 'optimizer-heatmap-x').selectOption(opts.x);
  await byTestId(page, 'optimizer-heatmap-y').selectOption(opts.y);
  await page
    .locator(`[data-testid="optimizer-heatmap-grid"][data-x="${opts.x}"][data-y="${opts.y}"]`)
    .waitFor();
  const cells = byTestId(page, 'optimizer-heatmap-cell');
  expect(await cells.count()).toBe(opts.cells);
  const labels = await cells.evaluateAll((els) => els.map((el) => el.getAttribute('aria-label') ?? ''));
  const pattern = new RegExp(`^${opts.x} [\\d.–]+( to [\\d.]+)?, ${opts.y} [\\d.]+( to [\\d.]+)?: `);
  for (const label of labels) expect(label).toMatch(pattern);
  expect(labels.some((l) => /score -?\d+\.\d{3}/.test(l))).toBe(true);
  expect(await byTestId(page, 'optimizer-heatmap-tick').count()).toBe(5);
  expect(await byTestId(page, 'optimizer-heatmap-legend').textContent()).toContain('no trial');
  // Swapping the axes by picking the other parameter across.
  await byTestId(page, 'optimizer-heatmap-x').selectOption(opts.y);
  await page
    .locator(`[data-testid="optimizer-heatmap-grid"][data-x="${opts.y}"][data-y="${opts.x}"]`)
    .waitFor();
  await byTestId(page, 'optimizer-heatmap-x').selectOption(opts.x);
  await page
    .locator(`[data-testid="optimizer-heatmap-grid"][data-x="${opts.x}"][data-y="${opts.y}"]`)
    .waitFor();
  await screenshot(page, 'optimizer-heatmap');

  // Keyboard: focus starts on the best cell; arrows move; Enter opens the cell's best trial.
  const focused = grid.locator('[role="gridcell"][tabindex="0"]');
  await focused.focus();
  const start = Number(await focused.getAttribute('data-x'));
  await page.keyboard.press(start > 0 ? 'ArrowLeft' : 'ArrowRight');
  await expect
    .poll(() => page.locator(':focus').getAttribute('data-x'))
    .toBe(String(start > 0 ? start - 1 : start + 1));
  await page.keyboard.press(start > 0 ? 'ArrowRight' : 'ArrowLeft');
  await page.keyboard.press('Enter');
  await page.locator('[data-testid="optimizer-trial"]:not([data-trial=""])').waitFor();

  // A trial from the table: its equity curve in and out of sample, its metrics side by side.
  const firstRow = byTestId(page, 'optimizer-trial-row').first();
  const trialId = Number(await firstRow.getAttribute('data-trial'));
  await byTestId(page, `optimizer-trial-open-${trialId}`).click();
  await byTestId(page, 'optimizer-trial', { 'data-trial': String(trialId) }).waitFor();
  await page
    .locator('[data-testid="optimizer-equity"]:not([data-in-sample="0"]):not([data-out-of-sample="0"])')
    .waitFor();
  // Both lines drawn (attached: a flat line, no trade out of sample, has no height to be "visible").
  await byTestId(page, 'optimizer-equity')
    .locator('.recharts-line path')
    .nth(1)
    .waitFor({ state: 'attached' });
  const metrics = await text(page, 'optimizer-trial-metrics');
  expect(metrics).toContain('in sample');
  expect(metrics).toContain('out of sample');
  expect(await text(page, 'optimizer-trial-score')).toMatch(/^-?\d+\.\d{3}$|^—$/);
  const params = await text(page, 'optimizer-trial-params');
  expect(params).toMatch(new RegExp(`${opts.x} [\\d.]+searched`));
  expect(params).toMatch(new RegExp(`${opts.y} [\\d.]+searched`));
  await screenshot(page, 'optimizer-trial');

  // Apply: a confirmation first, naming the trader, the strategy, the parameters and the reload.
  await byTestId(page, 'optimizer-apply-service').selectOption(opts.trader);
  await byTestId(page, 'optimizer-apply-button').click();
  const dialog = byTestId(page, 'optimizer-apply-dialog');
  await dialog.waitFor();
  expect(await text(page, 'optimizer-apply-dialog-service')).toContain(opts.trader);
  expect(await text(page, 'optimizer-apply-dialog-strategy')).toContain(opts.strategyLabel);
  const dialogParams = await text(page, 'optimizer-apply-dialog-params');
  expect(dialogParams).toMatch(new RegExp(`${opts.x} [\\d.]+`));
  expect(dialogParams).toMatch(new RegExp(`${opts.y} [\\d.]+`));
  expect(await text(page, 'optimizer-apply-dialog-reload')).toContain('takes effect at the trader’s reload');
  // Focus starts on Cancel, the safe answer; Escape cancels and nothing is written.
  expect(await page.locator(':focus').getAttribute('data-testid')).toBe('optimizer-apply-dialog-cancel');
  await screenshot(page, 'optimizer-apply-confirm');
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  expect(await byTestId(page, 'optimizer-apply-done').count()).toBe(0);
  await byTestId(page, 'optimizer-apply-button').click();
  await byTestId(page, 'optimizer-apply-dialog-ok').click();
  await byTestId(page, 'optimizer-apply-done').waitFor();
  expect(await text(page, 'optimizer-apply-done')).toContain(`written into ${opts.trader}’s configuration`);
  await byTestId(page, 'optimizer-apply-current').filter({ hasText: opts.trader }).waitFor();
  return { trialId, params: dialogParams };
}

// ---- on a stand-in API ----

describe('the Optimizer page on a stand-in optimizer API', () => {
  let page: Page;
  let errors: string[] = [];

  beforeAll(async () => {
    page = await newPage();
    errors = collectPageErrors(page);
    await page.addInitScript(installFakeVigil, { stepMs: 250, perStep: 2, now: Date.now() });
    await open(page, '#/optimizer');
    await byTestId(page, 'optimizer-form').waitFor();
  });

  it(
    'builds the form from the strategy’s parameter specs, with a name on every control',
    async () => {
      expect(await field(page, 'strategy').inputValue()).toBe('ma-crossover');
      for (const [name, min, max, step] of [
        ['fast', '2', '100', '2'],
        ['slow', '5', '400', '5'],
      ] as const) {
        await byTestId(page, `opt-param-${name}`, { 'data-mode': 'search' }).waitFor();
        expect(await field(page, `params-${name}-min`).inputValue()).toBe(min);
        expect(await field(page, `params-${name}-max`).inputValue()).toBe(max);
        expect(await field(page, `params-${name}-step`).inputValue()).toBe(step);
      }
      expect(await text(page, 'opt-trial-estimate')).toContain('Up to 4,000 trials');
      // Another strategy: its own parameters, the market and costs kept.
      await field(page, 'feeBps').fill('4');
      await field(page, 'strategy').selectOption('bollinger-reversion');
      await byTestId(page, 'opt-param-entryZ').waitFor();
      expect(await byTestId(page, 'opt-param-fast').count()).toBe(0);
      expect(await field(page, 'params-entryZ-step').inputValue()).toBe('0.25');
      expect(await text(page, 'opt-trial-estimate')).toContain('Up to 7,800 trials');
      expect(await field(page, 'feeBps').inputValue()).toBe('4');
      // Random search: min and max per parameter, a budget and a seed.
      await byTestId(page, 'opt-search-random').check();
      expect(await field(page, 'params-period-step').count()).toBe(0);
      await field(page, 'budget').fill('300');
      expect(await text(page, 'opt-trial-estimate')).toBe('300 trials');
      await byTestId(page, 'opt-search-grid').check();
      await field(page, 'strategy').selectOption('ma-crossover');
      await byTestId(page, 'opt-param-fast').waitFor();
      // No search yet: the runs list says how to start one.
      expect(await text(page, 'optimizer-runs-empty')).toContain('No searches yet');
      await expectNamedControls(page);
      await screenshot(page, 'optimizer-form');
    },
    TEST_TIMEOUT,
  );

  it(
    'shows each problem at its field: as typed, and as the optimizer refuses it, with what to do',
    async () => {
      await field(page, 'params-fast-max').fill('101');
      await byTestId(page, 'opt-field-params-fast-error')
        .filter({ hasText: 'must be at most 100' })
        .waitFor();
      expect(await field(page, 'params-fast-max').getAttribute('aria-invalid')).toBe('true');
      expect(await byTestId(page, 'opt-submit').isDisabled()).toBe(true);
      expect(await text(page, 'opt-submit-status')).toBe('Fix the fields marked in red to start.');
      await field(page, 'params-fast-max').fill('20');
      await field(page, 'outOfSample').fill('95');
      expect(await text(page, 'opt-field-outOfSample-error')).toBe('must be from 0 to 90 (%)');
      await field(page, 'outOfSample').fill('30');
      await field(page, 'symbol').fill('');
      await byTestId(page, 'opt-field-symbol-error').waitFor();

      // The optimizer has no data for this symbol: its refusal lands at the field, with the way out.
      await field(page, 'symbol').fill('nodata');
      expect(await field(page, 'symbol').inputValue()).toBe('NODATA');
      await byTestId(page, 'opt-submit').click();
      await byTestId(page, 'opt-field-symbol-error')
        .filter({ hasText: 'no market data recorded for NODATA' })
        .waitFor();
      expect(await text(page, 'opt-submit-advice')).toMatch(
        /^No market data recorded for this symbol yet: start a collector/,
      );
      expect(await byTestId(page, 'opt-submit-advice').locator('a[href="#/services"]').count()).toBe(1);
      // Editing the field clears the refusal.
      await field(page, 'symbol').fill('BTCUSDT');
      expect(await byTestId(page, 'opt-field-symbol-error').count()).toBe(0);
    },
    TEST_TIMEOUT,
  );

  it(
    'submits a search and follows its progress to done by events, with the run’s split, gaps and strategy version',
    async () => {
      await setGrid(page, 'fast', 4, 20, 4);
      await setGrid(page, 'slow', 20, 100, 20);
      await field(page, 'minTrades').fill('5');
      expect(await text(page, 'opt-trial-estimate')).toContain('Up to 25 trials');
      await byTestId(page, 'opt-submit').click();
      await page.waitForURL(/#\/optimizer\/1$/);
      const row = byTestId(page, 'optimizer-run-1');
      await row.waitFor();
      // Queued, then running with a moving bar, then done: each step arrives as an event.
      await byTestId(page, 'optimizer-run-1', { 'data-status': 'running' }).waitFor();
      await page
        .locator('[data-testid="optimizer-run-1"][data-status="running"]:not([data-done="0"])')
        .waitFor();
      expect(await byTestId(page, 'optimizer-run-detail-status').getAttribute('data-status')).toBe('running');
      await screenshot(page, 'optimizer-running');
      await byTestId(page, 'optimizer-run-1', {
        'data-status': 'done',
        'data-done': '24',
        'data-total': '24',
      }).waitFor();
      expect(await byTestId(page, 'optimizer-run-progress-1').first().getAttribute('value')).toBe('1');
      expect(await row.textContent()).toContain('24 of 24');
      const detail = byTestId(page, 'optimizer-run-detail', { 'data-status': 'done' });
      await detail.waitFor();
      expect(await detail.textContent()).toContain('1 parameter sets skipped');
      expect(await text(page, 'optimizer-run-version')).toBe('version 3');
      expect(await text(page, 'optimizer-run-in-sample')).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d → \d{4}-/);
      expect(await text(page, 'optimizer-run-out-of-sample')).toContain('never used to choose');
      expect(await byTestId(page, 'optimizer-run-gap').count()).toBe(1);
      expect(await byTestId(page, 'optimizer-cancel').count()).toBe(0);
      // State came by events: one run read per status change at most, never a polling loop.
      const record = await fakeRecord(page);
      expect(record.calls.filter((c) => c === 'optimizer.run').length).toBeLessThanOrEqual(3);
      expect(record.submitted).toHaveLength(2);
      expect(record.submitted[1]).toMatchObject({
        strategy: 'ma-crossover',
        symbol: 'BTCUSDT',
        space: {
          type: 'grid',
          params: { fast: { min: 4, max: 20, step: 4 }, slow: { min: 20, max: 100, step: 20 } },
        },
        constraints: { minTrades: 5 },
        outOfSample: 0.3,
      });
    },
    TEST_TIMEOUT,
  );

  it(
    'sorts the trials, maps two parameters with a legend, opens a trial’s equity curve and applies it to a trader',
    async () => {
      const { trialId } = await exploreResults(page, {
        x: 'fast',
        y: 'slow',
        cells: 25,
        trader: 'paper-trader',
        strategyLabel: 'Moving-average crossover',
      });
      // The refused pair (fast 20 ≥ slow 20) is a cell without a trial; the lucky spike is the best.
      await byTestId(page, 'optimizer-heatmap-x').selectOption('fast');
      const empty = page.locator('[data-testid="optimizer-heatmap-cell"][data-kind="empty"]');
      expect(await empty.count()).toBe(1);
      expect(await empty.getAttribute('aria-label')).toBe('fast 20, slow 20: no trial');
      const best = page.locator('[data-testid="optimizer-heatmap-cell"][data-best="true"]');
      expect(await best.getAttribute('aria-label')).toMatch(/^fast 4, slow 100: best in-sample score 3\.200/);
      const record = await fakeRecord(page);
      expect(record.applied).toEqual([{ runId: 1, trialId, service: 'paper-trader' }]);
      await expectNamedControls(page);
    },
    TEST_TIMEOUT,
  );

  it(
    'cancels a running search',
    async () => {
      await byTestId(page, 'opt-submit').click();
      await page.waitForURL(/#\/optimizer\/2$/);
      await byTestId(page, 'optimizer-cancel').click();
      await byTestId(page, 'optimizer-run-2', { 'data-status': 'cancelled' }).waitFor();
      expect(await text(page, 'optimizer-run-error-text')).toBe('Cancelled: cancelled by request');
      // Back to the first run by its row, with the keyboard.
      await byTestId(page, 'optimizer-run-1').locator('a').focus();
      await page.keyboard.press('Enter');
      await page.waitForURL(/#\/optimizer\/1$/);
      await byTestId(page, 'optimizer-run-detail', { 'data-run': '1' }).waitFor();
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );
});

// ---- on the real headless server ----

describe('the Optimizer page on the headless server', () => {
  it(
    'renders the form from optimizer.strategies, or says what to do when the optimizer is not available',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page, '#/optimizer');
      await byTestId(page, 'optimizer-new').waitFor();
      const strategies = await session.client.call('optimizer.strategies', {});
      if (!strategies.ok) {
        await byTestId(page, 'optimizer-strategies-error').waitFor();
        expect(await text(page, 'optimizer-strategies-advice')).toContain('start it in Services');
      } else if ((strategies.result as StrategyInfo[]).length === 0) {
        expect(await text(page, 'optimizer-strategies-empty')).toContain('no strategies to search');
      } else {
        const first = (strategies.result as StrategyInfo[])[0]!;
        await byTestId(page, 'optimizer-form').waitFor();
        expect(await field(page, 'strategy').inputValue()).toBe(first.id);
        for (const spec of first.params) {
          await byTestId(page, `opt-param-${spec.name}`).waitFor();
          expect(await field(page, `params-${spec.name}-min`).inputValue()).toBe(String(spec.min));
          expect(await field(page, `params-${spec.name}-max`).inputValue()).toBe(String(spec.max));
          expect(await field(page, `params-${spec.name}-step`).inputValue()).toBe(String(spec.step));
        }
      }
      const runs = await session.client.call('optimizer.runs', {});
      if (!runs.ok) {
        await byTestId(page, 'optimizer-runs-error').waitFor();
        expect(await byTestId(page, 'optimizer-runs-error-note').getAttribute('data-code')).toBe(
          runs.error.code,
        );
        const advice = await text(page, 'optimizer-runs-advice');
        expect(advice).toContain(
          'The optimizer service is not running or not available: start it in Services',
        );
        expect(await byTestId(page, 'optimizer-runs-advice').locator('a[href="#/services"]').count()).toBe(1);
      } else {
        await byTestId(
          page,
          (runs.result as { total: number }).total === 0 ? 'optimizer-runs-empty' : 'optimizer-runs-table',
        ).waitFor();
      }
      await expectNamedControls(page);
      await screenshot(page, 'optimizer-headless');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it('runs a search over the demo’s recorded candles end to end, and applies a trial to a trader', async () => {
    const probe = await session.client.call('optimizer.runs', {});
    expect(probe.ok, JSON.stringify(probe)).toBe(true);

    // The optimizer service runs searches: start it if it is not up.
    const services = await call<ServiceInfo[]>('services.list');
    const optimizer = services.find((s) => s.kind === 'optimizer');
    expect(optimizer, 'a service of kind optimizer').toBeDefined();
    if (optimizer!.state !== 'running') await call('services.start', { name: optimizer!.name });
    // The demo's paper trader receives the result, running: the new parameters are taken by a reload.
    await call('services.start', { name: 'trader', confirm: { mode: 'paper' } });

    // Wait for about two minutes of 1 s candles from the demo's simulated Binance spot market.
    let first = 0;
    await expect
      .poll(
        async () => {
          const now = Date.now();
          const series = await call<MarketSeriesResult>('market.series', {
            venue: 'binance-spot',
            symbol: 'BTCUSDT',
            from: now - 3_600_000,
            to: now,
            resolution: '1s',
            maxPoints: 2000,
            include: ['candles'],
          });
          first = series.candles?.points[0]?.at ?? now;
          return now - first;
        },
        { timeout: 240_000, interval: 5_000 },
      )
      .toBeGreaterThan(130_000);
    const from = Math.ceil((first + 5_000) / 1000) * 1000;
    const to = Math.floor((Date.now() - 3_000) / 1000) * 1000;

    const page = await newPage();
    const errors = collectPageErrors(page);
    await open(page, '#/optimizer');
    await byTestId(page, 'optimizer-form').waitFor();
    await field(page, 'strategy').selectOption('ma-crossover');
    await field(page, 'venue').selectOption('binance-spot');
    await field(page, 'symbol').fill('BTCUSDT');
    await field(page, 'resolution').selectOption('1s');
    await field(page, 'from').fill(localInput(from));
    await field(page, 'to').fill(localInput(to));
    await setGrid(page, 'fast', 2, 6, 2);
    await setGrid(page, 'slow', 10, 30, 10);
    await field(page, 'allowGaps').check();
    expect(await text(page, 'opt-trial-estimate')).toContain('Up to 9 trials');
    await byTestId(page, 'opt-submit').click();
    await page.waitForURL(/#\/optimizer\/\d+$/);
    const id = Number(/(\d+)$/.exec(page.url())![1]);
    await byTestId(page, `optimizer-run-${id}`, { 'data-status': 'done' }).waitFor({ timeout: 120_000 });
    const run = await call<OptimizerRun>('optimizer.run', { id });
    expect(run.progress.done).toBe(run.progress.total);
    expect(await text(page, 'optimizer-run-version')).toBe(`version ${run.strategyVersion}`);
    await byTestId(page, 'optimizer-run-gaps').waitFor();

    const { params } = await exploreResults(page, {
      x: 'fast',
      y: 'slow',
      cells: 9,
      trader: 'trader',
      strategyLabel: 'ma-crossover',
    });
    const trader = await call<ServiceInfo>('services.get', { name: 'trader' });
    const strategy = (
      trader.definition.config as { strategy?: { id: string; params: Record<string, number> } }
    ).strategy;
    expect(strategy?.id).toBe('ma-crossover');
    for (const [name, value] of Object.entries(strategy!.params)) {
      if (name === 'fast' || name === 'slow') expect(params).toContain(`${name} ${value}`);
    }
    // Saved, not yet live: the running trader takes it when a person reloads it from here.
    expect(trader.pendingChanges).toBe(true);
    await byTestId(page, 'optimizer-apply-reload').click();
    await expect
      .poll(
        async () => {
          const state = await call<TraderSnapshot>('trader.state', { name: 'trader' });
          return state.strategy.source?.runId === id && !state.reloading ? state.strategy.params : null;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toEqual(expect.objectContaining({ fast: strategy!.params.fast, slow: strategy!.params.slow }));
    expect((await call<ServiceInfo>('services.get', { name: 'trader' })).pendingChanges).toBe(false);
    await call('services.stop', { name: 'trader' });
    expect(errors).toEqual([]);
  }, 420_000);
});
