import type { BackoffPolicy } from '../../shared/service-definition';

/**
 * Delay before restart number `attempt` (1 = the first restart since the counter was last reset).
 * Exponential: min(cap, initial × factor^(attempt−1)) × U(1−jitter, 1+jitter), never above the cap.
 * Steps: the attempt's step, the last one repeating.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const n = Math.max(1, Math.floor(attempt));
  if (policy.type === 'steps') return policy.stepsMs[Math.min(n, policy.stepsMs.length) - 1]!;
  const raw = Math.min(policy.capMs, policy.initialMs * policy.factor ** (n - 1));
  const spread = 1 - policy.jitter + 2 * policy.jitter * random();
  return Math.round(Math.min(policy.capMs, raw * spread));
}

/** The largest delay the policy can give: where a crash-looping service keeps retrying. */
export function backoffCap(policy: BackoffPolicy): number {
  return policy.type === 'steps' ? Math.max(...policy.stepsMs) : policy.capMs;
}
