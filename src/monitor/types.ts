/** The monitor's domain words: channels and their sources, monitoring gaps, aired detections, health. */

export type ChannelKind = 'tv' | 'radio' | 'cable';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['tv', 'radio', 'cable'];

/** How ffmpeg reaches a source; `url` is a URL, an ALSA device name, or a file or folder path. */
export type SourceKind = 'http' | 'hls' | 'rtmp' | 'udp' | 'rtp' | 'srt' | 'alsa' | 'file' | 'folder';

export interface ChannelSource {
  kind: SourceKind;
  url: string;
}

/** A TV or radio channel under monitoring. */
export interface Channel {
  id: string;
  name: string;
  broadcasterId: string | null;
  kind: ChannelKind;
  /** IANA time zone of the channel's local day (e.g. Asia/Almaty). */
  timeZone: string;
  /** In priority order: the first is preferred, the others are fallbacks. */
  sources: ChannelSource[];
  /**
   * Known delay (seconds) between airing and arrival of its sources, subtracted from arrival-anchored
   * times (Icecast with a known delay, HLS without #EXT-X-PROGRAM-DATE-TIME); 0 if unknown. Not
   * applied to recorded files (their names give their time) nor to HLS anchored to its PDT.
   */
  latencySec: number;
  enabled: boolean;
  createdAtMs: number;
}

/** Why a channel was not heard. */
export type GapReason =
  /** The source could not be reached, dropped, stalled or ended. */
  | 'source_down'
  /** Audio arrived but was silent for longer than the threshold (dead air or a dead feed). */
  | 'silence'
  /** Samples were missing inside a connection (the stream jumped ahead). */
  | 'discontinuity'
  /** The runner switched sources (back to a recovered preferred one). */
  | 'source_switch'
  /** The monitor process was not running (it crashed or the machine was down). */
  | 'monitor_down'
  /** The monitor was stopped on purpose. */
  | 'monitor_stopped';

/** A period in which a channel was not being heard; `endMs` is null while it lasts. */
export interface MonitoringGap {
  id: string;
  channelId: string;
  startMs: number;
  endMs: number | null;
  reason: GapReason;
  detail: string | null;
}

/** One airing of one recording on one channel, in UTC. */
export interface AiredDetection {
  /** Deterministic: channel + recording + start (see detectionId). */
  id: string;
  channelId: string;
  recordingId: string;
  startMs: number;
  endMs: number;
  refStartSec: number;
  refEndSec: number;
  speed: number;
  confidence: number;
}

/** A detection not final yet: still airing (`open`), or ended at a gap and waiting for its continuation (`held`). */
export interface PendingDetection extends AiredDetection {
  state: 'open' | 'held';
}

export type ChannelState =
  'starting' | 'connecting' | 'listening' | 'silent' | 'reconnecting' | 'failed' | 'finished' | 'stopped';

/** What the runner tells the world about its channel. */
export interface ChannelHealth {
  channelId: string;
  state: ChannelState;
  stateSinceMs: number;
  /** UTC of the last sample heard. */
  lastAudioMs: number | null;
  sourceIndex: number | null;
  sourceUrl: string | null;
  /** Last error or notable event. */
  detail: string | null;
  /** Recording(s) currently airing, by id. */
  currentRecordings: string[];
}
