/**
 * What the Optimizer page tells a person to do about an error or a waiting run: every refusal and
 * empty state says where to go next (Services to start the optimizer or a collector, the form to
 * allow gaps, the search to run again), never only what went wrong.
 *
 * In src/shared only so plain Node tests can import it; the renderer is its one user.
 */
import type { ApiErrorShape } from '../errors';
import type { OptimizerRun } from '../optimizer-api';
import type { PageId } from '../routes';

export interface Advice {
  text: string;
  /** The page that helps, linked after the text. */
  page: PageId | null;
}

export type OptimizerAction = 'strategies' | 'runs' | 'submit' | 'cancel' | 'trials' | 'trial' | 'apply';

const NO_DATA = /no (market )?data|no candles|nothing (is |was )?recorded|not recorded|no trades recorded/i;
const GAPS = /\bgaps?\b/i;
const VERSION = /\bversion\b/i;

/** What to do about an error of `action`; null when the message says it all. */
export function adviceFor(action: OptimizerAction, error: ApiErrorShape): Advice | null {
  const field = error.field ?? '';
  if (error.code === 'unavailable') {
    return {
      text:
        'The optimizer service is not running or not available: start it in Services (a service of kind ' +
        'optimizer running the built-in optimizer program); searches wait in the queue until it runs.',
      page: 'services',
    };
  }
  if (error.code === 'unauthorized' || error.code === 'forbidden') {
    return { text: 'This window is not signed in to Vigil: reload it with a valid token.', page: null };
  }
  if (error.code === 'internal') {
    return {
      text: 'Something failed inside Vigil: try again; if it persists, the Events page and the log say more.',
      page: 'events',
    };
  }
  if (action === 'submit') {
    if (NO_DATA.test(error.message)) {
      return {
        text:
          'No market data recorded for this symbol yet: start a collector for its venue in Services (with ' +
          'recording on), let it record, then search a range it covers. The Market page shows what arrives.',
        page: 'services',
      };
    }
    if (GAPS.test(error.message)) {
      return {
        text:
          'The range crosses gaps in the recorded data: tick “Run across recorded gaps” to search anyway ' +
          '(the run lists them), or choose a range without gaps. The Market page’s gap ledger has them.',
        page: 'market',
      };
    }
    return null;
  }
  if (action === 'apply') {
    if (error.code === 'not_found' && field === 'service') {
      return { text: 'That service no longer exists: pick another trader.', page: 'services' };
    }
    if (VERSION.test(error.message) || field === 'runId') {
      return {
        text: 'The strategy changed since this search ran: submit the search again and apply its result.',
        page: null,
      };
    }
    if (field === 'service') {
      return { text: 'Strategies are applied to trader services only: pick a trader.', page: 'services' };
    }
    return null;
  }
  if (error.code === 'not_found') {
    return {
      text: 'It no longer exists (removed, or another Vigil data directory): pick another.',
      page: null,
    };
  }
  return null;
}

/** What a queued or waiting run's note calls for, or a failed run's error. */
export function runAdvice(run: Pick<OptimizerRun, 'status' | 'note' | 'error'>): Advice | null {
  if (run.status === 'failed') {
    if (run.error && NO_DATA.test(run.error)) {
      return {
        text: 'No market data recorded for this range: start a collector for the symbol in Services, then search again.',
        page: 'services',
      };
    }
    return { text: 'Fix what the error names, then submit the search again.', page: null };
  }
  if ((run.status === 'queued' || run.status === 'running') && run.note) {
    if (/queued behind/i.test(run.note)) return null;
    return {
      text: 'Start the optimizer service in Services: the run starts when it runs.',
      page: 'services',
    };
  }
  return null;
}
