import { makeNoise, meanPower } from './pcm.js';
import { Rng } from './rng.js';

/**
 * A station jingle made from a seed: a noise whoosh, a short arpeggio of plucked harmonic tones and a
 * final chord. It is musical but unregistered, so recognising it as any recording is a false positive.
 */
export function synthesizeJingle(durationSec: number, seed: number, sampleRate: number): Float32Array {
  const rng = new Rng(`jingle/${seed}`);
  const n = Math.max(1, Math.round(durationSec * sampleRate));
  const out = new Float32Array(n);
  const root = 220 * Math.pow(2, rng.int(0, 11) / 12);
  const scale = rng.chance(0.5) ? [0, 4, 7, 12, 16] : [0, 3, 7, 10, 15];
  const noteCount = rng.int(3, 5);
  const noteSec = Math.min(0.35, (durationSec * 0.5) / noteCount);

  const pluck = (startSec: number, lengthSec: number, freq: number, amp: number): void => {
    const a = Math.round(startSec * sampleRate);
    const len = Math.round(lengthSec * sampleRate);
    const decay = 3 / lengthSec;
    for (let i = 0; i < len && a + i < n; i++) {
      const t = i / sampleRate;
      const env = Math.min(1, t / 0.005) * Math.exp(-decay * t);
      let s = 0;
      for (let h = 1; h <= 4; h++) s += Math.sin(2 * Math.PI * freq * h * t) / (h * h);
      out[a + i] += amp * env * s;
    }
  };

  // Whoosh: band-limited noise swelling over the first half second.
  const whooshLen = Math.min(n, Math.round(0.5 * sampleRate));
  const noise = makeNoise(whooshLen, 'pink', seed);
  for (let i = 0; i < whooshLen; i++) out[i] += 0.3 * noise[i] * Math.sin((Math.PI * i) / whooshLen);

  for (let k = 0; k < noteCount; k++) {
    pluck(0.3 + k * noteSec, noteSec * 2, root * Math.pow(2, scale[k % scale.length] / 12), 0.5);
  }
  const chordAt = 0.3 + noteCount * noteSec;
  const chordLen = Math.max(0.2, durationSec - chordAt);
  for (const step of [0, scale[1], scale[2], 12])
    pluck(chordAt, chordLen, root * Math.pow(2, step / 12), 0.3);

  const p = meanPower(out);
  const g = p > 0 ? 1 / Math.sqrt(p) : 0;
  for (let i = 0; i < n; i++) out[i] *= g;
  return out;
}
