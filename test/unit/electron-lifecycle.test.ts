import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { closeBeforeQuit, focusWindow } from '../../src/main/electron/lifecycle';

/** An app whose quit() emits before-quit and, unless prevented, records that it quit. */
class FakeApp extends EventEmitter {
  quitted = 0;
  quit(): void {
    let prevented = false;
    this.emit('before-quit', { preventDefault: () => (prevented = true) });
    if (!prevented) this.quitted++;
  }
}

describe('quit waits for the core to close', () => {
  it('holds the first quit, closes, then quits for real', async () => {
    const app = new FakeApp();
    let finish!: () => void;
    const close = vi.fn(() => new Promise<void>((resolve) => (finish = resolve)));
    closeBeforeQuit(app, close);

    app.quit();
    expect(app.quitted).toBe(0);
    expect(close).toHaveBeenCalledOnce();
    app.quit(); // Cmd+Q again while services stop: still held, close not repeated
    expect(app.quitted).toBe(0);
    expect(close).toHaveBeenCalledOnce();

    finish();
    await vi.waitFor(() => expect(app.quitted).toBe(1));
    expect(close).toHaveBeenCalledOnce();
  });

  it('quits even when closing fails, and says so', async () => {
    const app = new FakeApp();
    const log = vi.fn();
    closeBeforeQuit(app, () => Promise.reject(new Error('stuck')), log);
    app.quit();
    await vi.waitFor(() => expect(app.quitted).toBe(1));
    expect(log).toHaveBeenCalledOnce();
  });
});

describe('second launch focuses the first window', () => {
  const fakeWindow = (minimized: boolean, destroyed = false) => ({
    isDestroyed: () => destroyed,
    isMinimized: () => minimized,
    restore: vi.fn(),
    show: vi.fn(),
    focus: vi.fn(),
  });

  it('restores a minimized window, then shows and focuses it', () => {
    const w = fakeWindow(true);
    focusWindow(w);
    expect(w.restore).toHaveBeenCalledOnce();
    expect(w.show).toHaveBeenCalledOnce();
    expect(w.focus).toHaveBeenCalledOnce();
  });

  it('leaves a missing or destroyed window alone', () => {
    expect(() => focusWindow(null)).not.toThrow();
    const w = fakeWindow(false, true);
    focusWindow(w);
    expect(w.focus).not.toHaveBeenCalled();
  });
});
