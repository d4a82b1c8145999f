import type { Peak } from './peaks.js';

/**
 * Compact byte encoding of a time-sorted peak list for storage: per peak a varint of the time delta
 * (time units) and a 16-bit frequency. About 3.5 bytes a peak.
 */
export function encodePeaks(peaks: readonly Peak[]): Uint8Array {
  const buf = new Uint8Array(peaks.length * 7 + 8);
  let o = 0;
  let prev = 0;
  for (const p of peaks) {
    let d = p.t - prev;
    if (d < 0) throw new Error('encodePeaks: peaks must be sorted by time');
    prev = p.t;
    while (d >= 0x80) {
      buf[o++] = (d & 0x7f) | 0x80;
      d >>>= 7;
    }
    buf[o++] = d;
    if (p.f < 0 || p.f > 0xffff) throw new Error(`encodePeaks: frequency ${p.f} out of range`);
    buf[o++] = p.f & 0xff;
    buf[o++] = p.f >> 8;
  }
  return buf.slice(0, o);
}

export function decodePeaks(bytes: Uint8Array): Peak[] {
  const out: Peak[] = [];
  let o = 0;
  let t = 0;
  while (o < bytes.length) {
    let d = 0;
    let shift = 0;
    let b: number;
    do {
      if (o >= bytes.length) throw new Error('decodePeaks: truncated peak data');
      b = bytes[o++];
      d += (b & 0x7f) * 2 ** shift;
      shift += 7;
    } while (b & 0x80);
    if (o + 2 > bytes.length) throw new Error('decodePeaks: truncated peak data');
    t += d;
    out.push({ t, f: bytes[o] | (bytes[o + 1] << 8) });
    o += 2;
  }
  return out;
}
