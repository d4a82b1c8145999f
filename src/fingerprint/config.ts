/**
 * Every tunable number of the recognition engine, in one place. Changing anything that alters the
 * peaks or the hashes must bump FINGERPRINT_SCHEME: the reference index stores the scheme it was built
 * with and refuses to mix schemes. docs/fingerprint.md explains the design.
 */
export const FINGERPRINT_SCHEME = 'tyndau-tri-1';

/** Audio is analysed mono at this rate: telephone band up to 4 kHz carries enough music. */
export const ANALYSIS_SAMPLE_RATE = 8000;

export const STFT = {
  fftSize: 1024,
  hopSamples: 128,
  /** Lowest and highest analysed frequency. Below ~130 Hz one FFT bin is wider than the speed change we must follow. */
  minFreqHz: 130,
  maxFreqHz: 3600,
} as const;

export const FRAMES_PER_SEC = ANALYSIS_SAMPLE_RATE / STFT.hopSamples; // 62.5

export const PEAKS = {
  /** A peak is the largest value within +-freqRadiusBins and +-timeRadiusFrames. */
  freqRadiusBins: 9,
  timeRadiusFrames: 7,
  /** Minimum height of a peak as a multiple of its frame's mean power. */
  minProminence: 2,
  /** Frames whose total power is below this (dB relative to a full-scale sine) give no peaks. */
  silenceDb: -66,
  /** Density caps per block of blockFrames: the reference keeps fewer, stronger peaks than a query. */
  blockFrames: 32,
  maxPeaksPerBlockReference: 7,
  maxPeaksPerBlockQuery: 14,
} as const;

export const HASH = {
  /** Target zone of an anchor: peaks between minDt and maxDt frames later, within +-maxOctaves. */
  minDtFrames: 3,
  maxDtFrames: 80,
  maxOctaves: 1.5,
  /** How many zone peaks (the earliest) form triplets with the anchor: C(K, 2) triplets per anchor. */
  zonePeaksReference: 3,
  zonePeaksQuery: 5,
  /** Quantisation of the scale-invariant parts. */
  stepsPerOctave: 24,
  ratioLevels: 8,
  /** Coarse, not invariant parts: anchor band (octaves per band) and the triplet's length (log2 frames). */
  bandOctaves: 0.5,
  dtLog2Step: 0.5,
  /** Largest speed change searched for, both directions (pitch and tempo together, or tempo alone). */
  maxSpeedChange: 0.06,
  /** Estimation slack for frequency (octaves) and time-ratio when expanding query lookups over bin edges. */
  freqSlackOctaves: 0.008,
  ratioSlack: 0.03,
} as const;

/** Peak coordinates are stored quantised so that enrolment and query derive identical hashes. */
export const QUANT = {
  /** Time unit of a stored peak: 1/8 frame (2 ms). */
  timeUnitsPerFrame: 8,
  /** Frequency unit of a stored peak: 1/1024 octave above minFreqHz. */
  freqUnitsPerOctave: 1024,
} as const;

export const MATCH = {
  /** Query audio is voted on in windows of this many frames, overlapping by half. */
  windowFrames: 250,
  /** Width of an offset bin in the Hough vote (frames). */
  offsetBinFrames: 24,
  /**
   * A window's best bin must hold at least this many votes to become a hit. A track of fewer than 6
   * points has no confidence of its own: only the spectrum's verification lets it through, so matching
   * without the spectrum (peaks only, or verifyShort off) keeps minHitVotesPeaksOnly.
   */
  minHitVotes: 4,
  minHitVotesPeaksOnly: 5,
  /** A detection still open is closed after this much query time without a hit that continues it. */
  closeAfterSec: 9,
  /** A hit continues a detection when its offset is within this slack of the detection's line. */
  continueSlackSec: 0.6,
  /** Detections below this confidence are dropped (see docs/recognition.md for the measured false-positive rate). */
  minConfidence: 0.5,
  /**
   * Spectrum verification of short airings (docs/recognition.md): a track of at least verifyMinPoints
   * points whose reference peaks stand in the query spectrum verifyMinZ standard deviations above
   * chance is scored as if it had verifyBonusPoints more points.
   */
  verifyMinPoints: 12,
  verifyMinZ: 5.5,
  verifyBonusPoints: 10,
  /**
   * ... unless the ranking against nearby times (below), where judged, stays under this: the
   * frequency-shifted places of that ranking are lifted by music in the reference's key, and with
   * hits from 4 votes a 12-point track of similar game music over another recording's jingle reached
   * 5.6 there and 2.2 against nearby times (real tracks that need this rule: 3.2 and 4.8).
   */
  verifyNearMinZ: 3,
  /**
   * Verification against nearby times (docs/recognition.md): a track of any size whose reference peaks
   * (nearMinPeaks or more) rank nearMinZ standard deviations above the same frequencies a fraction of a
   * second earlier and later in the query counts as nearBonusPoints more points.
   */
  nearMinZ: 5,
  nearBonusPoints: 14,
  /**
   * Reference peaks the ranking against nearby times needs (about a second of reference): a burst
   * shorter than the comparisons' reach is judged against places outside it, where a pause in a voice
   * makes anything look loud (speech bursts of 0.3-0.45 s reached 4.4-5.0 with 9-13 peaks).
   */
  nearMinPeaks: 14,
  /**
   * The same floor, about two seconds of reference, where the ranking reaches past the matched points
   * to the airing's edges (found in the spectrum), and for any track of fewer than MIN_POINTS (6)
   * points (a few seconds of a bed under a voice leave 4-5): the edges can stretch a 0.45-s burst of
   * speech to the 14 peaks of the floor (it ranked 5.0-5.1 over them, at 4 and at 6 points); the real
   * tracks verified that way rank over 35-165.
   */
  nearMinPeaksAiring: 28,
  /**
   * The ranking of the dense reference peaks verifies at nearMinZ only where the sparse peaks' ranking
   * agrees to this many standard deviations: similar game music shares motifs of about a second,
   * which the dense ranking calls present (a 1-s motif on the full preset's unregistered music
   * ranked 5.1 dense and 3.2 sparse; its repeats 3.1-3.7 sparse).
   */
  nearDenseSupportZ: 4,
  /**
   * Spectrum veto (docs/recognition.md): a track of fewer than vetoBelowPoints points (confidence
   * below 0.99) whose reference peaks rank less than vetoMaxZ standard deviations above chance in the
   * query spectrum gets confidence 0.
   */
  vetoBelowPoints: 31,
  vetoMaxZ: 3,
} as const;

/**
 * The rotation search (src/match/rotation.ts, docs/recognition.md Matching step 7): recordings a
 * channel aired recently are searched for one query peak at a time, at the speed they aired at.
 */
export const ROTATION = {
  /** Recordings kept per channel (most recently heard first). */
  maxRecordings: 32,
  /** A recording not heard for this long leaves the rotation (query frames: 6 hours). */
  horizonFrames: 6 * 3600 * FRAMES_PER_SEC,
  /** Width of an offset bin of the single-peak vote (frames); a pair of adjacent bins is scored. */
  offsetBinFrames: 2,
  /** Coinciding peaks a window's best pair of offset bins needs to be a candidate ... */
  minVotes: 8,
  /**
   * ... and so many that chance would give them to the best of the recording's pairs of offset bins
   * in at most this share of searches (a Poisson count at the average pair's rate: music's peaks
   * cluster more than that, so this only thins the candidates; the spectrum judges them).
   */
  maxChance: 0.002,
  /**
   * A candidate opens a track when its reference peaks (dense where stored) rank this many standard
   * deviations above nearby times over the window; the track is then judged like any other at its close.
   */
  minNearZ: 5,
  /** ... judged over the span of its coinciding peaks and this much around it, within the window. */
  spanMarginFrames: Math.round(0.5 * FRAMES_PER_SEC),
} as const;

/**
 * A recording's audible span, measured at enrolment (SoundSpanMeter): from the first to the last block
 * whose RMS level is above audibleDbfs. Below it lie leading silence and the tail of a reverb or a
 * fade-out, which no listener hears under a presenter or the next song.
 */
export const SOUND_SPAN = {
  blockSec: 0.05,
  audibleDbfs: -50,
} as const;

/**
 * Plays taken through to the recording's own start and end (docs/recognition.md, Matching step 4):
 * a confirmed airing of at least minPlaySec whose edge lies within maxGapSec of reference audio of the
 * recording's audible start (end), or within quietMaxGapSec when that stretch of the reference holds
 * fewer dense peaks than MATCH.nearMinPeaksAiring (too few for any ranking to tell present from
 * absent: a quiet intro or ending), is taken to start (end) there, unless the reference's peaks over
 * the stretch, when at least minPeaks of them are ranked, rank below chance by more than maxBelowZ
 * standard deviations against nearby times.
 */
export const PLAY_THROUGH = {
  maxGapSec: 2,
  quietMaxGapSec: 8,
  minPlaySec: 20,
  minPeaks: 14,
  maxBelowZ: 1,
} as const;
