/**
 * The scaffolding every browser test shares: `uiSession()` registers the hooks that start the headless
 * server (demo mode), Chromium and an API client before the file's tests and close them all after
 * (contexts, client, browser, server, data directory); the helpers find elements by `data-testid`,
 * read their text and take screenshots into `test-results/`.
 *
 * Call `uiSession()` once, at the top of a test file. Its `server`, `browser` and `client` exist only
 * once the hooks have run, so read them as `session.server` inside tests and hooks, never destructured
 * at load time; its functions (`newPage`, `open`, `call`) can be destructured.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { connect, type TestClient } from '../../helpers/ws-client';
import { launchChromium } from './chromium';
import { repoRoot, startHeadless, type HeadlessServer } from './headless-server';

/** Waits are generous: this machine is shared, and Chromium plus the server share two cores. */
export const WAIT = 30_000;
const shotsDir = join(repoRoot, 'test-results');

export interface Viewport {
  width: number;
  height: number;
}

export interface UiSessionOptions {
  /** Every new page's viewport, unless `newPage` says otherwise. */
  viewport: Viewport;
  /** Connect an API client (`client`, `call`) for the tests' own commands; default true. */
  api?: boolean;
}

export interface UiSession {
  readonly server: HeadlessServer;
  readonly browser: Browser;
  readonly client: TestClient;
  /** A page in a context of its own (own sessionStorage: one test's token never leaks into another). */
  newPage(viewport?: Partial<Viewport>): Promise<Page>;
  /** Opens the server's URL (token included) at `hash`, and waits until the UI is connected. */
  open(page: Page, hash?: string): Promise<void>;
  /** Runs a command through the API client; a refusal (`ok: false`) throws. */
  call<T>(command: string, input?: unknown): Promise<T>;
}

export function byTestId(page: Page, id: string, attrs: Record<string, string> = {}): Locator {
  const extra = Object.entries(attrs)
    .map(([k, v]) => `[${k}="${v}"]`)
    .join('');
  return page.locator(`[data-testid="${id}"]${extra}`);
}

export async function waitConnection(page: Page, state = 'connected'): Promise<void> {
  await byTestId(page, 'connection-indicator', { 'data-state': state }).waitFor();
}

/** The trimmed text of the first element with this test id. */
export async function text(page: Page, id: string): Promise<string> {
  return ((await byTestId(page, id).first().textContent()) ?? '').trim();
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(shotsDir, `${name}.png`), fullPage: true });
}

export function uiSession(options: UiSessionOptions): UiSession {
  const withApi = options.api ?? true;
  let server: HeadlessServer | undefined;
  let browser: Browser | undefined;
  let client: TestClient | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(shotsDir, { recursive: true });
    server = await startHeadless({ demo: true });
    browser = await launchChromium();
    if (withApi) client = await connect(`ws://127.0.0.1:${server.port}/api/ws?token=${server.token}`);
  }, 90_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await client?.close();
    await browser?.close();
    await server?.stop();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  }, 60_000);

  const session: UiSession = {
    get server() {
      return started(server, 'server');
    },
    get browser() {
      return started(browser, 'browser');
    },
    get client() {
      if (!withApi) throw new Error('this uiSession was created with api: false: it has no client');
      return started(client, 'client');
    },
    newPage: async (viewport = {}) => {
      const context = await session.browser.newContext({ viewport: { ...options.viewport, ...viewport } });
      context.setDefaultTimeout(WAIT);
      contexts.push(context);
      return context.newPage();
    },
    open: async (page, hash = '') => {
      await page.goto(`${session.server.url}${hash}`);
      await waitConnection(page, 'connected');
    },
    call: async <T>(command: string, input: unknown = {}): Promise<T> => {
      const reply = await session.client.call(command, input);
      if (!reply.ok) throw new Error(`${command} failed: ${JSON.stringify(reply.error)}`);
      return reply.result as T;
    },
  };
  return session;
}

function started<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`uiSession: no ${what} yet (it is started in beforeAll)`);
  return value;
}
