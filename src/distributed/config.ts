/**
 * Every tunable number of distributed mode, in one place (see docs/distributed.md). Times carry their
 * unit in the name; "audio" times are seconds of the channel's audio, "wall" times the process clock.
 */
export interface DistributedConfig {
  // --- capture node ------------------------------------------------------------------------------
  /** A batch is sealed after this much audio (query peaks of ~5 s are ~1 KB). */
  batchSec: number;
  /** Peaks of this much earlier audio ride along with each batch so any worker can match it cold. */
  contextSec: number;
  /** With no audio flowing, pending gap records and the heartbeat are shipped this often (wall). */
  heartbeatSec: number;
  /** The on-disk spool of one channel may grow to this; beyond it the oldest batches are dropped. */
  spoolMaxBytes: number;
  /** Spool segment files are this large; a segment is deleted once all its batches are acknowledged. */
  spoolSegmentBytes: number;
  /** Batches sent but not yet acknowledged by the centre, per channel (flow control). */
  maxInFlight: number;
  /** Unacknowledged batches are sent again after this long without progress (wall). */
  resendAfterSec: number;
  /** How often a capture node reads the centre's acknowledgements (wall). */
  ackPollMs: number;
  /** 1: each finished air-check clip is uploaded to the centre with its detection; 0: clips stay on the node. */
  uploadEvidence: number;

  // --- matcher workers ---------------------------------------------------------------------------
  /** Batches (JSON) larger than this are rejected unread. */
  maxBatchBytes: number;
  /** Most peaks a batch may carry (own and context), against absurd payloads. */
  maxBatchPeaks: number;
  /** Batches processed at once per worker process (matching is CPU-bound: 1 per core). */
  workerConcurrency: number;
  /** A worker that stops renewing its lock for this long is dead: its batch goes to another worker. */
  lockDurationMs: number;
  /** Attempts per batch before it fails for good (errors, not rejections: those fail at once). */
  attempts: number;
  /** Reference index refresh interval; a catalogue-change message refreshes at once (wall). */
  indexRefreshSec: number;
  /** Benchmarks and tests only: extra milliseconds of work per batch (imitates a large catalogue). */
  simulateWorkMs: number;

  // --- centre ------------------------------------------------------------------------------------
  /** An open airing is final once the channel's stitched audio reaches its end plus this. */
  finalizeAfterSec: number;
  /** Fragments of one airing join across up to this much audio without a match (the matcher's close time). */
  joinGapSec: number;
  /** Final detections are remembered this long, so a late fragment of them is absorbed, not duplicated. */
  recentKeepSec: number;
  /** A final detection whose airing resumes on the same line within this much audio is extended (same id). */
  extendGapSec: number;
  /** Results waiting for an earlier batch of their channel, at most, per channel. */
  maxReorder: number;
  /** Acknowledgements, the channel list and the centre's epoch are written to Redis this often (wall). */
  republishMs: number;
}

export const DISTRIBUTED_DEFAULTS: Readonly<DistributedConfig> = Object.freeze({
  batchSec: 5,
  contextSec: 10,
  heartbeatSec: 5,
  spoolMaxBytes: 1024 ** 3,
  spoolSegmentBytes: 4 * 1024 ** 2,
  maxInFlight: 64,
  resendAfterSec: 120,
  ackPollMs: 500,
  uploadEvidence: 1,

  maxBatchBytes: 256 * 1024,
  maxBatchPeaks: 40_000,
  workerConcurrency: 1,
  lockDurationMs: 30_000,
  attempts: 5,
  indexRefreshSec: 30,
  simulateWorkMs: 0,

  finalizeAfterSec: 13,
  joinGapSec: 9,
  recentKeepSec: 300,
  extendGapSec: 30,
  maxReorder: 5000,
  republishMs: 5000,
});

/** Merges overrides onto the defaults and rejects numbers that cannot work, naming the setting. */
export function distributedConfig(overrides: Partial<Record<string, unknown>> = {}): DistributedConfig {
  const known = new Set(Object.keys(DISTRIBUTED_DEFAULTS));
  for (const key of Object.keys(overrides)) {
    if (!known.has(key)) {
      throw new Error(`unknown distributed setting "${key}" (known: ${[...known].join(', ')})`);
    }
  }
  const config = { ...DISTRIBUTED_DEFAULTS, ...overrides } as DistributedConfig;
  for (const [key, value] of Object.entries(config)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      throw new Error(
        `distributed setting ${key} must be a finite number >= 0, got ${JSON.stringify(value)}`,
      );
    }
  }
  for (const key of [
    'batchSec',
    'heartbeatSec',
    'maxInFlight',
    'maxBatchBytes',
    'workerConcurrency',
  ] as const) {
    if (config[key] <= 0) throw new Error(`distributed setting ${key} must be positive`);
  }
  if (config.finalizeAfterSec < config.contextSec) {
    // a batch's context reaches back contextSec: an airing must not be final while a later batch can still see it
    throw new Error(
      `distributed setting finalizeAfterSec (${config.finalizeAfterSec}) must be >= contextSec (${config.contextSec})`,
    );
  }
  if (config.spoolSegmentBytes * 2 > config.spoolMaxBytes) {
    throw new Error('distributed setting spoolMaxBytes must hold at least two spool segments');
  }
  if (!Number.isInteger(config.workerConcurrency) || !Number.isInteger(config.maxInFlight)) {
    throw new Error('distributed settings workerConcurrency and maxInFlight must be integers');
  }
  return config;
}
