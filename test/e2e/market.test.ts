/**
 * The Market page against the real headless server in demo mode: the simulator and the five
 * collectors, driven through the simulator's own fault endpoint (`/__sim/fault`). Freshness colours
 * follow a stalled feed (amber, then red when the feed stays dead past the collector's stale limit)
 * and come back green; an injected sequence gap appears in the gap ledger; the chosen symbol shows
 * its top of book, a chart, and DVOL for Deribit.
 */
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { collectPageErrors } from './support/page-errors';
import { byTestId, screenshot, uiSession } from './support/ui-session';

const TEST_TIMEOUT = 180_000;
const DEMO_STREAMS: [string, string[]][] = [
  ['binance-spot', ['BTCUSDT', 'ETHUSDT']],
  ['binance-usdm', ['BTCUSDT', 'ETHUSDT']],
  ['okx-spot', ['BTC-USDT', 'ETH-USDT']],
  ['okx-swap', ['BTC-USDT-SWAP', 'ETH-USDT-SWAP']],
  ['deribit', ['BTC-PERPETUAL', 'ETH-PERPETUAL']],
];

// Tall: the page scrolls inside its frame, so a screenshot shows what fits the viewport.
const session = uiSession({ viewport: { width: 1280, height: 2000 } });
const { newPage, open, call } = session;
let page: Page;
let okxUrl: string;
let usdmUrl: string;
let errors: string[] = [];

/** Posts a fault to the simulator server at `base` (one of the URLs the simulator reported). */
async function fault(base: string, body: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${base}/__sim/fault`, { method: 'POST', body: JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) throw new Error(`fault ${JSON.stringify(body)} refused: ${res.status} ${text}`);
}

async function until<T>(
  check: () => Promise<T | undefined> | T | undefined,
  what: string,
  ms = 60_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${session.server.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('Market page on the demo', () => {
  beforeAll(async () => {
    // Where this demo's simulator listens: it says so when it is ready.
    const urls = await until(async () => {
      const sim = await call<{ state: string; detail: { urls?: Record<string, { rest: string }> } | null }>(
        'services.get',
        { name: 'simulator' },
      );
      return sim.state === 'running' && sim.detail?.urls ? sim.detail.urls : undefined;
    }, 'the simulator ready with its URLs');
    okxUrl = urls['okx-spot']!.rest;
    usdmUrl = urls['binance-usdm']!.rest;
    page = await newPage();
    errors = collectPageErrors(page);
    await open(page, '#/market');
  }, 120_000);

  it(
    'shows every demo stream green in the matrix, with rates, and each collector’s health',
    async () => {
      await byTestId(page, 'simulated-banner').waitFor();
      await byTestId(page, 'market-matrix').waitFor();
      for (const [venue, symbols] of DEMO_STREAMS) {
        for (const symbol of symbols) {
          for (const type of ['trade', 'book', 'top']) {
            await byTestId(page, `cell-${venue}-${symbol}-${type}`, { 'data-freshness': 'green' }).waitFor({
              timeout: 60_000,
            });
          }
        }
        await byTestId(page, `collector-health-${venue}`, { 'data-health': 'healthy' }).waitFor({
          timeout: 60_000,
        });
        expect(await byTestId(page, `collector-reconnects-${venue}`).textContent()).toMatch(/^\d+$/);
        expect(await byTestId(page, `collector-parse-errors-${venue}`).textContent()).toMatch(/^\d+$/);
      }
      // Derivatives streams too, each against its own limit; DVOL per currency on Deribit.
      for (const id of [
        'cell-binance-usdm-BTCUSDT-funding',
        'cell-okx-swap-BTC-USDT-SWAP-funding',
        'cell-deribit-BTC-PERPETUAL-oi',
        'cell-deribit-BTC-dvol',
      ]) {
        await byTestId(page, id, { 'data-freshness': 'green' }).waitFor({ timeout: 60_000 });
      }
      // Rates from the 1 Hz metrics, live bid/ask per row from the top of book.
      await byTestId(page, 'cell-binance-spot-BTCUSDT-book')
        .locator('[data-testid="stream-rate"]')
        .filter({ hasNotText: /^0\.0$/ })
        .waitFor();
      await byTestId(page, 'row-top-okx-swap-BTC-USDT-SWAP')
        .filter({ hasText: /\d+\.\d+ \/ \d/ })
        .waitFor();
      // Nothing is "not collected" where the venue has the data; spot venues have no funding cell.
      expect(await byTestId(page, 'cell-binance-spot-BTCUSDT-funding').count()).toBe(0);
      expect(await page.locator('[data-testid^="cell-"][data-freshness="red"]').count()).toBe(0);
      await screenshot(page, 'market-matrix-green');
    },
    TEST_TIMEOUT,
  );

  it(
    'shows the chosen symbol’s bid, ask, spread and a chart, and DVOL for Deribit',
    async () => {
      await byTestId(page, 'matrix-row-binance-spot-BTCUSDT').locator('button').click();
      const panel = byTestId(page, 'symbol-panel', {
        'data-venue': 'binance-spot',
        'data-symbol': 'BTCUSDT',
      });
      await panel.waitFor();
      const price = /^\d{1,3}(,\d{3})*\.\d+$/;
      await byTestId(page, 'top-bid').filter({ hasText: price }).waitFor();
      await byTestId(page, 'top-ask').filter({ hasText: price }).waitFor();
      await byTestId(page, 'top-spread').filter({ hasText: /^\d/ }).waitFor();
      // Both read in one go: the quote moves between two separate reads.
      const [bid, ask] = (
        await panel.locator('[data-testid="top-bid"], [data-testid="top-ask"]').allTextContents()
      ).map((t) => Number(t.replace(/,/g, '')));
      expect(ask).toBeGreaterThan(bid!);
      // The chart: recorded candles and the live mid, drawn.
      await page.locator('[data-testid="price-chart"]:not([data-candles="0"]):not([data-live="0"])').waitFor({
        timeout: 60_000,
      });
      await byTestId(page, 'price-chart').locator('.recharts-line path').first().waitFor();
      expect(await byTestId(page, 'sym-spot').textContent()).toContain('spot market');
      await screenshot(page, 'market-symbol-binance-spot');

      // Deribit: funding, open interest, DVOL of the instrument's currency; complete liquidations.
      await byTestId(page, 'symbol-venue').selectOption('deribit');
      await byTestId(page, 'symbol-panel', {
        'data-venue': 'deribit',
        'data-symbol': 'BTC-PERPETUAL',
      }).waitFor();
      await page.locator('[data-testid="sym-dvol"]:not([data-points="0"])').waitFor({ timeout: 60_000 });
      expect(await byTestId(page, 'sym-dvol').textContent()).toContain('DVOL BTC');
      await page.locator('[data-testid="sym-funding"]:not([data-points="0"])').waitFor();
      await page.locator('[data-testid="sym-oi"]:not([data-points="0"])').waitFor();
      expect(await byTestId(page, 'liquidations-label').textContent()).toBe('complete');
      await byTestId(page, 'top-bid').filter({ hasText: price }).waitFor();
      await screenshot(page, 'market-symbol-deribit');

      // Binance USD-M: its liquidations are the exchange's sample, and say so.
      await byTestId(page, 'matrix-row-binance-usdm-BTCUSDT').locator('button').click();
      await byTestId(page, 'symbol-panel', { 'data-venue': 'binance-usdm' }).waitFor();
      await byTestId(page, 'liquidations-label', { 'data-completeness': 'sampled' }).waitFor();
      expect(await byTestId(page, 'sym-dvol').count()).toBe(0);
    },
    TEST_TIMEOUT,
  );

  it(
    'lists a sequence gap in the ledger as soon as the collector counts it, and filters the ledger',
    async () => {
      await byTestId(page, 'gap-ledger').waitFor();
      const rows = () =>
        byTestId(page, 'gap-row', {
          'data-venue': 'binance-usdm',
          'data-symbol': 'BTCUSDT',
          'data-cause': 'sequence',
        });
      const before = await rows().count();
      await fault(usdmUrl, { type: 'gap', venue: 'binance-usdm', symbol: 'BTCUSDT' });
      await until(
        async () => ((await rows().count()) > before ? true : undefined),
        'the gap in the ledger',
        60_000,
      );
      // The matrix counts it on the book stream too.
      await byTestId(page, 'cell-binance-usdm-BTCUSDT-book').locator('[data-testid="stream-gaps"]').waitFor();
      // The resync closes it: no longer open.
      await rows().and(page.locator('[data-open="false"]')).first().waitFor();

      // Filters: another venue hides it; its own venue and cause keep it.
      await byTestId(page, 'gap-filter-venue').selectOption('deribit');
      await until(
        async () => ((await rows().count()) === 0 ? true : undefined),
        'the ledger filtered to deribit',
      );
      await byTestId(page, 'gap-filter-venue').selectOption('binance-usdm');
      await byTestId(page, 'gap-filter-symbol').selectOption('BTCUSDT');
      await byTestId(page, 'gap-filter-cause').selectOption('sequence');
      await rows().first().waitFor();
      expect(await byTestId(page, 'gap-row').count()).toBe(await rows().count());
      await byTestId(page, 'gap-ledger').scrollIntoViewIfNeeded();
      await screenshot(page, 'market-gap-ledger');
      await byTestId(page, 'gap-filter-cause').selectOption('');
      await byTestId(page, 'gap-filter-symbol').selectOption('');
      await byTestId(page, 'gap-filter-venue').selectOption('');
    },
    TEST_TIMEOUT,
  );

  it(
    'turns a stalled feed amber past half its stale limit, then green again when it resumes',
    async () => {
      const cell = (freshness: string) =>
        byTestId(page, 'cell-okx-spot-BTC-USDT-top', { 'data-freshness': freshness });
      await cell('green').waitFor({ timeout: 60_000 });
      // 20 s of silence on open sockets: past half of the 30 s limit, not past it (the socket survives).
      await fault(okxUrl, { type: 'stall', venue: 'okx-spot', ms: 20_000 });
      await cell('amber').waitFor({ timeout: 40_000 });
      await screenshot(page, 'market-stall-amber');
      await cell('green').waitFor({ timeout: 60_000 });
    },
    TEST_TIMEOUT,
  );

  it(
    'turns a stream red when its feed stays dead past the stale limit, then green once it is back',
    async () => {
      const cell = (freshness: string) =>
        byTestId(page, 'cell-okx-spot-BTC-USDT-top', { 'data-freshness': freshness });
      await cell('green').waitFor({ timeout: 60_000 });
      // The feed stalls, and stays dead on the new connections the collector's watchdog opens: no data
      // for longer than staleAfterMs (30 s).
      await fault(okxUrl, { type: 'stall', venue: 'okx-spot', ms: 120_000 });
      await cell('amber').waitFor({ timeout: 40_000 });
      await cell('red').waitFor({ timeout: 60_000 });
      // Every okx-spot stream is red, and the collector says why.
      for (const type of ['trade', 'book']) {
        await byTestId(page, `cell-okx-spot-BTC-USDT-${type}`, { 'data-freshness': 'red' }).waitFor();
      }
      await byTestId(page, 'collector-health-okx-spot', { 'data-health': 'degraded' }).waitFor();
      // Unrelated venues stay green.
      expect(await byTestId(page, 'cell-binance-spot-BTCUSDT-top').getAttribute('data-freshness')).toBe(
        'green',
      );
      await screenshot(page, 'market-stall-red');

      // The stall is lifted: the feed flows again, and the stream comes back green.
      await fault(okxUrl, { type: 'stall', venue: 'okx-spot', ms: 0 });
      await cell('green').waitFor({ timeout: 90_000 });
      await byTestId(page, 'collector-health-okx-spot', { 'data-health': 'healthy' }).waitFor({
        timeout: 60_000,
      });
      // The outage is in the ledger (the watchdog's stale connections).
      await byTestId(page, 'gap-row', { 'data-venue': 'okx-spot' }).first().waitFor({ timeout: 60_000 });
      await screenshot(page, 'market-recovered');
    },
    TEST_TIMEOUT,
  );

  it(
    'carries the top of book only while the page is open',
    async () => {
      const live = async () => (await call<{ live: boolean }>('market.top', {})).live;
      expect(await live()).toBe(true);
      await byTestId(page, 'nav-dashboard').click();
      await byTestId(page, 'page-dashboard').waitFor();
      await until(
        async () => ((await live()) ? undefined : true),
        'the core to stop carrying top of book',
        20_000,
      );
      await byTestId(page, 'nav-market').click();
      await byTestId(page, 'market-matrix').waitFor();
      await until(
        async () => ((await live()) ? true : undefined),
        'the core to carry top of book again',
        20_000,
      );
    },
    TEST_TIMEOUT,
  );

  it('had no console or page errors, and the server is still up', () => {
    expect(errors).toEqual([]);
    expect(session.server.alive(), session.server.output()).toBe(true);
  });
});
