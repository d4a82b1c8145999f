import { backoffDelayMs, type BackoffPolicy, type Random } from './backoff.js';

/** Per-source reconnect bookkeeping of one channel. */
interface SourceHealth {
  consecutiveFailures: number;
  /** Earliest time (wall ms) the source may be tried again. */
  retryAtMs: number;
}

export interface SourcePick {
  index: number;
  /** How long to wait before trying it (0 = now). */
  waitMs: number;
}

/**
 * Chooses which of a channel's sources to use: the highest-priority one whose backoff has run out.
 * A failed source is retried after an exponentially growing, jittered delay; in the meantime the next
 * source is used, and a higher-priority source is probed again when its delay has passed, so the
 * channel returns to its preferred source once that recovers.
 */
export class SourceSelector {
  private readonly health: SourceHealth[];

  constructor(
    readonly sourceCount: number,
    private readonly policy: BackoffPolicy,
    private readonly random: Random,
  ) {
    if (!Number.isInteger(sourceCount) || sourceCount < 1) {
      throw new Error(`a channel needs at least one source, got ${sourceCount}`);
    }
    this.health = Array.from({ length: sourceCount }, () => ({ consecutiveFailures: 0, retryAtMs: 0 }));
  }

  /** The source to use next: the first one ready now, else the one that gets ready soonest. */
  pick(nowMs: number): SourcePick {
    let best = 0;
    for (let i = 0; i < this.sourceCount; i++) {
      if (this.health[i].retryAtMs <= nowMs) return { index: i, waitMs: 0 };
      if (this.health[i].retryAtMs < this.health[best].retryAtMs) best = i;
    }
    return { index: best, waitMs: this.health[best].retryAtMs - nowMs };
  }

  /** A source failed (could not connect, or dropped before it was healthy); returns its retry delay. */
  failed(index: number, nowMs: number): number {
    const h = this.health[index];
    h.consecutiveFailures += 1;
    const delay = backoffDelayMs(h.consecutiveFailures, this.policy, this.random);
    h.retryAtMs = nowMs + delay;
    return delay;
  }

  /** A source delivered healthy audio: its backoff resets. */
  healthy(index: number): void {
    this.health[index] = { consecutiveFailures: 0, retryAtMs: 0 };
  }

  /** A higher-priority source than `current` whose retry time has come, to probe for recovery. */
  recoveryCandidate(current: number, nowMs: number): number | null {
    for (let i = 0; i < current; i++) {
      if (this.health[i].retryAtMs <= nowMs) return i;
    }
    return null;
  }

  /** Every source has failed at least `attempts` times in a row. */
  allFailing(attempts: number): boolean {
    return this.health.every((h) => h.consecutiveFailures >= attempts);
  }

  failures(index: number): number {
    return this.health[index].consecutiveFailures;
  }
}
