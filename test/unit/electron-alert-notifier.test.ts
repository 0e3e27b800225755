import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventHub } from '../../src/main/api/event-hub';
import { internalClient } from '../../src/main/api/internal-client';
import {
  MAX_PER_WINDOW,
  RATE_WINDOW_MS,
  createAlertNotifier,
  type AlertNotifierOptions,
  type NotificationOptions,
} from '../../src/main/electron/alert-notifier';
import { fail } from '../../src/shared/errors';
import { parseHash } from '../../src/shared/routes';
import type { AlertKind, ServiceAlert } from '../../src/shared/services';

class FakeNotification {
  shownAt: number | null = null;
  private readonly listeners = new Map<string, (() => void)[]>();
  constructor(readonly options: NotificationOptions) {}
  on(event: 'click' | 'close', listener: () => void): void {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
  }
  show(): void {
    this.shownAt = Date.now();
  }
  click(): void {
    for (const listener of this.listeners.get('click') ?? []) listener();
  }
}

function setup(overrides: Partial<AlertNotifierOptions> = {}) {
  const events = new EventHub();
  const api = internalClient({ dispatch: async () => fail('internal', 'not used') }, events);
  const shown: FakeNotification[] = [];
  const openAt = vi.fn();
  const notifier = createAlertNotifier({
    api,
    notify: (options) => {
      const n = new FakeNotification(options);
      shown.push(n);
      return n;
    },
    openAt,
    ...overrides,
  });
  let nextId = 1;
  const raise = (service: string, kind: AlertKind, severity: ServiceAlert['severity'] = 'critical') =>
    events.emit('service.alert', {
      id: nextId++,
      service,
      kind,
      severity,
      message: `${service} ${kind}`,
      at: Date.now(),
    });
  return { events, shown, openAt, notifier, raise, titles: () => shown.map((n) => n.options.title) };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-03-02T10:00:00Z'));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('what is notified', () => {
  it('tells the service, the kind and the message; a click opens the service’s page', () => {
    const t = setup();
    t.raise('collector-a', 'crash-loop');
    expect(t.shown).toHaveLength(1);
    expect(t.shown[0]!.options).toEqual({
      title: 'collector-a: Crash loop',
      body: 'collector-a crash-loop',
      urgency: 'critical',
    });
    expect(t.shown[0]!.shownAt).not.toBeNull();
    t.shown[0]!.click();
    expect(t.openAt).toHaveBeenCalledWith('#/services/collector-a');
    expect(parseHash(t.openAt.mock.calls[0]![0] as string)).toEqual({
      page: 'services',
      param: 'collector-a',
    });
  });

  it.each([
    'fatal',
    'crash-loop',
    'memory-hard',
    'data-gap',
    'degraded',
    'unresponsive',
    'survivors',
  ] as const)('notifies %s', (kind) => {
    const t = setup();
    t.raise('svc', kind, 'warning');
    expect(t.shown).toHaveLength(1);
    expect(t.shown[0]!.options.urgency).toBe('normal');
  });

  it('leaves a memory soft-limit warning to the Dashboard', () => {
    const t = setup();
    t.raise('svc', 'memory-soft', 'warning');
    expect(t.shown).toHaveLength(0);
  });

  it('sends nothing while the window is in front (it shows the alert itself)', () => {
    let focused = true;
    const t = setup({ windowFocused: () => focused });
    t.raise('svc', 'fatal');
    expect(t.shown).toHaveLength(0);
    focused = false;
    t.raise('svc', 'fatal');
    expect(t.shown).toHaveLength(1);
  });
});

describe('rate limits', () => {
  it('one per service and kind per minute; the one held back follows as itself', () => {
    const t = setup();
    t.raise('collector-a', 'degraded', 'warning');
    vi.advanceTimersByTime(10_000);
    t.raise('collector-a', 'degraded', 'warning');
    t.raise('collector-a', 'data-gap', 'warning'); // another kind: its own limit
    expect(t.titles()).toEqual(['collector-a: Degraded', 'collector-a: Market data gap']);
    vi.advanceTimersByTime(RATE_WINDOW_MS - 10_001);
    expect(t.shown).toHaveLength(2);
    vi.advanceTimersByTime(1);
    expect(t.titles()).toEqual([
      'collector-a: Degraded',
      'collector-a: Market data gap',
      'collector-a: Degraded',
    ]);
  });

  it(`at most ${MAX_PER_WINDOW} at once; the rest are summed up when the minute is over`, () => {
    const t = setup();
    for (let i = 0; i < 10; i++) t.raise(`svc-${i}`, 'fatal', i === 9 ? 'critical' : 'warning');
    expect(t.titles()).toEqual(['svc-0: Fatal: gave up', 'svc-1: Fatal: gave up', 'svc-2: Fatal: gave up']);
    vi.advanceTimersByTime(RATE_WINDOW_MS);
    expect(t.shown).toHaveLength(4);
    const summary = t.shown[3]!;
    expect(summary.options).toEqual({
      title: 'And 7 more alerts',
      body: 'From svc-3, svc-4, svc-5, svc-6 and 3 more. The Events page lists them all.',
      urgency: 'critical',
    });
    summary.click();
    expect(t.openAt).toHaveBeenCalledWith('#/events');
  });

  it('a summary of one service’s alerts opens that service’s page', () => {
    const t = setup();
    for (const kind of ['unresponsive', 'crash-loop', 'fatal', 'survivors', 'memory-hard'] as const) {
      t.raise('trader', kind);
    }
    vi.advanceTimersByTime(RATE_WINDOW_MS);
    expect(t.shown.at(-1)!.options.title).toBe('And 2 more alerts');
    t.shown.at(-1)!.click();
    expect(t.openAt).toHaveBeenCalledWith('#/services/trader');
  });

  it(`never more than ${MAX_PER_WINDOW} in any minute under a sustained flood, and nothing is lost`, () => {
    const t = setup();
    let raised = 0;
    for (let s = 0; s < 600; s += 2) {
      t.raise(`svc-${s % 7}`, s % 3 === 0 ? 'degraded' : 'data-gap', 'warning');
      raised++;
      vi.advanceTimersByTime(2000);
    }
    vi.advanceTimersByTime(2 * RATE_WINDOW_MS); // the last summary
    const times = t.shown.map((n) => n.shownAt!);
    for (const start of times) {
      expect(times.filter((at) => at >= start && at < start + RATE_WINDOW_MS).length).toBeLessThanOrEqual(
        MAX_PER_WINDOW,
      );
    }
    const told = t.shown.reduce((sum, n) => {
      const more = /^And (\d+) more alerts$/.exec(n.options.title);
      return sum + (more ? Number(more[1]) : 1);
    }, 0);
    expect(told).toBe(raised);
  });

  it('stops, summary included, when disposed', () => {
    const t = setup();
    for (let i = 0; i < 5; i++) t.raise(`svc-${i}`, 'fatal');
    t.notifier.dispose();
    vi.advanceTimersByTime(2 * RATE_WINDOW_MS);
    t.raise('svc-x', 'fatal');
    expect(t.shown).toHaveLength(MAX_PER_WINDOW);
  });
});
