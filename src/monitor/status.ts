import { localDayBounds, uptimeRatio } from './health.js';
import type { MonitorRepository } from './repository.js';
import type { Channel, ChannelHealth, ChannelState } from './types.js';

/** What `tyndau channels status`, `/channels` and the metrics say about a channel. */
export interface ChannelStatus {
  channelId: string;
  name: string;
  enabled: boolean;
  /** The runner's state, or `not_running` when no monitor has reported for a while. */
  state: ChannelState | 'not_running' | 'never_monitored';
  stateSinceMs: number | null;
  lastAudioMs: number | null;
  /** Share of the uptime window in which the channel was heard; null before it was ever monitored. */
  uptimeRatio: number | null;
  detectionsToday: number;
  /** Recordings airing now (open detections). */
  currentRecordings: string[];
  /** Detections that ended at a gap and wait for their continuation. */
  heldDetections: number;
  source: string | null;
  detail: string | null;
}

/**
 * A channel's status from the store (what any process can see), overlaid with the live health of a
 * runner in this process when there is one.
 */
export async function channelStatus(
  repo: MonitorRepository,
  channel: Channel,
  nowMs: number,
  opts: { uptimeWindowMs: number; heartbeatStaleMs: number; live?: ChannelHealth | null },
): Promise<ChannelStatus> {
  const [row, pending] = await Promise.all([repo.state(channel.id), repo.pending(channel.id)]);
  const [dayStart, dayEnd] = localDayBounds(channel.timeZone, nowMs);
  const detectionsToday = await repo.countDetections(channel.id, dayStart, dayEnd);
  const from = nowMs - opts.uptimeWindowMs;
  const gaps = await repo.gaps(channel.id, from, nowMs);
  const live = opts.live ?? null;
  let state: ChannelStatus['state'] = 'never_monitored';
  let uptime: number | null = null;
  if (row) {
    const stale = nowMs - row.heartbeat_ms > opts.heartbeatStaleMs && live === null;
    const running = !stale && row.state !== 'stopped' && row.state !== 'finished';
    state =
      live?.state ??
      (stale && row.state !== 'stopped' && row.state !== 'finished'
        ? 'not_running'
        : (row.state as ChannelState));
    const intervals = gaps.map((g) => ({ startMs: g.startMs, endMs: g.endMs }));
    // a monitor that died leaves no open gap behind: the time since it last heard the channel is one
    if (!running && !gaps.some((g) => g.endMs === null) && row.last_audio_ms !== null) {
      intervals.push({ startMs: row.last_audio_ms, endMs: null });
    }
    uptime = uptimeRatio(intervals, from, nowMs, row.first_started_ms);
  }
  const open = pending.filter((p) => p.state === 'open');
  return {
    channelId: channel.id,
    name: channel.name,
    enabled: channel.enabled,
    state,
    stateSinceMs: live?.stateSinceMs ?? row?.state_since_ms ?? null,
    lastAudioMs: live?.lastAudioMs ?? row?.last_audio_ms ?? null,
    uptimeRatio: uptime,
    detectionsToday,
    currentRecordings: live?.currentRecordings ?? [...new Set(open.map((p) => p.recordingId))],
    heldDetections: pending.length - open.length,
    source: live?.sourceUrl ?? row?.source_url ?? null,
    detail: live?.detail ?? row?.detail ?? null,
  };
}
