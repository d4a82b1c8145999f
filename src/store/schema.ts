/**
 * The system of record's shape, one interface per table. Each stage adds its tables here and a
 * migration in ./migrations. Times are epoch milliseconds (UTC) in integer columns; money is integer tiyn.
 */
export interface DB {
  channels: ChannelTable;
  detections: DetectionTable;
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
  created_at_ms: number;
}
