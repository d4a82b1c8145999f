/** One continuous airing of one registered recording found in a query (a file or a live stream). */
export interface Detection {
  /** Recording id in the reference index. */
  recording: string;
  /** Start and end in the query, seconds from its first sample. */
  start: number;
  end: number;
  /** The matching span of the reference recording, seconds from its start. */
  refStart: number;
  refEnd: number;
  /** Playback speed relative to the reference: 1.03 means the query plays 3 % faster (time axis). */
  speed: number;
  /** Calibrated confidence in 0..1 (see docs/recognition.md for the threshold and its false-positive rate). */
  confidence: number;
}
