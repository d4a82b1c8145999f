/**
 * The broadcast simulator: renders timelines of music, speech and jingles through a broadcast chain
 * into one file with ground truth. Used by the benchmark (scripts/bench) and by end-to-end tests that
 * need a realistic broadcast with known answers.
 */
export { renderBroadcast, DEFAULT_RENDER_RATE, type RenderOptions } from './render.js';
export { SourceCache } from './sources.js';
export { synthesizeSpeech, type SpeechRequest } from './speech.js';
export { synthesizeJingle } from './jingle.js';
export { Rng } from './rng.js';
export {
  buildConditionTimeline,
  extensionFor,
  CONDITION_IDS,
  CONDITION_DESCRIPTIONS,
  NO_MUSIC_CONDITIONS,
  type CatalogueTrack,
  type ConditionId,
  type ConditionContext,
} from './conditions.js';
export type {
  BroadcastChain,
  JingleSegment,
  MusicSegment,
  RenderedBroadcast,
  SpeechSegment,
  Timeline,
  TimelineSegment,
  TruthAiring,
} from './types.js';
