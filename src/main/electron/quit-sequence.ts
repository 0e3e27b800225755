/**
 * Quitting the desktop app safely. A quit while a trader runs asks first, naming paper or live and
 * the symbols; Cancel keeps everything running. Then the core stops the services — traders first,
 * the rest in the exact reverse of the start order, every step bounded (supervisor/shutdown.ts) —
 * under an overall cap, and only then does the app really quit and its window close. Quit requests
 * while it asks or stops change nothing.
 */
import type { ServiceInfo, ServiceState } from '../../shared/services';
import { traderMode, traderSymbols, type TraderMode } from '../../shared/service-status';

interface PreventableEvent {
  preventDefault(): void;
}

export interface QuittingApp {
  on(event: 'before-quit', listener: (event: PreventableEvent) => void): unknown;
  quit(): void;
}

export interface TradingSummary {
  traders: string[];
  /** live if any trader is live, unknown if any cannot be told, else paper. */
  mode: TraderMode;
  /** Every symbol the traders name in their configuration (empty: none says). */
  symbols: string[];
}

/** A trader in these states trades now, or is about to (a backoff restarts it). */
const TRADING: ReadonlySet<ServiceState> = new Set(['starting', 'running', 'paused', 'reloading', 'backoff']);

/**
 * What is trading now, as the question names it; null when nothing is. Mode and symbols are read as
 * the dashboard's trader card and the tray read them (src/shared/service-status.ts).
 */
export function tradingNow(services: readonly ServiceInfo[]): TradingSummary | null {
  const traders = services.filter((s) => s.kind === 'trader' && TRADING.has(s.state));
  if (traders.length === 0) return null;
  const modes = traders.map((t) => traderMode(t).mode);
  const mode: TraderMode = modes.includes('live') ? 'live' : modes.includes('unknown') ? 'unknown' : 'paper';
  const symbols = [...new Set(traders.flatMap((t) => traderSymbols(t) ?? []))];
  return { traders: traders.map((t) => t.name), mode, symbols };
}

/** The answer that quits; the other one, the default, keeps everything running. */
export const STOP_AND_QUIT = 0;

/** The native question (Electron's MessageBoxOptions): the mode in capitals, then the symbols. */
export function quitQuestion(t: TradingSummary): {
  type: 'warning';
  title: string;
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
  noLink: boolean;
} {
  const mode =
    t.mode === 'unknown'
      ? 'an UNKNOWN mode (the configuration says neither paper nor live)'
      : `${t.mode.toUpperCase()} mode`;
  const who = t.traders.length === 1 ? `${t.traders[0]} is` : `${t.traders.join(', ')} are`;
  const symbols = t.symbols.length > 0 ? t.symbols.join(', ') : 'not named in the configuration';
  return {
    type: 'warning',
    title: 'Quit Vigil?',
    message: `${who} trading in ${mode}.`,
    detail:
      `Symbols: ${symbols}.\n\n` +
      'Quitting stops the traders first (each gets its stop time to cancel its orders), then the other ' +
      'services. Cancel keeps everything running.',
    buttons: ['Stop trading and quit', 'Cancel'],
    defaultId: 1,
    cancelId: 1,
    noLink: true,
  };
}

export type QuitPhase = 'running' | 'asking' | 'stopping' | 'done';

export interface QuitSequenceDeps {
  app: QuittingApp;
  services(): readonly ServiceInfo[];
  /** Asks whether to stop trading and quit (true) or cancel (false). */
  confirm(trading: TradingSummary): Promise<boolean>;
  /** Stops every service in order and closes the core. */
  shutdown(): Promise<void>;
  /** The longest the shutdown may take, read when it begins; the app quits after it regardless. */
  capMs(): number;
  /** The services begin stopping (the window can say so). */
  onStopping?(): void;
  log?(message: string, error?: unknown): void;
}

export interface QuitSequence {
  readonly phase: QuitPhase;
}

/** Holds every quit until the person agreed (if trading) and the services stopped (or the cap passed). */
export function installQuitSequence(deps: QuitSequenceDeps): QuitSequence {
  const log = deps.log ?? ((message: string, error?: unknown) => console.error(message, error ?? ''));
  let phase: QuitPhase = 'running';

  const stop = (): void => {
    phase = 'stopping';
    deps.onStopping?.();
    const capMs = deps.capMs();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const capped = new Promise<'cap'>((resolve) => (timer = setTimeout(() => resolve('cap'), capMs)));
    void Promise.race([attempt(deps.shutdown), capped])
      .then(
        (outcome) => {
          if (outcome === 'cap') log(`[app] the services did not stop within ${capMs} ms; quitting anyway`);
        },
        (error: unknown) => log('[app] shutdown failed; quitting anyway:', error),
      )
      .finally(() => {
        clearTimeout(timer);
        phase = 'done';
        deps.app.quit();
      });
  };

  deps.app.on('before-quit', (event) => {
    if (phase === 'done') return;
    event.preventDefault();
    if (phase !== 'running') return; // already asking or stopping: nothing more to do
    const trading = tradingNow(deps.services());
    if (!trading) {
      stop();
      return;
    }
    phase = 'asking';
    void attempt(() => deps.confirm(trading)).then(
      (yes) => {
        if (yes) stop();
        else phase = 'running';
      },
      (error: unknown) => {
        // No answer is not a yes: keep trading.
        log('[app] the quit question failed; not quitting:', error);
        phase = 'running';
      },
    );
  });

  return {
    get phase() {
      return phase;
    },
  };
}

/** Calls `work` now; a synchronous throw becomes a rejection. */
function attempt<T>(work: () => Promise<T>): Promise<T> {
  try {
    return work();
  } catch (error) {
    return Promise.reject(error);
  }
}
