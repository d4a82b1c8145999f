export {
  ANALYSIS_SAMPLE_RATE,
  FINGERPRINT_SCHEME,
  FRAMES_PER_SEC,
  HASH,
  MATCH,
  PEAKS,
  QUANT,
  PLAY_THROUGH,
  ROTATION,
  SOUND_SPAN,
  STFT,
} from './config.js';
export { EnrolmentExtractor, PeakExtractor, extractPeaks, sortPeaks, type PeakDensity } from './extract.js';
export { type Peak, freqUnitsToHz } from './peaks.js';
export { HASH_SPACE, forEachTriplet, packAux, queryHashes, tripletHash, unpackAux } from './hashes.js';
export { encodePeaks, decodePeaks } from './codec.js';
