/**
 * A real nats-server for the bus tests: loopback only, one client port, no HTTP monitoring and no
 * cluster listener. stop() and restart() keep the port, so clients can reconnect to the same URL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Debian installs it in /usr/sbin, which is not on every user's PATH. */
export function findNatsServer(): string {
  const candidates = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    '/usr/sbin',
    '/usr/bin',
    '/usr/local/bin',
  ].map((dir) => join(dir, 'nats-server'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // next
    }
  }
  throw new Error(
    'nats-server not found on PATH or in /usr/sbin, /usr/bin: install it with `apt-get install nats-server`',
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('could not get a free port');
  return address.port;
}

/** True once the server answers a TCP connection with its INFO line. */
function answersInfo(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('data', (chunk: Buffer) => done(chunk.toString('latin1').startsWith('INFO ')));
  });
}

export class NatsServer {
  private child: ChildProcess | null = null;
  private output = '';

  private constructor(
    readonly binary: string,
    readonly port: number,
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts a server on a fresh ephemeral port (retrying if another process grabs the port first). */
  static async start(extraArgs: string[] = []): Promise<NatsServer> {
    const binary = findNatsServer();
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new NatsServer(binary, await freePort(), extraArgs);
      try {
        await server.restart();
        return server;
      } catch (error) {
        lastError = error;
        await server.stop();
      }
    }
    throw lastError;
  }

  /** Starts the server (again) on the same port and waits until it accepts clients. */
  async restart(timeoutMs = 15_000): Promise<void> {
    await this.stop();
    this.output = '';
    const child = spawn(this.binary, ['-a', '127.0.0.1', '-p', String(this.port), ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (chunk: Buffer): void => {
      this.output = (this.output + chunk.toString()).slice(-8_000);
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const deadline = Date.now() + timeoutMs;
    while (!(await answersInfo(this.port))) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `nats-server exited (${child.exitCode ?? child.signalCode}) on port ${this.port}:\n${this.output}`,
        );
      }
      if (Date.now() > deadline)
        throw new Error(`nats-server did not accept connections on ${this.url}:\n${this.output}`);
      await sleep(50);
    }
  }

  /** SIGKILL by default (a crash); waits until the process is gone so the port is free again. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const child = this.child;
    this.child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await Promise.race([exited, sleep(10_000)]);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  get log(): string {
    return this.output;
  }
}
