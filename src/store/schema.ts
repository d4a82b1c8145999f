import type { Generated } from 'kysely';

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
  // distributed mode (src/distributed, migration 0300)
  dist_cursors: DistCursorTable;
  dist_rejections: DistRejectionTable;
  // catalogue (src/catalog, migration 0100)
  cmos: CmoTable;
  rights_holders: RightsHolderTable;
  works: WorkTable;
  work_creators: WorkCreatorTable;
  recordings: RecordingTable;
  recording_contributors: RecordingContributorTable;
  recording_works: RecordingWorkTable;
  shares: ShareTable;
  share_conflicts: ShareConflictTable;
  mandates: MandateTable;
  licensees: LicenseeTable;
  tariffs: TariffTable;
  tariff_versions: TariffVersionTable;
  licences: LicenceTable;
  mci_values: MciValueTable;
  revenue_declarations: RevenueDeclarationTable;
  // royalty ledger (src/royalty, migration 0101)
  ledger_entries: LedgerEntryTable;
  ledger_head: LedgerHeadTable;
  accrual_lines: AccrualLineTable;
  holder_lines: HolderLineTable;
  accrual_locks: AccrualLockTable;
  usage_reports: UsageReportTable;
  usage_confirmations: UsageConfirmationTable;
  usage_disputes: UsageDisputeTable;
  // people, sessions, API tokens and the audit log (src/api, migration 0400)
  users: UserTable;
  sessions: SessionTable;
  api_tokens: ApiTokenTable;
  audit_log: AuditLogTable;
}

export interface ChannelTable {
  id: string;
  name: string;
  broadcaster_id: string | null;
  kind: 'tv' | 'radio' | 'cable';
  time_zone: string;
  /** JSON array of sources in priority order. */
  sources_json: string;
  /** Known delivery latency, subtracted from arrival-anchored times (migration 0201). */
  latency_ms: Generated<number>;
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

// ---- catalogue (src/catalog). Shares are basis points of a percent (10000 = 100 %). -------------------

export interface CmoTable {
  id: string;
  name: string;
  bin: string | null;
  /** JSON array of right types: performing | performer | producer. */
  right_types_json: string;
  created_at_ms: number;
}

export interface RightsHolderTable {
  id: string;
  /** person | entity */
  kind: string;
  name: string;
  iin: string | null;
  bin: string | null;
  ipi_name_number: string | null;
  roles_json: string;
  created_at_ms: number;
}

export interface WorkTable {
  id: string;
  iswc: string | null;
  title: string;
  title_kk: string | null;
  title_ru: string | null;
  title_lat: string | null;
  created_at_ms: number;
}

export interface WorkCreatorTable {
  work_id: string;
  holder_id: string;
  role: string;
}

export interface RecordingTable {
  id: string;
  isrc: string | null;
  title: string;
  duration_ms: number | null;
  fingerprint_ref: string | null;
  created_at_ms: number;
}

export interface RecordingContributorTable {
  recording_id: string;
  holder_id: string;
  /** performer | producer */
  role: string;
}

export interface RecordingWorkTable {
  recording_id: string;
  work_id: string;
  portion_bp: number;
}

/** One immutable share version; a correction retires it (retired_at_ms) and adds the next version. */
export interface ShareTable {
  id: string;
  subject_kind: string;
  subject_id: string;
  right_type: string;
  holder_id: string;
  share_bp: number;
  valid_from_ms: number;
  valid_to_ms: number | null;
  version: number;
  supersedes_id: string | null;
  retired_at_ms: number | null;
  created_at_ms: number;
}

export interface ShareConflictTable {
  id: string;
  subject_kind: string;
  subject_id: string;
  right_type: string;
  from_ms: number;
  to_ms: number | null;
  total_bp: number;
  detected_at_ms: number;
  resolved_at_ms: number | null;
}

export interface MandateTable {
  id: string;
  holder_id: string;
  cmo_id: string;
  right_type: string;
  valid_from_ms: number;
  valid_to_ms: number | null;
  created_at_ms: number;
}

export interface LicenseeTable {
  id: string;
  name: string;
  bin: string | null;
  category: string;
  platform_from_ms: number;
  created_at_ms: number;
}

export interface TariffTable {
  id: string;
  cmo_id: string;
  name: string;
  created_at_ms: number;
}

export interface TariffVersionTable {
  id: string;
  tariff_id: string;
  version: number;
  valid_from_ms: number;
  rules_json: string;
  rules_hash: string;
  created_at_ms: number;
}

export interface LicenceTable {
  id: string;
  licensee_id: string;
  cmo_id: string;
  tariff_id: string;
  valid_from_ms: number;
  valid_to_ms: number | null;
  created_at_ms: number;
}

export interface MciValueTable {
  year: number;
  value_tiyn: number;
}

export interface RevenueDeclarationTable {
  id: string;
  licensee_id: string;
  period: string;
  revenue_tiyn: number;
  declared_at_ms: number;
}

// ---- royalty ledger (src/royalty): append-only, hash-chained ------------------------------------------

export interface LedgerEntryTable {
  seq: number;
  kind: string;
  period: string | null;
  licence_id: string | null;
  channel_id: string | null;
  day: string | null;
  revision: number | null;
  first_line_seq: number | null;
  lines_count: number;
  lines_digest: string | null;
  payload_json: string;
  created_at_ms: number;
  prev_hash: string;
  hash: string;
}

export interface LedgerHeadTable {
  id: number;
  seq: number;
  hash: string;
  line_seq: number;
  /** Lines up to this seq are in holder_lines. */
  holder_index_seq: number;
}

/** One accrual line: a reversal when reverses_seq is set; its tariff version is its entry's. */
export interface AccrualLineTable {
  seq: number;
  entry_seq: number;
  reverses_seq: number | null;
  detection_id: string | null;
  right_type: string;
  holder_id: string | null;
  reserve_reason: string | null;
  share_id: string | null;
  subject_id: string | null;
  airtime_ms: number;
  /** Weighted airtime, whole microseconds. */
  weighted_us: number;
  gross_tiyn: number;
  deduction_tiyn: number;
  net_tiyn: number;
}

export interface HolderLineTable {
  holder_id: string;
  period: string;
  seq: number;
}

export interface AccrualLockTable {
  period: string;
  owner: string;
  started_at_ms: number;
}

export interface UsageReportTable {
  licensee_id: string;
  period: string;
  issued_at_ms: number;
  deadline_ms: number;
}

export interface UsageConfirmationTable {
  licensee_id: string;
  detection_id: string;
  period: string;
  confirmed_at_ms: number;
}

export interface UsageDisputeTable {
  id: string;
  licensee_id: string;
  period: string;
  detection_id: string;
  reason: string;
  opened_at_ms: number;
  /** open | accepted | rejected */
  status: string;
  resolved_at_ms: number | null;
  resolution: string | null;
}

// ---- access (src/api, migration 0400): users, sessions, API tokens, audit log -------------------------

/** A person or machine account. The scope columns say which CMO, licensee or rights holder it acts for. */
export interface UserTable {
  id: string;
  username: string;
  display_name: string;
  /** operator | cmo_reviewer | registrar | broadcaster | rights_holder | capture_node */
  role: string;
  cmo_id: string | null;
  licensee_id: string | null;
  holder_id: string | null;
  /** The person's IIN, linking a digital-signature / eGov login to this account. */
  iin: string | null;
  /** scrypt$N$r$p$salt$hash (base64); null = no password login (external identity provider only). */
  password_hash: string | null;
  locale: string | null;
  disabled: number;
  created_at_ms: number;
}

/** A login session; the id is the SHA-256 of the cookie's secret, never the secret itself. */
export interface SessionTable {
  id: string;
  user_id: string;
  csrf_token: string;
  auth_method: string;
  created_at_ms: number;
  last_seen_ms: number;
  expires_at_ms: number;
  ip: string | null;
  user_agent: string | null;
}

/** A bearer token for a capture node or an integration, acting as its user; stored as a SHA-256. */
export interface ApiTokenTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at_ms: number;
  last_used_ms: number | null;
  expires_at_ms: number | null;
  revoked_at_ms: number | null;
}

/** Who did what to which thing, and when (append-only). */
export interface AuditLogTable {
  id: string;
  at_ms: number;
  actor_user_id: string | null;
  actor_name: string;
  actor_role: string;
  /** session | token | cli | system */
  via: string;
  action: string;
  subject_kind: string;
  subject_id: string;
  detail_json: string;
  ip: string | null;
}

// ---- distributed mode (src/distributed) -----------------------------------------------------------------

/** The centre's position in one channel's batch sequence, with the stitcher's checkpoint. */
export interface DistCursorTable {
  channel_id: string;
  /** The capture node's spool the sequence numbers belong to. */
  spool_id: string;
  next_seq: number;
  session: string | null;
  node_id: string | null;
  /** UTC end of the audio stitched so far. */
  position_ms: number | null;
  /** ChannelStitchState as JSON. */
  state_json: string;
  batches_applied: number;
  batches_lost: number;
  /** Wall clock at which the node sealed the last applied batch. */
  last_sealed_at_ms: number | null;
  updated_at_ms: number;
}

/** A batch or result that was refused, and why. */
export interface DistRejectionTable {
  id: string;
  channel_id: string | null;
  node_id: string | null;
  seq: number | null;
  /** oversized | malformed | unknown_channel | version | failed */
  reason: string;
  detail: string;
  at_ms: number;
}
