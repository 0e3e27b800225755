/**
 * The browser UI against the real headless server: Chromium drives the built renderer over HTTP and
 * the WebSocket API, exactly as an operator's browser would.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/headless-server';
import { collectPageErrors } from './support/page-errors';
import { startProxy } from './support/tcp-proxy';
import { byTestId, screenshot, uiSession, waitConnection } from './support/ui-session';

const TEST_TIMEOUT = 120_000;
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

const navPages = [
  { id: 'dashboard', ready: 'dashboard-row-selfcheck' },
  { id: 'services', ready: 'service-row-selfcheck' },
  { id: 'market', ready: 'collector-binance-spot' },
  { id: 'optimizer', ready: 'optimizer-new' },
  { id: 'trader', ready: 'trader-mode-badge' },
  { id: 'events', ready: 'feed-status' },
  { id: 'settings', ready: 'info-version' },
] as const;

const session = uiSession({ viewport: { width: 1280, height: 800 }, api: false });
const { newPage, open } = session;

/** Unlike the shared `text`, insists on exactly one element with the id (Playwright's strict mode). */
async function text(page: Page, id: string): Promise<string> {
  return ((await byTestId(page, id).textContent()) ?? '').trim();
}

async function runInConsole(page: Page, command: string, input: string): Promise<void> {
  await byTestId(page, 'console-command').selectOption(command);
  await byTestId(page, 'console-input').fill(input);
  await byTestId(page, 'console-run').click();
}

describe('browser UI on the headless server', () => {
  it(
    'loads with no console or page errors, takes the token out of the address bar, and renders every page',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);
      expect(page.url()).not.toContain('token=');
      // Demo mode: every page says the market data is simulated.
      await byTestId(page, 'simulated-banner').waitFor();
      expect(await text(page, 'simulated-banner')).toMatch(/^SIMULATED MARKET DATA\./);

      for (const { id, ready } of navPages) {
        await byTestId(page, `nav-${id}`).click();
        await byTestId(page, `page-${id}`).waitFor();
        await byTestId(page, `page-${id}`).locator(`[data-testid="${ready}"]`).first().waitFor();
        expect(new URL(page.url()).hash).toBe(`#/${id}`);
        await screenshot(page, `page-${id}`);
      }
      // Market: each collector's streams with their live rate (from the 1 Hz metrics event).
      await byTestId(page, 'nav-market').click();
      const bookStream = byTestId(page, 'stream-binance-spot-BTCUSDT.book');
      await bookStream.waitFor();
      await bookStream
        .locator('[data-testid="stream-rate"]')
        .filter({ hasNotText: /^0\.0$/ })
        .waitFor();
      expect(await byTestId(page, 'collector-binance-usdm').textContent()).toContain('BTCUSDT.funding');
      // OKX and Deribit too, each in its own instrument names; Deribit with the DVOL index.
      await byTestId(page, 'stream-okx-swap-BTC-USDT-SWAP.book')
        .locator('[data-testid="stream-rate"]')
        .filter({ hasNotText: /^0\.0$/ })
        .waitFor();
      await byTestId(page, 'stream-deribit-BTC-PERPETUAL.book').waitFor();
      expect(await byTestId(page, 'collector-deribit').textContent()).toContain('BTC.dvol');
      await screenshot(page, 'market-demo');

      // A reload keeps working from the token saved for this tab.
      await page.reload();
      await waitConnection(page, 'connected');
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'round-trips commands: app.info in Settings, selfcheck started to running with its checks, then stopped',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page);

      await byTestId(page, 'nav-settings').click();
      expect(await text(page, 'info-version')).toBe(version);
      expect(await text(page, 'info-mode')).toBe('headless');
      expect(await text(page, 'info-data-dir')).toBe(session.server.dataDir);
      expect(await text(page, 'app-version')).toContain(version);

      await byTestId(page, 'nav-services').click();
      const row = byTestId(page, 'service-row-selfcheck');
      await row.and(page.locator('[data-state="stopped"]')).waitFor();
      expect(await byTestId(page, 'start-selfcheck').isEnabled()).toBe(true);
      expect(await byTestId(page, 'stop-selfcheck').isEnabled()).toBe(false);
      await row.click(); // selects it: the detail opens
      await byTestId(page, 'service-detail').waitFor();

      await byTestId(page, 'start-selfcheck').click();
      await byTestId(page, 'service-row-selfcheck', { 'data-state': 'running' }).waitFor();
      await byTestId(page, 'service-checks').waitFor();
      const checks = byTestId(page, 'service-checks').locator('li');
      expect(await checks.count()).toBeGreaterThanOrEqual(4);
      expect(await byTestId(page, 'service-checks').locator('li[data-ok="false"]').count()).toBe(0);
      for (const name of ['runtime', 'data directory', 'loopback network', 'event loop']) {
        expect(await byTestId(page, `check-${name}`).getAttribute('data-ok')).toBe('true');
      }
      expect(await text(page, 'detail-pid')).toMatch(/^\d+$/);
      // Heartbeats raise no event: the open detail re-reads the service, so their age shows up.
      await byTestId(page, 'detail-heartbeat')
        .filter({ hasText: /s ago$/ })
        .waitFor();
      expect(await byTestId(page, 'start-selfcheck').isEnabled()).toBe(false);
      await screenshot(page, 'services-selfcheck-running');

      // The dashboard counts follow the live state.
      await byTestId(page, 'nav-dashboard').click();
      await byTestId(page, 'dashboard-row-selfcheck', { 'data-state': 'running' }).waitFor();
      // Demo mode: the simulator, the five collectors and the optimizer run too; the demo's paper
      // trader stays stopped until a person starts it.
      await byTestId(page, 'count-running').filter({ hasText: /^8$/ }).waitFor();
      expect(await text(page, 'count-stopped')).toBe('1');
      await screenshot(page, 'dashboard-selfcheck-running');

      await byTestId(page, 'nav-services').click();
      // Pause and resume go through the child protocol; the row follows.
      await byTestId(page, 'pause-selfcheck').click();
      await byTestId(page, 'service-row-selfcheck', { 'data-state': 'paused' }).waitFor();
      await byTestId(page, 'resume-selfcheck').click();
      await byTestId(page, 'service-row-selfcheck', { 'data-state': 'running' }).waitFor();
      expect(await byTestId(page, 'pause-selfcheck').isEnabled()).toBe(true);

      await byTestId(page, 'stop-selfcheck').click();
      await byTestId(page, 'service-row-selfcheck', { 'data-state': 'stopped' }).waitFor();
      await byTestId(page, 'start-selfcheck').and(page.locator(':enabled')).waitFor();
      expect(await byTestId(page, 'stop-selfcheck').isEnabled()).toBe(false);
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'shows typed errors in the API console for bad input, and keeps serving afterwards',
    async () => {
      const page = await newPage();
      const errors = collectPageErrors(page);
      await open(page, '#/settings');
      await byTestId(page, 'page-settings').waitFor();
      // The console offers every command of the contract.
      const options = await byTestId(page, 'console-command').locator('option').allTextContents();
      expect(options).toEqual(
        expect.arrayContaining([
          'app.info',
          'services.list',
          'services.get',
          'services.start',
          'services.stop',
          'services.restart',
        ]),
      );

      await runInConsole(page, 'services.get', '{}');
      await byTestId(page, 'console-error', { 'data-code': 'invalid_input' }).waitFor();
      expect(await text(page, 'console-error-code')).toBe('invalid_input');
      expect(await text(page, 'console-error-field')).toBe('name');
      await screenshot(page, 'console-invalid-input');

      await runInConsole(page, 'services.get', '{"name":"nope"}');
      await byTestId(page, 'console-error', { 'data-code': 'not_found' }).waitFor();
      expect(await text(page, 'console-error-message')).toContain('nope');

      await runInConsole(page, 'services.get', '{"name":"selfcheck","extra":1}');
      await byTestId(page, 'console-error', { 'data-code': 'invalid_input' }).waitFor();
      expect(await text(page, 'console-error-field')).toBe('extra');

      // Not JSON: refused locally, nothing is sent.
      await runInConsole(page, 'services.get', '{"name":');
      await byTestId(page, 'console-local-error').waitFor();
      expect(await text(page, 'console-local-error')).toMatch(/not valid JSON/);

      await runInConsole(page, 'app.info', '{}');
      await byTestId(page, 'console-output', { 'data-ok': 'true' }).waitFor();
      const result = JSON.parse(await text(page, 'console-result')) as { mode: string; version: string };
      expect(result).toMatchObject({ mode: 'headless', version });
      await screenshot(page, 'console-app-info');
      expect(session.server.alive()).toBe(true);
      expect(errors).toEqual([]);
    },
    TEST_TIMEOUT,
  );

  it(
    'a wrong or missing token shows the auth-failed state and no API data, and a pasted token connects',
    async () => {
      const page = await newPage();
      await page.goto(`${session.server.origin}/?token=wrong#/services`);
      await waitConnection(page, 'auth-failed');
      await byTestId(page, 'auth-failed').waitFor();
      expect(await text(page, 'auth-failed')).toContain('open the URL printed by npm run headless');
      expect(page.url()).not.toContain('token=');
      expect(await page.locator('[data-testid^="service-row-"]').count()).toBe(0);
      expect(await byTestId(page, 'app-version').count()).toBe(0);
      expect(await byTestId(page, 'page-services').count()).toBe(0);
      await byTestId(page, 'nav-settings').click();
      expect(await byTestId(page, 'info-version').count()).toBe(0);
      await screenshot(page, 'auth-failed');

      await byTestId(page, 'token-input').fill(session.server.token);
      await byTestId(page, 'token-submit').click();
      await waitConnection(page, 'connected');
      await byTestId(page, 'info-version').waitFor();

      const bare = await newPage();
      await bare.goto(`${session.server.origin}/`);
      await waitConnection(bare, 'auth-failed');
      await byTestId(bare, 'auth-failed').waitFor();
    },
    TEST_TIMEOUT,
  );

  it(
    'survives a lost connection: pending calls fail as unavailable, then it reconnects and resubscribes',
    async () => {
      const proxy = await startProxy(session.server.port);
      try {
        const page = await newPage();
        await page.goto(`http://127.0.0.1:${proxy.port}/?token=${session.server.token}#/settings`);
        await waitConnection(page, 'connected');
        await byTestId(page, 'info-version').waitFor();

        // A call whose reply never arrives, then the connection drops under it.
        proxy.hold();
        await runInConsole(page, 'app.info', '{}');
        await byTestId(page, 'console-run').filter({ hasText: 'Running' }).waitFor();
        await proxy.cut();
        await byTestId(page, 'console-error', { 'data-code': 'unavailable' }).waitFor();
        await waitConnection(page, 'reconnecting');

        // While down, the last known state stays on screen, marked as such, and actions are off.
        await byTestId(page, 'nav-services').click();
        await byTestId(page, 'connection-banner').waitFor();
        await byTestId(page, 'service-row-selfcheck').waitFor();
        expect(await byTestId(page, 'start-selfcheck').isEnabled()).toBe(false);
        await screenshot(page, 'reconnecting');

        await proxy.restore();
        await waitConnection(page, 'connected');
        expect(await byTestId(page, 'connection-banner').count()).toBe(0);

        // `running` arrives only as an event: seeing it proves the subscription was renewed.
        await byTestId(page, 'start-selfcheck').and(page.locator(':enabled')).click();
        await byTestId(page, 'service-row-selfcheck', { 'data-state': 'running' }).waitFor();
        await byTestId(page, 'stop-selfcheck').click();
        await byTestId(page, 'service-row-selfcheck', { 'data-state': 'stopped' }).waitFor();
      } finally {
        await proxy.close();
      }
    },
    TEST_TIMEOUT,
  );

  it(
    'notices a link that goes silent without closing, and connects again',
    async () => {
      const proxy = await startProxy(session.server.port);
      try {
        const page = await newPage();
        await page.goto(`http://127.0.0.1:${proxy.port}/?token=${session.server.token}#/dashboard`);
        await waitConnection(page, 'connected');
        await byTestId(page, 'dashboard-row-selfcheck').waitFor();
        // Nothing closes: replies just stop (a laptop lid, a dead NAT entry). The UI's liveness
        // probe (10 s of silence, then 8 s to answer) must notice within about 20 s.
        proxy.hold();
        await byTestId(page, 'connection-indicator', { 'data-state': 'reconnecting' }).waitFor({
          timeout: 45_000,
        });
        proxy.release();
        await waitConnection(page, 'connected');
        await byTestId(page, 'dashboard-row-selfcheck').waitFor();
      } finally {
        await proxy.close();
      }
    },
    TEST_TIMEOUT,
  );

  it('leaves the server running after everything above', () => {
    expect(session.server.alive(), session.server.output()).toBe(true);
  });
});
