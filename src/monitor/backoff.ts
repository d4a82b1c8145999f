/** Reconnect delays: exponential growth with jitter, from a seeded random source so tests can replay them. */

/** A deterministic random source in [0, 1) (mulberry32). */
export type Random = () => number;

export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BackoffPolicy {
  backoffBaseMs: number;
  backoffMaxMs: number;
  backoffFactor: number;
  /** 0..1: the share of the delay that is random. 0.5 = "equal jitter", 1 = "full jitter". */
  backoffJitter: number;
}

/**
 * Delay before reconnect attempt number `attempt` (1 = first retry after a failure):
 * min(max, base * factor^(attempt-1)), of which a `jitter` share is replaced by a uniform draw,
 * so that many channels losing one upstream do not reconnect in lockstep.
 */
export function backoffDelayMs(attempt: number, policy: BackoffPolicy, random: Random): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new Error(`backoff attempt must be an integer >= 1, got ${attempt}`);
  }
  const exp = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * policy.backoffFactor ** (attempt - 1));
  const fixed = exp * (1 - policy.backoffJitter);
  return Math.round(fixed + exp * policy.backoffJitter * random());
}
