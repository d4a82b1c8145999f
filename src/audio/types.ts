export interface DecodeOptions {
  /** Target mono sample rate in Hz, e.g. 8000. */
  sampleRate: number;
  /** Samples per yielded chunk; every chunk but the last has exactly this size. Default: one second. */
  chunkSamples?: number;
  signal?: AbortSignal;
  /** Problems that did not stop the decode: corrupt frames skipped, a truncated file, a short read. */
  onWarning?: (message: string) => void;
  /** 'auto' (default) uses ffmpeg when installed, else the web-audio fallback. */
  decoder?: 'auto' | 'ffmpeg' | 'web-audio';
}

/** What a file holds, before decoding it. */
export interface AudioInfo {
  /** Length of the audio in seconds; null when the container does not say (raw streams). */
  durationSec: number | null;
  /** Container as the prober names it: 'mp3', 'wav', 'ogg', 'flac', 'mov,mp4,m4a,3gp,3g2,mj2', 'matroska,webm'. */
  container: string;
  /** Codec of the first audio stream: 'mp3', 'pcm_s16le', 'vorbis', 'opus', 'flac', 'aac'. */
  codec: string;
  channels: number;
  /** Native sample rate of the first audio stream in Hz. */
  sampleRate: number;
  /** Overall bit rate in bits per second, when known. */
  bitRateBps: number | null;
  /** True when the file also carries a video stream (the audio track of a video). */
  hasVideo: boolean;
}
