/**
 * The market simulator's program (src/services/simulator/index.ts) run as the supervisor runs a
 * child: its config in VIGIL_CONFIG, the child protocol over an IPC channel. Collects its messages
 * and stderr; `kill` for the test's cleanup.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import type { ChildMessage } from '../../src/shared/child-protocol';

const entry = resolve(import.meta.dirname, '../../src/services/simulator/index.ts');

export interface SimulatorChild {
  messages: ChildMessage[];
  stderr: () => string;
  exited: Promise<number | null>;
  send: (m: unknown) => void;
  kill: () => void;
}

export function runSimulatorChild(config: unknown): SimulatorChild {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'json',
    env: { ...process.env, VIGIL_CONFIG: JSON.stringify(config), VIGIL_PARENT_PID: String(process.pid) },
  });
  const messages: ChildMessage[] = [];
  let stderr = '';
  child.on('message', (m: ChildMessage) => messages.push(m));
  child.stdout!.resume();
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return {
    messages,
    stderr: () => stderr,
    exited,
    send: (m) => child.send(m as never),
    kill: () => void child.kill('SIGKILL'),
  };
}
