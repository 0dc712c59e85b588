/**
 * Retry schedule: exponential backoff with "equal jitter" (half fixed, half random), never
 * shorter than what the server asked for with retry-after. Kept as a pure function because the
 * attempt loop in `client.ts` must also feed push-backs to the shared limiter, which retry
 * libraries (p-retry) have no hook for.
 */
export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export function backoffDelay(
  policy: RetryPolicy,
  attempt: number,
  retryAfterMs?: number,
  random: () => number = Math.random,
): number {
  const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = exp / 2 + random() * (exp / 2);
  return Math.max(jittered, retryAfterMs ?? 0);
}
