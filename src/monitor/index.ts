// The monitor stage: live channels -> ffmpeg -> clock -> matcher -> detections, gaps, evidence, health
// (see docs/monitoring.md).
export type * from './types.js';
export { CHANNEL_KINDS } from './types.js';
export { MONITOR_DEFAULTS, monitorConfig, type MonitorConfig } from './config.js';
export { validateChannel, channelsFromConfig, type ChannelInput } from './channels.js';
export { parseSource, formatSource, sourceFromJson, isRecordedSource, ffmpegInputArgs } from './source.js';
export { Monitor, evidenceRetentionPass, type MonitorOptions } from './monitor.js';
export { ChannelRunner, type RunnerOptions, type StreamMatcherLike } from './runner.js';
export { MonitorRepository } from './repository.js';
export { channelStatus, type ChannelStatus } from './status.js';
export { MonitorMetrics } from './metrics.js';
export {
  startCapture,
  captureArgs,
  type CaptureExit,
  type CaptureOptions,
  type CaptureSession,
} from './capture.js';
export { EvidenceRecorder, applyRetention, clipPath, listClips } from './evidence.js';
// Pure parts.
export { backoffDelayMs, seededRandom, type BackoffPolicy, type Random } from './backoff.js';
export { SourceSelector } from './failover.js';
export { ConnectionClock, Timeline, type Placement } from './clock.js';
export {
  parsePlaylist,
  parseDateTime,
  runFrom,
  advanceRun,
  continuesRun,
  type MediaPlaylist,
  type MediaSegment,
  type RunPosition,
} from './playlist.js';
export { SilenceDetector, type SilenceEvent } from './silence.js';
export { GapTracker, gapId, type GapChange } from './gaps.js';
export { DetectionStitcher, detectionId, type UtcDetection } from './stitch.js';
export { clipsToDelete, type StoredClip, type RetentionPolicy } from './retention.js';
export { uptimeRatio, localDayBounds, zonedTimeToUtcMs, loggerFileStartMs, checkTimeZone } from './health.js';
export { Mp3FrameSplitter, EvidenceRing, indexMp3Frames, readMp3Header, type TimedFrame } from './mp3.js';
