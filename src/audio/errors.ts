/** Why a file or stream could not be turned into PCM. Each code has one meaning, whatever the decoder. */
export type AudioErrorCode =
  /** The path does not exist. */
  | 'FILE_NOT_FOUND'
  /** The file is something else (text, HTML, an image, an archive) or no decoder recognises it as media. */
  | 'NOT_AUDIO'
  /** Zero bytes, no audio stream (a video without sound), or an audio stream with no samples. */
  | 'EMPTY'
  /** The file holds audio in a codec the decoder cannot decode. */
  | 'UNSUPPORTED_CODEC'
  /** The container or codec was recognised but not a single valid frame decoded. */
  | 'CORRUPT'
  /** The format needs ffmpeg and ffmpeg is not installed (or the chosen decoder cannot read it). */
  | 'DECODER_MISSING'
  /** Anything else: permissions, a network failure, ffmpeg exiting for a reason we do not classify. */
  | 'DECODE_FAILED';

export const AUDIO_ERROR_CODES: readonly AudioErrorCode[] = [
  'FILE_NOT_FOUND',
  'NOT_AUDIO',
  'EMPTY',
  'UNSUPPORTED_CODEC',
  'CORRUPT',
  'DECODER_MISSING',
  'DECODE_FAILED',
];

/** A decode failure with a code to branch on and a message that names the file and the problem. */
export class AudioError extends Error {
  constructor(
    readonly code: AudioErrorCode,
    /** The file path or stream URL that failed. */
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AudioError';
  }
}

export const INSTALL_FFMPEG_HINT =
  'install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg, or run scripts/setup-system.sh; ' +
  'macOS: brew install ffmpeg) or set TYNDAU_FFMPEG to its path';
