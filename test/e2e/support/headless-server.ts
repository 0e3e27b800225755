/** Runs the real headless server (the built `out/main/headless.js`) as a child process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repoRoot = resolve(import.meta.dirname, '../../..');
const entry = join(repoRoot, 'out/main/headless.js');
const READY_LINE = /Vigil headless is serving on (http:\/\/\S+)/;

export interface HeadlessServer {
  /** The URL printed by the server, token included. */
  url: string;
  origin: string;
  port: number;
  token: string;
  dataDir: string;
  /** Everything the server wrote so far, for failure messages. */
  output(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/** `demo`: run the market simulator and point the collectors at it (no collector dials an exchange). */
export async function startHeadless(options: { demo?: boolean } = {}): Promise<HeadlessServer> {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`npm run build\` first`);
  const dataDir = mkdtempSync(join(tmpdir(), 'vigil-e2e-'));
  const args = [entry, '--port', '0', '--data-dir', dataDir, ...(options.demo ? ['--demo'] : [])];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => fail(new Error('the server printed no URL within 30 s')), 30_000);
    const onData = (): void => {
      const match = READY_LINE.exec(output);
      if (match?.[1]) {
        cleanup();
        resolveUrl(match[1]);
      }
    };
    const onExit = (code: number | null, signal: string | null): void =>
      fail(new Error(`the server exited before serving (code ${code}, signal ${signal})`));
    function cleanup(): void {
      clearTimeout(timer);
      child.stdout.off('data', onData);
      child.off('exit', onExit);
    }
    function fail(error: Error): void {
      cleanup();
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n--- server output ---\n${output}`));
    }
    child.stdout.on('data', onData);
    child.once('exit', onExit);
  });

  const parsed = new URL(url);
  return {
    url,
    origin: parsed.origin,
    port: Number(parsed.port),
    token: parsed.searchParams.get('token') ?? '',
    dataDir,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    stop: () => stopChild(child),
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
