/** `npm run headless`: the supervisor core and the UI on a server, without Electron. */
import { join, resolve } from 'node:path';
import { createCore } from './core';
import { demoPorts } from './demo-ports';
import { StoreError } from './store/store-error';
import { ArgsError, HEADLESS_USAGE, parseHeadlessArgs } from './headless-args';
import { buildPaths, defaultDataDir } from './paths';
import { generateToken, isLoopback } from './server/auth';
import { startHeadlessServer } from './server/headless-server';
import { followHealthPort } from './server/health-port';

async function main(): Promise<void> {
  let args;
  try {
    args = parseHeadlessArgs(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof ArgsError)) throw error;
    console.error(`vigil headless: ${error.message}\n\n${HEADLESS_USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    console.log(HEADLESS_USAGE);
    return;
  }

  const dataDir = resolve(args.dataDir ?? (args.demo ? join(defaultDataDir(), 'demo') : defaultDataDir()));
  const paths = buildPaths(import.meta.url);
  let core;
  try {
    core = await createCore({
      mode: 'headless',
      dataDir,
      servicesDir: paths.servicesDir,
      recoverStore: args.recoverStore,
      demo: args.demo,
      ...(args.demo ? { demoPorts: await demoPorts() } : {}),
    });
  } catch (error) {
    // Another Vigil owns this data directory, or control.db cannot be used: say so, and how to go on.
    console.error(`vigil headless: ${(error as Error).message}`);
    if (error instanceof StoreError && !error.message.includes(error.wayForward)) {
      console.error(`vigil headless: ${error.wayForward}`);
    }
    process.exit(1);
  }
  const info = core.info();

  const port = args.port ?? core.settings().ports.headless;
  let server;
  try {
    server = await startHeadlessServer({
      host: args.host,
      port,
      token: args.token ?? generateToken(),
      rendererDir: paths.rendererDir,
      router: core.router,
      events: core.events,
      serverName: `vigil ${info.version}`,
      ops: { observability: core.ops, health: args.healthAuth, metrics: args.metricsAuth },
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EADDRINUSE'
        ? `port ${port} on ${args.host} is already in use; choose another with --port`
        : code === 'EADDRNOTAVAIL'
          ? `${args.host} is not an address of this machine`
          : code === 'EACCES'
            ? `not allowed to bind ${args.host}:${port}; use a port above 1023`
            : (error as Error).message;
    console.error(`vigil headless: ${why}`);
    await core.close();
    process.exit(1);
  }

  if (!isLoopback(args.host)) {
    console.warn(
      `vigil headless: listening on ${args.host}: anyone who can reach it and has the token controls Vigil`,
    );
    if (args.metricsAuth === 'open') {
      console.warn(`vigil headless: /metrics is open to anyone who can reach ${args.host}`);
    }
  }
  const healthPort = followHealthPort({
    events: core.events,
    settings: () => core.settings(),
    ops: core.ops,
    warn: (m) => console.warn(m),
  });
  console.log(`Vigil ${info.version} headless, data in ${dataDir}`);
  console.log(`Vigil headless is serving on ${server.url}`);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    console.log(`vigil headless: ${signal}, stopping services`);
    await server.close();
    await healthPort.close();
    await core.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  if (process.platform === 'win32') {
    // Windows sends no SIGTERM: Ctrl+Break, and the console window closing (Windows ends the process
    // about 10 s later) are what a stop looks like there.
    process.on('SIGBREAK', () => void shutdown('SIGBREAK'));
    process.on('SIGHUP', () => void shutdown('SIGHUP'));
  }
}

await main();
