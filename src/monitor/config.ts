/**
 * Every tunable number of live monitoring, in one place. Times are in the units their names say;
 * "wall" timers (watchdogs, backoff) run on the process's real clock, while everything stamped on
 * audio (gaps, detections) follows the monitor's `now()` (see docs/monitoring.md, "Clock").
 */
export interface MonitorConfig {
  /** Sample rate of the PCM handed to the matcher (the fingerprint's analysis rate). */
  analysisSampleRate: number;

  // --- capture and reconnect ---------------------------------------------------------------
  /** First reconnect delay after a failure. */
  backoffBaseMs: number;
  /** Ceiling of the reconnect delay. */
  backoffMaxMs: number;
  /** Growth of the delay per consecutive failure. */
  backoffFactor: number;
  /** Share of each delay that is random (0 = none, 1 = "full jitter"). */
  backoffJitter: number;
  /** No PCM at all this long after spawning ffmpeg: the source never answered. */
  connectTimeoutMs: number;
  /** No PCM for this long while connected: the stream stalled; ffmpeg is killed and restarted. */
  stallTimeoutMs: number;
  /** After SIGTERM, ffmpeg gets this long to exit before SIGKILL (the hung-process watchdog). */
  killGraceMs: number;
  /** ffmpeg's own socket read/write timeout for network inputs. */
  ioTimeoutMs: number;
  /** A connection counts as healthy (its source's backoff resets) after this much audio. */
  healthyAfterSec: number;
  /** Consecutive failures of every source after which the channel's state says `failed`. */
  failedAfterAttempts: number;
  /**
   * While on a fallback source, a higher-priority source is probed when its backoff delay has run out;
   * the probe must deliver this much audio before the runner switches back.
   */
  recoveryProbeSec: number;

  // --- clock -----------------------------------------------------------------------------------
  /** Audio held at the start of each connection while the UTC anchor settles. */
  anchorSettleSec: number;
  /**
   * A connection whose anchor turns out this much too late (a chunk arrived sooner than its first
   * audio did) has its audio re-timed, as a whole, that much earlier.
   */
  anchorRetimeMs: number;
  /** A chunk whose UTC differs from the running timeline by more than this is a discontinuity. */
  discontinuityToleranceMs: number;
  /** Window over which the smallest arrival lag is tracked to catch a source clock running slow. */
  driftWindowSec: number;
  /** If even the smallest lag in the window exceeds this, the anchor is moved forward. */
  driftToleranceMs: number;

  // --- gaps and silence ------------------------------------------------------------------------
  /** RMS level (dBFS) below which audio counts as silent. */
  silenceThresholdDb: number;
  /** Silence shorter than this is programme, not a gap. */
  silenceMinSec: number;
  /** Unheard periods shorter than this are logged as discontinuities but not stored as gaps. */
  minGapMs: number;

  // --- detections ------------------------------------------------------------------------------
  /** How often the open detections are persisted (in seconds of audio) while they last. */
  openPersistEverySec: number;
  /** A detection closing within this long before a discontinuity is held for a possible continuation. */
  stitchEdgeSec: number;
  /** After a discontinuity, how much heard audio a held detection waits for its continuation. */
  stitchWaitSec: number;
  /** Reference-offset mismatch allowed when joining two parts of one airing across a gap. */
  stitchOffsetToleranceSec: number;
  /** A stored detection of the same recording starting within this of a new one is the same airing. */
  duplicateToleranceMs: number;

  // --- evidence (air-check) --------------------------------------------------------------------
  /** Evidence is encoded by the capture ffmpeg as CBR MP3 at this rate and bit rate. */
  evidenceSampleRate: number;
  evidenceBitrateKbps: number;
  /** Rolling buffer of compressed audio kept in memory per channel. */
  evidenceRingSec: number;
  /** Audio kept before the start and after the end of a detection. */
  evidenceMarginSec: number;
  /** Retention: clips older than this are deleted. */
  evidenceMaxAgeDays: number;
  /** Retention: the oldest clips are deleted while the total exceeds this. */
  evidenceMaxBytes: number;
  /** How often retention runs. */
  evidenceRetentionEveryMs: number;

  // --- health ----------------------------------------------------------------------------------
  /** How often each runner writes its state and heartbeat to the store. */
  heartbeatEveryMs: number;
  /** A heartbeat older than this means the monitor is not running. */
  heartbeatStaleMs: number;
  /** Window of the uptime percentage. */
  uptimeWindowMs: number;
}

export const MONITOR_DEFAULTS: Readonly<MonitorConfig> = Object.freeze({
  analysisSampleRate: 8000,

  backoffBaseMs: 1000,
  backoffMaxMs: 60_000,
  backoffFactor: 2,
  backoffJitter: 0.5,
  connectTimeoutMs: 20_000,
  stallTimeoutMs: 15_000,
  killGraceMs: 3000,
  ioTimeoutMs: 10_000,
  healthyAfterSec: 10,
  failedAfterAttempts: 5,
  recoveryProbeSec: 3,

  anchorSettleSec: 3,
  anchorRetimeMs: 100,
  discontinuityToleranceMs: 750,
  driftWindowSec: 300,
  driftToleranceMs: 1000,

  silenceThresholdDb: -55,
  silenceMinSec: 10,
  minGapMs: 500,

  openPersistEverySec: 5,
  stitchEdgeSec: 20,
  stitchWaitSec: 30,
  stitchOffsetToleranceSec: 3,
  duplicateToleranceMs: 5000,

  evidenceSampleRate: 16_000,
  evidenceBitrateKbps: 32,
  evidenceRingSec: 180,
  evidenceMarginSec: 5,
  evidenceMaxAgeDays: 180,
  evidenceMaxBytes: 20 * 1024 ** 3,
  evidenceRetentionEveryMs: 10 * 60_000,

  heartbeatEveryMs: 5000,
  heartbeatStaleMs: 30_000,
  uptimeWindowMs: 24 * 3600_000,
});

/** Merges overrides onto the defaults and rejects numbers that cannot work. */
export function monitorConfig(overrides: Partial<MonitorConfig> = {}): MonitorConfig {
  const config: MonitorConfig = { ...MONITOR_DEFAULTS, ...overrides };
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new Error(`monitor config ${key} must be a finite number, got ${String(value)}`);
    }
    if (value < 0 && key !== 'silenceThresholdDb') {
      throw new Error(`monitor config ${key} must not be negative, got ${value}`);
    }
  }
  if (config.backoffJitter > 1) throw new Error(`monitor config backoffJitter must be in 0..1`);
  if (config.backoffFactor < 1) throw new Error(`monitor config backoffFactor must be >= 1`);
  if (config.backoffMaxMs < config.backoffBaseMs) {
    throw new Error(`monitor config backoffMaxMs must be >= backoffBaseMs`);
  }
  return config;
}
