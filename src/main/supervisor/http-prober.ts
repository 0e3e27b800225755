import type { Prober } from './service-runner';

/** One GET; any 2xx within the timeout is healthy. Everything else, including a refused connection, is not. */
export const httpProber: Prober = {
  async check(url, timeoutMs) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 300;
    } catch {
      return false;
    }
  },
};
