// The audio stage: any file or stream in, mono float PCM at a chosen rate out (see docs/audio.md).
export type { AudioInfo, DecodeOptions } from './types.js';
export { AudioError, AUDIO_ERROR_CODES, type AudioErrorCode } from './errors.js';
export { decodeAudio, decodeAudioFile } from './decode.js';
export { probeAudio } from './probe.js';
export {
  ffmpegAvailable,
  ffprobeAvailable,
  ffmpegPath,
  ffprobePath,
  ffmpegPcm,
  type FfmpegExit,
  type FfmpegPcmOptions,
  type FfmpegPcmStream,
} from './ffmpeg.js';
export type { FfmpegLogLine, InputHeader } from './ffmpeg-log.js';
// Pure helpers.
export {
  concatPcm,
  downmix,
  findSilence,
  isSilent,
  peak,
  peakDb,
  rms,
  rmsDb,
  SoundSpanMeter,
  toDb,
  type SilenceOptions,
  type SilentSpan,
  type SoundSpan,
} from './signal.js';
export { resample, resampledLength, Resampler, type ResamplerOptions } from './resample.js';
