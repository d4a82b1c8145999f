/**
 * The system of record's shape, one interface per table. Each stage adds its tables here and a
 * migration in ./migrations. Times are epoch milliseconds (UTC) in integer columns; money is integer tiyn.
 */
export interface DB {
  channels: ChannelTable;
  detections: DetectionTable;
  monitoring_gaps: MonitoringGapTable;
  open_detections: OpenDetectionTable;
  channel_state: ChannelStateTable;
}

export interface ChannelTable {
  id: string;
  name: string;
  broadcaster_id: string | null;
  kind: 'tv' | 'radio' | 'cable';
  time_zone: string;
  /** JSON array of sources in priority order. */
  sources_json: string;
  enabled: number;
  created_at_ms: number;
}

/** One continuous airing of one recording on one channel (an airplay detection). */
export interface DetectionTable {
  id: string;
  channel_id: string;
  recording_id: string;
  start_ms: number;
  end_ms: number;
  ref_start_sec: number;
  ref_end_sec: number;
  speed: number;
  confidence: number;
  /** pending (fresh), confirmed, rejected, reassigned (recording_id changed by a reviewer). */
  status: string;
  /** featured | background | under_speech, where known. */
  use_type: string | null;
  evidence_path: string | null;
  /** UTC of the evidence clip's first sample (the clip starts a margin before the detection). */
  evidence_start_ms: number | null;
  created_at_ms: number;
}

/** A period in which a channel was not heard (monitoring gap); end_ms is null while it lasts. */
export interface MonitoringGapTable {
  id: string;
  channel_id: string;
  start_ms: number;
  end_ms: number | null;
  /** source_down | silence | discontinuity | source_switch | monitor_down | monitor_stopped */
  reason: string;
  detail: string | null;
  created_at_ms: number;
}

/** A detection not final yet: still airing (open) or ended at a gap, waiting for its continuation (held). */
export interface OpenDetectionTable {
  id: string;
  channel_id: string;
  recording_id: string;
  start_ms: number;
  end_ms: number;
  ref_start_sec: number;
  ref_end_sec: number;
  speed: number;
  confidence: number;
  state: 'open' | 'held';
  updated_at_ms: number;
}

/** The live monitor's view of a channel, written by its runner (heartbeat). */
export interface ChannelStateTable {
  channel_id: string;
  state: string;
  state_since_ms: number;
  last_audio_ms: number | null;
  heartbeat_ms: number;
  first_started_ms: number;
  source_index: number | null;
  source_url: string | null;
  detail: string | null;
  /** Folder sources: the last logger file fully processed. */
  cursor: string | null;
}
