export interface RetryPolicy {
  initialMs: number
  maxMs: number
  /** Attempts before giving up (the VSI is then left failed, reported, and retried only on a new trigger). */
  limit: number
}

export type RetryDecision = {retry: true; delayMs: number} | {retry: false; why: string}

/**
 * Exponential backoff with ±25 % jitter (so a fleet of VSIs failing together does not retry in lock-step),
 * capped at `maxMs`, bounded by `limit`. A hard error from the bridge is not retried blindly: the switch
 * says it is not transient.
 */
export function nextRetry(
  policy: RetryPolicy,
  attempts: number,
  hard: boolean,
  random: () => number = Math.random,
): RetryDecision {
  if (hard) return {retry: false, why: 'the switch reported a hard (not transient) error'}
  if (attempts >= policy.limit) return {retry: false, why: `gave up after ${attempts} attempts`}
  const base = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.max(0, attempts - 1))
  return {retry: true, delayMs: Math.round(base * (0.75 + random() * 0.5))}
}
