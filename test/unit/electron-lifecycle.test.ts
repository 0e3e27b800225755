import { describe, expect, it, vi } from 'vitest';
import { focusWindow } from '../../src/main/electron/lifecycle';

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
