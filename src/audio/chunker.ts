/**
 * Turns a byte stream of little-endian float32 samples (ffmpeg's f32le), cut at arbitrary byte
 * boundaries, into Float32Array chunks of a fixed length. Pure: no I/O.
 */

const LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

export class PcmChunker {
  private chunk: Float32Array;
  private bytes: Uint8Array;
  private filledBytes = 0;
  private total = 0;

  constructor(readonly chunkSamples: number) {
    if (!Number.isInteger(chunkSamples) || chunkSamples < 1) {
      throw new RangeError(`chunkSamples must be a positive whole number, got ${chunkSamples}`);
    }
    if (!LITTLE_ENDIAN) throw new Error('PcmChunker: big-endian hosts are not supported');
    this.chunk = new Float32Array(chunkSamples);
    this.bytes = new Uint8Array(this.chunk.buffer);
  }

  /** Complete samples received so far. */
  get samplesIn(): number {
    return this.total + Math.floor(this.filledBytes / 4);
  }

  /** Adds bytes; returns the chunks that are now full (each a fresh array the caller may keep). */
  push(data: Uint8Array): Float32Array[] {
    const full: Float32Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(data.length - offset, this.bytes.length - this.filledBytes);
      this.bytes.set(data.subarray(offset, offset + n), this.filledBytes);
      this.filledBytes += n;
      offset += n;
      if (this.filledBytes === this.bytes.length) {
        full.push(this.chunk);
        this.total += this.chunkSamples;
        this.chunk = new Float32Array(this.chunkSamples);
        this.bytes = new Uint8Array(this.chunk.buffer);
        this.filledBytes = 0;
      }
    }
    return full;
  }

  /** The last, shorter chunk (null when empty). A trailing partial sample (1-3 bytes) is dropped. */
  flush(): Float32Array | null {
    const samples = Math.floor(this.filledBytes / 4);
    this.filledBytes = 0;
    if (samples === 0) return null;
    this.total += samples;
    return this.chunk.slice(0, samples);
  }
}

/** The same for float input: regroups arrays of any length into chunks of a fixed length. */
export class FloatChunker {
  private chunk: Float32Array;
  private filled = 0;

  constructor(readonly chunkSamples: number) {
    if (!Number.isInteger(chunkSamples) || chunkSamples < 1) {
      throw new RangeError(`chunkSamples must be a positive whole number, got ${chunkSamples}`);
    }
    this.chunk = new Float32Array(chunkSamples);
  }

  push(data: Float32Array): Float32Array[] {
    const full: Float32Array[] = [];
    let offset = 0;
    while (offset < data.length) {
      const n = Math.min(data.length - offset, this.chunkSamples - this.filled);
      this.chunk.set(data.subarray(offset, offset + n), this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.chunkSamples) {
        full.push(this.chunk);
        this.chunk = new Float32Array(this.chunkSamples);
        this.filled = 0;
      }
    }
    return full;
  }

  flush(): Float32Array | null {
    if (this.filled === 0) return null;
    const last = this.chunk.slice(0, this.filled);
    this.filled = 0;
    return last;
  }
}
