/** A tiny 16-bit PCM WAV encoder. encodeWav is pure; writeWav writes the file. */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Interleaves the channels and encodes 16-bit little-endian PCM (samples clamped to [-1, 1]). */
export function encodeWav(channels: readonly Float32Array[], sampleRate: number): Buffer {
  if (channels.length < 1 || channels.length > 16) throw new RangeError('encodeWav: 1 to 16 channels');
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > 1_000_000) {
    throw new RangeError(`encodeWav: bad sample rate ${sampleRate}`);
  }
  const frames = channels[0].length;
  for (const ch of channels)
    if (ch.length !== frames) throw new RangeError('encodeWav: channels differ in length');
  const count = channels.length;
  const dataBytes = frames * count * 2;
  if (dataBytes > 0xffffffff - 36) throw new RangeError('encodeWav: too long for a WAV file');
  const buf = Buffer.alloc(44 + dataBytes);
  buf.write('RIFF', 0, 'ascii');
  buf.writeUInt32LE(36 + dataBytes, 4);
  buf.write('WAVE', 8, 'ascii');
  buf.write('fmt ', 12, 'ascii');
  buf.writeUInt32LE(16, 16);
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(count, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * count * 2, 28);
  buf.writeUInt16LE(count * 2, 32);
  buf.writeUInt16LE(16, 34);
  buf.write('data', 36, 'ascii');
  buf.writeUInt32LE(dataBytes, 40);
  const pcm = new Int16Array(buf.buffer, buf.byteOffset + 44, frames * count);
  for (let c = 0; c < count; c++) {
    const ch = channels[c];
    for (let i = 0, j = c; i < frames; i++, j += count) {
      const x = ch[i];
      const clamped = x > 1 ? 1 : x < -1 ? -1 : x;
      pcm[j] = Math.round(clamped * 32767);
    }
  }
  return buf;
}

/** Writes a 16-bit WAV, atomically (a temporary file renamed into place), creating the folder. */
export function writeWav(path: string, channels: readonly Float32Array[], sampleRate: number): void {
  const data = encodeWav(channels, sampleRate);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now().toString(36)}.tmp`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
