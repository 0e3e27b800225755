import { useEffect, useRef, useState } from 'react';
import type { OptimizerRun } from '../../../../shared/optimizer-api';
import { isActive } from '../../../../shared/optimizer-ui/results';

/**
 * A key that changes when the run has new trials, at most once per `ms` while it runs (progress
 * events come up to twice a second; re-reading trials that often would only load the core), and at
 * once when its status changes: what its trial views re-read on.
 */
export function useTrialsKey(run: Pick<OptimizerRun, 'status' | 'progress'>, ms: number): string {
  const next = `${run.status}:${run.progress.done}`;
  const [key, setKey] = useState(next);
  const keyStatus = key.slice(0, key.indexOf(':'));
  const last = useRef(0);
  useEffect(() => {
    if (next === key) return;
    const statusMoved = keyStatus !== run.status;
    const wait = statusMoved || !isActive(run.status) ? 0 : Math.max(0, last.current + ms - Date.now());
    const timer = setTimeout(() => {
      last.current = Date.now();
      setKey(next);
    }, wait);
    return () => clearTimeout(timer);
  }, [next, key, keyStatus, run.status, ms]);
  return key;
}
