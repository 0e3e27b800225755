/**
 * Finds and launches a Chromium for the browser tests. Missing Chromium is a failure with the fix in
 * the message, never a skip: a green run must mean the UI was really driven.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const LAUNCH_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function findChromium(): string {
  const fromEnv = process.env.CHROMIUM_PATH;
  if (fromEnv) {
    if (existsSync(fromEnv)) return fromEnv;
    throw new Error(`CHROMIUM_PATH is set to ${fromEnv}, but there is no file there`);
  }
  for (const path of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) {
    if (existsSync(path)) return path;
  }
  const managed = safeManagedPath();
  if (managed && existsSync(managed)) return managed;
  throw new Error(
    'No Chromium found for the browser tests. Install one: on Debian/Ubuntu `apt-get update && apt-get install -y ' +
      'chromium`, or `npx playwright-core install chromium`, or point CHROMIUM_PATH at a Chromium/Chrome binary.',
  );
}

function safeManagedPath(): string | null {
  try {
    return chromium.executablePath();
  } catch {
    return null;
  }
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: LAUNCH_ARGS, timeout: 60_000 });
}
