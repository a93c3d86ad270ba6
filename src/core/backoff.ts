/** The delay before attempt `attempt + 1`, after attempt `attempt` (1-based) failed. */
export interface RetryPolicy {
  backoff: 'exponential' | 'fixed';
  delaySeconds: number;
}

/** Upper bound of any single retry delay, whatever the policy. */
export const MAX_RETRY_DELAY_SECONDS = 3600;
/** Delays are spread ±20% so runs that failed together do not retry in lockstep. */
export const JITTER = 0.2;

export function retryDelayBase(policy: RetryPolicy, attempt: number): number {
  const raw = policy.backoff === 'exponential' ? policy.delaySeconds * 2 ** Math.max(0, attempt - 1) : policy.delaySeconds;
  return Math.min(raw, MAX_RETRY_DELAY_SECONDS);
}

/** `random` is injectable so tests can pin the jitter; it must return values in [0, 1). */
export function retryDelaySeconds(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const base = retryDelayBase(policy, attempt);
  return base * (1 - JITTER + 2 * JITTER * random());
}
