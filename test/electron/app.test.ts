/**
 * Smoke test of the real desktop app: Electron opens the built app (package.json main,
 * out/main/index.js) with a temporary userData folder, the dashboard appears, a service is started
 * and stopped through the UI, and quitting exits 0 and leaves no process behind (Electron's own
 * helpers or the services'). Needs the Electron binary: `npm run test:electron`, never `npm test`.
 */
import { mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { _electron, type ElectronApplication, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { descendantsOf, snapshotProcesses } from '../../src/main/supervisor/process-table';
import { isRunning } from '../helpers/processes';
import { electronBinary, repoRoot } from './electron-binary';

const WAIT = 60_000;

let userData = '';
let app: ElectronApplication | undefined;
let page: Page;
let exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
const output: string[] = [];

const byTestId = (id: string, attrs: Record<string, string> = {}) =>
  page.locator(
    `[data-testid="${id}"]${Object.entries(attrs)
      .map(([k, v]) => `[${k}="${v}"]`)
      .join('')}`,
  );

beforeAll(async () => {
  electronBinary(); // a clear failure, not a launch timeout, where Electron is missing
  userData = mkdtempSync(join(tmpdir(), 'vigil-smoke-'));
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // would make Electron a plain Node
  app = await _electron.launch({
    // The repo root: Electron reads package.json ("main": out/main/index.js), as `npm start` does.
    // Chromium's --user-data-dir sets Electron's userData path, which Vigil keeps its data in.
    args: [repoRoot, `--user-data-dir=${userData}`],
    cwd: repoRoot,
    env: env as Record<string, string>,
    timeout: WAIT,
  });
  const child = app.process();
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  page = await app.firstWindow({ timeout: WAIT });
  page.setDefaultTimeout(WAIT);
});

afterEach(({ task }) => {
  if (task.result?.state === 'fail')
    console.error(`--- app output (last 8 KB) ---\n${output.join('').slice(-8192)}`);
});

afterAll(async () => {
  // Only after a failure is the app still up here.
  const child = app?.process();
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  if (userData) rmSync(userData, { recursive: true, force: true, maxRetries: 5 });
});

describe('the desktop app (Electron)', () => {
  it('opens the dashboard from app://, without Node in the page, with its data in the given folder', async () => {
    await byTestId('page-dashboard').waitFor();
    await byTestId('connection-indicator', { 'data-state': 'connected' }).waitFor();
    expect(new URL(page.url()).origin).toBe('app://vigil');

    const where = await app!.evaluate(({ app }) => app.getPath('userData'));
    expect(realpathSync(where)).toBe(realpathSync(userData));

    // Checklist 2-3 seen from the page: no Node, only the preload's window.vigil.
    const globals = await page.evaluate(() => ({
      require: typeof (globalThis as Record<string, unknown>).require,
      process: typeof (globalThis as Record<string, unknown>).process,
      vigil: typeof (globalThis as Record<string, unknown>).vigil,
    }));
    expect(globals).toEqual({ require: 'undefined', process: 'undefined', vigil: 'object' });
  });

  it('starts and stops a service through the UI', async () => {
    // The page's own router follows the hash (tsconfig.node has no DOM types, hence the cast).
    await page.evaluate(() => {
      (globalThis as unknown as { location: { hash: string } }).location.hash = '#/services/selfcheck';
    });
    await byTestId('service-detail', { 'data-service': 'selfcheck' }).waitFor();
    await byTestId('detail-start-selfcheck').click();
    await byTestId('service-detail', { 'data-state': 'running' }).waitFor();
    const pid = Number((await byTestId('detail-pid').textContent())?.trim());
    expect(isRunning(pid), `selfcheck pid ${pid} runs`).toBe(true);

    await byTestId('detail-stop-selfcheck').click();
    await byTestId('service-detail', { 'data-state': 'stopped' }).waitFor();
    await expect.poll(() => isRunning(pid), { timeout: 15_000 }).toBe(false);

    // Left running, for the quit below to stop.
    await byTestId('detail-start-selfcheck').click();
    await byTestId('service-detail', { 'data-state': 'running' }).waitFor();
  });

  it('quits cleanly: exit code 0, and no process of the app or its services remains', async () => {
    const pids = await everyAppProcess(app!, userData);
    expect(pids.length).toBeGreaterThan(2); // main, renderer, the service at least

    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the app did not exit within 60 s of quit')), 60_000);
    });
    try {
      await Promise.race([app!.close(), timeout]);
      expect(await Promise.race([exited, timeout])).toEqual({ code: 0, signal: null });
    } finally {
      clearTimeout(timer);
    }
    await expect
      .poll(() => pids.filter(isRunning), { timeout: 15_000, message: 'processes left after quit' })
      .toEqual([]);
  });
});

/**
 * Every process that belongs to the running app: Electron's own (main, renderer, GPU, utility), the
 * services recorded in the run-state file, and, where the process table can be read, every
 * descendant of the main process.
 */
async function everyAppProcess(electronApp: ElectronApplication, dataDir: string): Promise<number[]> {
  const pids = new Set<number>(
    await electronApp.evaluate(({ app: electron }) => electron.getAppMetrics().map((m) => m.pid)),
  );
  const runState = JSON.parse(readFileSync(join(dataDir, 'run-state.json'), 'utf8')) as {
    records: { pid: number }[];
  };
  for (const record of runState.records) pids.add(record.pid);
  if (process.platform !== 'win32') {
    for (const p of descendantsOf(await snapshotProcesses(), electronApp.process().pid!)) pids.add(p.pid);
  }
  return [...pids];
}
