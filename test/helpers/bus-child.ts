import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { EmbeddedBusOptions } from '../../src/services/bus/embedded';

const CHILD = fileURLToPath(new URL('../fixtures/bus/bus-child.ts', import.meta.url));

/** A bus in a real child process (`node --import tsx`), driven by JSON-line commands. */
export interface BusChild {
  readonly process: ChildProcess;
  readonly address: string;
  call<T = unknown>(op: string, args?: Record<string, unknown>, timeoutMs?: number): Promise<T>;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
}

export async function startBusChild(options: Omit<EmbeddedBusOptions, 'onWarning'>): Promise<BusChild> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, JSON.stringify(options)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let onReady: ((address: string) => void) | undefined;
  const ready = new Promise<string>((resolve, reject) => {
    onReady = resolve;
    child.once('exit', (code) => reject(new Error(`bus child exited early (${code})`)));
    setTimeout(() => reject(new Error('bus child did not start within 20 s')), 20_000).unref();
  });
  createInterface({ input: child.stdout! }).on('line', (line) => {
    const msg = JSON.parse(line) as {
      ready?: boolean;
      address?: string;
      id?: number;
      result?: unknown;
      error?: string;
    };
    if (msg.ready) return onReady?.(msg.address ?? '');
    const p = pending.get(msg.id ?? -1);
    if (!p) return;
    pending.delete(msg.id!);
    if (msg.error) p.reject(new Error(msg.error));
    else p.resolve(msg.result);
  });
  const address = await ready;
  return {
    process: child,
    address,
    call: <T>(op: string, args: Record<string, unknown> = {}, timeoutMs = 25_000) =>
      new Promise<T>((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`bus child: ${op} timed out`));
        }, timeoutMs);
        pending.set(id, {
          resolve: (v) => {
            clearTimeout(timer);
            resolve(v as T);
          },
          reject: (e) => {
            clearTimeout(timer);
            reject(e);
          },
        });
        child.stdin!.write(`${JSON.stringify({ id, op, ...args })}\n`);
      }),
    kill: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
