/**
 * The simulator's vocabulary: a broadcast is a timeline of segments (music, speech, jingles) rendered
 * into one long file, then sent through a broadcast chain (EQ, compression, noise, band-pass, codec).
 * Every airing of music in the timeline becomes one line of ground truth.
 */

/** One airing of a piece of music: a span of a source file, placed in the broadcast. */
export interface MusicSegment {
  kind: 'music';
  /** Audio file of the reference recording, any format ffmpeg decodes. */
  source: string;
  /** Recording id in the reference index (for unregistered music: any label, with registered false). */
  recording: string;
  /** False for music that is not in the reference index: it must never be detected. */
  registered: boolean;
  /** Where the airing starts in the broadcast, seconds (the first audible sample, fade-in included). */
  atSec: number;
  /** The span of the source that is played, seconds from the start of the source. */
  refStartSec: number;
  refEndSec: number;
  /** Pitch and tempo together (sox `speed`): 1.03 plays 3 % faster and 3 % higher. Default 1. */
  speed?: number;
  /** Tempo only, pitch kept (sox `tempo`): 1.04 plays 4 % faster at the same pitch. Default 1. */
  tempo?: number;
  /** Gain applied to the source, dB. Default 0. */
  gainDb?: number;
  /** Equal-power fades, seconds of broadcast time, inside the played span. Default 0. */
  fadeInSec?: number;
  fadeOutSec?: number;
  /** Free labels copied to the ground truth (e.g. 'crossfade', 'partial', 'repeat', 'bed'). */
  tags?: string[];
}

/** Synthetic speech (espeak-ng): a DJ, a presenter, TV dialogue. */
export interface SpeechSegment {
  kind: 'speech';
  text: string;
  /** espeak-ng voice with optional variant, e.g. 'ru+m3', 'kk+f2', 'en-gb+m1'. */
  voice: string;
  atSec: number;
  /** espeak-ng speed in words per minute. Default 165. */
  wordsPerMinute?: number;
  /** espeak-ng pitch 0..99. Default 50. */
  pitch?: number;
  /**
   * Level relative to the music it is spoken over: the music-to-speech ratio in dB (mean power of the
   * music airing it overlaps most, over that airing's whole played span, divided by the active speech
   * power). +10 is speech well under the music, -5 is music 5 dB under the speech. Ignored when no
   * music overlaps; then levelDbfs applies.
   */
  snrDb?: number;
  /** Active speech level in dBFS when no music is under it. Default -20. */
  levelDbfs?: number;
}

/** A synthetic station jingle: tones and a whoosh, made from a seed, not registered music. */
export interface JingleSegment {
  kind: 'jingle';
  atSec: number;
  durationSec: number;
  seed: number;
  /** RMS level in dBFS. Default -20. */
  levelDbfs?: number;
}

export type TimelineSegment = MusicSegment | SpeechSegment | JingleSegment;

/** What happens to the mixed broadcast before it is written: the station's and the channel's processing. */
export interface BroadcastChain {
  /** Shelving EQ gains, dB (ffmpeg bass/treble at 100 Hz and 6 kHz) and a mid peak at 1.5 kHz. */
  eq?: { bassDb: number; midDb: number; trebleDb: number };
  /** Broadcast loudness processing: ffmpeg acompressor (4:1 from -20 dB, fast) with make-up gain. */
  compress?: boolean;
  /** Peak limiter at -1 dBFS (ffmpeg alimiter). */
  limit?: boolean;
  /** Added noise, as signal-to-noise ratio against the mean power of the whole mix (non-silent part). */
  noise?: { snrDb: number; color: 'pink' | 'white'; seed: number };
  /** Band-pass, Hz (telephone: 300-3400). Applied after the noise. */
  bandpassHz?: [number, number];
  /** Sample rate of the written file (the resampling step). Default 44100. */
  outputSampleRate?: number;
  /** Codec of the written file. wav is 16-bit PCM. */
  codec: 'mp3' | 'aac' | 'wav';
  /** Bit rate for mp3 and aac, kbit/s. */
  bitrateKbps?: number;
  /** Channels of the written file (the mix is mono; 2 duplicates it). Default 2. */
  channels?: 1 | 2;
}

export interface Timeline {
  /** Sample rate the mix is rendered at. Default 22050. */
  sampleRate?: number;
  /** Length of the broadcast; default: the end of the last segment plus one second. */
  durationSec?: number;
  segments: TimelineSegment[];
  /** Default: none (16-bit wav at the render rate). */
  chain?: BroadcastChain;
  /** Condition label written to the ground truth. Default 'custom'. */
  condition?: string;
}

/** One airing of one piece of music in a rendered broadcast: what a perfect recogniser would report. */
export interface TruthAiring {
  /** The broadcast file (basename). */
  file: string;
  recording: string;
  registered: boolean;
  /** Broadcast seconds: first audible sample (start of fade-in) to last (end of fade-out). */
  start: number;
  end: number;
  /** Reference seconds played (refEnd - refStart = (end - start) * speed * tempo, up to rounding). */
  refStart: number;
  refEnd: number;
  /** Pitch+tempo factor (sox speed) and tempo-only factor (sox tempo); 1 when untouched. */
  speed: number;
  tempo: number;
  condition: string;
  /** Realised music-to-speech ratio of the speech spoken over this airing (worst one), null if none. */
  snrDb: number | null;
  tags: string[];
}

export interface RenderedBroadcast {
  path: string;
  durationSec: number;
  truth: TruthAiring[];
}
