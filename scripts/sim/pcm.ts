import { Rng } from './rng.js';
import { bufferToFloats, floatsToBuffer, runProgram } from './proc.js';

/** Decodes any audio file ffmpeg reads to mono float samples at `sampleRate`. */
export async function decodeMono(path: string, sampleRate: number): Promise<Float32Array> {
  const out = await runProgram('ffmpeg', [
    '-nostdin',
    '-v',
    'error',
    '-i',
    path,
    '-vn',
    '-ac',
    '1',
    '-ar',
    String(sampleRate),
    '-af',
    'aresample=resampler=soxr',
    '-f',
    'f32le',
    '-',
  ]);
  if (out.byteLength === 0) throw new Error(`decodeMono: ${path} decoded to no audio`);
  return bufferToFloats(out);
}

/**
 * Plays `pcm` faster (sox speed: pitch and tempo together) and/or time-stretched (sox tempo: pitch kept).
 * The input is scaled down by 6 dB around sox so its 32-bit integer path never clips.
 */
export async function changeSpeed(
  pcm: Float32Array,
  sampleRate: number,
  speed: number,
  tempo: number,
): Promise<Float32Array> {
  if (speed === 1 && tempo === 1) return pcm;
  const scaled = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) scaled[i] = pcm[i] * 0.5;
  const effects: string[] = [];
  if (tempo !== 1) effects.push('tempo', '-m', tempo.toFixed(6));
  if (speed !== 1) effects.push('speed', speed.toFixed(6));
  effects.push('rate', '-v', String(sampleRate));
  const rate = String(sampleRate);
  const out = await runProgram(
    'sox',
    ['-V1', '-t', 'f32', '-r', rate, '-c', '1', '-', '-t', 'f32', '-r', rate, '-c', '1', '-', ...effects],
    floatsToBuffer(scaled),
  );
  const result = bufferToFloats(out);
  for (let i = 0; i < result.length; i++) result[i] *= 2;
  return result;
}

/** Converts 16-bit PCM wav bytes (espeak-ng output) to mono floats; returns its sample rate too. */
export function parseWav(buf: Buffer): { pcm: Float32Array; sampleRate: number } {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') {
    throw new Error('parseWav: not a RIFF/WAVE file');
  }
  let pos = 12;
  let sampleRate = 0;
  let channels = 1;
  let bits = 16;
  while (pos + 8 <= buf.length) {
    const id = buf.toString('ascii', pos, pos + 4);
    let size = buf.readUInt32LE(pos + 4);
    const body = pos + 8;
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(body + 2);
      sampleRate = buf.readUInt32LE(body + 4);
      bits = buf.readUInt16LE(body + 14);
    } else if (id === 'data') {
      if (bits !== 16) throw new Error(`parseWav: ${bits}-bit samples not supported`);
      // espeak-ng writing to a pipe leaves the size field unset: take the rest of the file.
      if (size === 0 || size === 0xffffffff || body + size > buf.length) size = buf.length - body;
      const frames = Math.floor(size / (2 * channels));
      const pcm = new Float32Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) sum += buf.readInt16LE(body + 2 * (i * channels + c));
        pcm[i] = sum / channels / 32768;
      }
      return { pcm, sampleRate };
    }
    pos = body + size + (size & 1);
  }
  throw new Error('parseWav: no data chunk');
}

/** Resamples with sox's high-quality resampler. */
export async function resample(pcm: Float32Array, fromRate: number, toRate: number): Promise<Float32Array> {
  if (fromRate === toRate) return pcm;
  const out = await runProgram(
    'sox',
    [
      '-V1',
      '-t',
      'f32',
      '-r',
      String(fromRate),
      '-c',
      '1',
      '-',
      '-t',
      'f32',
      '-r',
      String(toRate),
      '-c',
      '1',
      '-',
      'rate',
      '-v',
      String(toRate),
    ],
    floatsToBuffer(pcm),
  );
  return bufferToFloats(out);
}

/** Equal-power fades in place: sin over the fade-in, cos over the fade-out. */
export function applyFades(pcm: Float32Array, fadeInSamples: number, fadeOutSamples: number): void {
  const n = pcm.length;
  const fin = Math.min(fadeInSamples, n);
  for (let i = 0; i < fin; i++) pcm[i] *= Math.sin(((i + 0.5) / fin) * (Math.PI / 2));
  const fout = Math.min(fadeOutSamples, n);
  for (let i = 0; i < fout; i++) pcm[n - 1 - i] *= Math.sin(((i + 0.5) / fout) * (Math.PI / 2));
}

export function meanPower(pcm: Float32Array, from = 0, to = pcm.length): number {
  const a = Math.max(0, from);
  const b = Math.min(pcm.length, to);
  if (b <= a) return 0;
  let sum = 0;
  for (let i = a; i < b; i++) sum += pcm[i] * pcm[i];
  return sum / (b - a);
}

/**
 * Active speech power, after ITU-T P.56 in spirit: the mean power of the 20 ms frames that are within
 * 30 dB of the loudest 5 % of frames, so the pauses between words do not dilute the level.
 */
export function activePower(pcm: Float32Array, sampleRate: number): number {
  const frame = Math.max(1, Math.round(sampleRate * 0.02));
  const energies: number[] = [];
  for (let i = 0; i + frame <= pcm.length; i += frame) energies.push(meanPower(pcm, i, i + frame));
  if (energies.length === 0) return meanPower(pcm);
  const sorted = energies.slice().sort((x, y) => x - y);
  const loud = sorted[Math.floor(sorted.length * 0.95)] ?? sorted[sorted.length - 1];
  const floor = loud * 1e-3;
  let sum = 0;
  let count = 0;
  for (const e of energies) {
    if (e >= floor) {
      sum += e;
      count++;
    }
  }
  return count > 0 ? sum / count : 0;
}

export function dbToGain(db: number): number {
  return Math.pow(10, db / 20);
}

export function powerToDb(power: number): number {
  return 10 * Math.log10(Math.max(power, 1e-20));
}

/** Seeded noise, unit mean power: white, or pink (Paul Kellet's refined filter). */
export function makeNoise(length: number, color: 'pink' | 'white', seed: number): Float32Array {
  const rng = new Rng(`noise/${seed}`);
  const out = new Float32Array(length);
  let b0 = 0,
    b1 = 0,
    b2 = 0,
    b3 = 0,
    b4 = 0,
    b5 = 0,
    b6 = 0;
  for (let i = 0; i < length; i++) {
    const w = rng.next() * 2 - 1;
    if (color === 'white') {
      out[i] = w;
      continue;
    }
    b0 = 0.99886 * b0 + w * 0.0555179;
    b1 = 0.99332 * b1 + w * 0.0750759;
    b2 = 0.969 * b2 + w * 0.153852;
    b3 = 0.8665 * b3 + w * 0.3104856;
    b4 = 0.55 * b4 + w * 0.5329522;
    b5 = -0.7616 * b5 - w * 0.016898;
    out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
    b6 = w * 0.115926;
  }
  const p = meanPower(out);
  const g = p > 0 ? 1 / Math.sqrt(p) : 0;
  for (let i = 0; i < length; i++) out[i] *= g;
  return out;
}
