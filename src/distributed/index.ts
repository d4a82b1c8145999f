// Distributed mode: capture nodes, matcher workers and the centre on BullMQ and Redis
// (see docs/distributed.md). Embedded mode (src/monitor, one process, no Redis) stays the default.
export { DISTRIBUTED_DEFAULTS, distributedConfig, type DistributedConfig } from './config.js';
export {
  BatchRejected,
  UNITS_PER_SEC,
  WIRE_VERSION,
  batchJobId,
  batchPeaks,
  fromWirePeaks,
  toWirePeaks,
  validateBatch,
  validateResult,
  type BatchContext,
  type BatchResult,
  type PeakBatch,
  type SealedBatch,
  type SkipMark,
  type WirePeaks,
} from './batch.js';
export { PeakBatcher, type BatcherOptions, type CentreFeedback } from './batcher.js';
export { matchBatch, type BatchAudio, type Fragment } from './matching.js';
export {
  ChannelStitcher,
  emptyStitchState,
  resultInput,
  type ChannelStitchPolicy,
  type ChannelStitchState,
  type StitchInput,
  type StitchOutput,
} from './stitcher.js';
// Adapters (disk, Redis, database, HTTP).
export { ChannelSpool, type SpoolOptions, type SpooledBatch } from './spool.js';
export { BATCH_QUEUE, EVIDENCE_QUEUE, RESULT_QUEUE, connectRedis, keys, redactUrl } from './redis.js';
export { CentreLink, type LinkStatus } from './sender.js';
export { CaptureNode, type CaptureNodeOptions } from './capture-node.js';
export {
  AiringsFeed,
  EvidenceUploader,
  MAX_CLIP_BYTES,
  storeClip,
  validateUpload,
  type AiringsMessage,
  type EvidenceUpload,
} from './evidence.js';
export { MatcherWorker, type MatcherWorkerOptions } from './matcher-worker.js';
export { Centre, type CentreOptions, type ChannelFlow } from './centre.js';
export { DistributedRepository, type ChannelCursor, type Rejection } from './repository.js';
export { deploymentFromEnv, type Deployment } from './deployment.js';
export { distributedStatus, formatDistributedStatus, type DistributedStatus } from './status.js';
