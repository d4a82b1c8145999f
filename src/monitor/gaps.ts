import type { GapReason, MonitoringGap } from './types.js';

/** What the store must do about a gap. */
export type GapChange =
  /** A gap started (stored with no end, so a crash leaves it visibly open). */
  | { type: 'open'; gap: MonitoringGap }
  /** It ended. */
  | { type: 'close'; gap: MonitoringGap }
  /** It ended shorter than the minimum: forget it. */
  | { type: 'discard'; gap: MonitoringGap };

export function gapId(channelId: string, startMs: number): string {
  return `gap:${channelId}:${Math.round(startMs)}`;
}

/**
 * The one open monitoring gap of a channel at a time. A gap opens when the channel stops being heard
 * and closes at the first sample heard again; a gap that is already open keeps its start and reason
 * (the first cause explains the whole period).
 */
export class GapTracker {
  private current: MonitoringGap | null = null;

  constructor(
    readonly channelId: string,
    private readonly minGapMs: number,
  ) {}

  get open(): MonitoringGap | null {
    return this.current;
  }

  /** Takes over an open gap found in the store at start-up. */
  restore(gap: MonitoringGap): void {
    if (gap.endMs !== null) throw new Error(`gap ${gap.id} is closed, only an open gap can be restored`);
    this.current = { ...gap };
  }

  begin(startMs: number, reason: GapReason, detail: string | null = null): GapChange[] {
    if (this.current) return [];
    const start = Math.round(startMs);
    this.current = {
      id: gapId(this.channelId, start),
      channelId: this.channelId,
      startMs: start,
      endMs: null,
      reason,
      detail,
    };
    return [{ type: 'open', gap: { ...this.current } }];
  }

  end(endMs: number): GapChange[] {
    const gap = this.current;
    if (!gap) return [];
    this.current = null;
    const closed = { ...gap, endMs: Math.max(gap.startMs, Math.round(endMs)) };
    if (closed.endMs - closed.startMs < this.minGapMs) return [{ type: 'discard', gap: closed }];
    return [{ type: 'close', gap: closed }];
  }

  /** A gap known whole at once (a jump inside a connection); the store upserts on close. */
  record(startMs: number, endMs: number, reason: GapReason, detail: string | null = null): GapChange[] {
    if (this.current) return [];
    const start = Math.round(startMs);
    const end = Math.round(endMs);
    if (end - start < this.minGapMs) return [];
    const gap: MonitoringGap = {
      id: gapId(this.channelId, start),
      channelId: this.channelId,
      startMs: start,
      endMs: end,
      reason,
      detail,
    };
    return [{ type: 'close', gap }];
  }
}
