/** A minimal client of the headless WebSocket API, for tests and benchmarks. */
import WebSocket from 'ws';
import type { ServerFrame } from '../../src/shared/wire';

export interface TestClient {
  ws: WebSocket;
  /** Sends a raw frame and waits for the next reply (requests are answered in order here). */
  raw(data: string | Buffer, binary?: boolean): Promise<Extract<ServerFrame, { type: 'reply' }>>;
  call(command: string, input?: unknown): Promise<Extract<ServerFrame, { type: 'reply' }>>;
  events: Extract<ServerFrame, { type: 'event' }>[];
  waitForEvent(
    pred: (f: Extract<ServerFrame, { type: 'event' }>) => boolean,
    timeoutMs?: number,
  ): Promise<void>;
  close(): Promise<void>;
}

export async function connect(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
  const ws = new WebSocket(url, { headers });
  const replies: Extract<ServerFrame, { type: 'reply' }>[] = [];
  const events: Extract<ServerFrame, { type: 'event' }>[] = [];
  let wake: (() => void) | null = null;
  const hello = new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.on('message', (data) => {
      const frame = JSON.parse(data.toString()) as ServerFrame;
      if (frame.type === 'hello') resolve();
      else if (frame.type === 'reply') replies.push(frame);
      else events.push(frame);
      wake?.();
    });
  });
  await hello;

  const until = async (check: () => boolean, timeoutMs: number, what: string): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (ws.readyState !== WebSocket.OPEN) throw new Error(`connection closed while waiting for ${what}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(left, 200));
      });
    }
  };
  let nextId = 1;
  const raw: TestClient['raw'] = async (data, binary = false) => {
    const before = replies.length;
    ws.send(data, { binary });
    await until(() => replies.length > before, 10_000, 'a reply');
    return replies.splice(before, 1)[0]!;
  };
  return {
    ws,
    raw,
    call: (command, input = {}) => raw(JSON.stringify({ type: 'call', id: nextId++, command, input })),
    events,
    waitForEvent: (pred, timeoutMs = 20_000) => until(() => events.some(pred), timeoutMs, 'an event'),
    close: () =>
      new Promise((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once('close', () => resolve());
        ws.close();
      }),
  };
}
