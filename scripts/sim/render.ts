import { mkdirSync, renameSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { synthesizeJingle } from './jingle.js';
import { activePower, applyFades, changeSpeed, dbToGain, makeNoise, meanPower, powerToDb } from './pcm.js';
import { floatsToBuffer, runProgram } from './proc.js';
import { SourceCache } from './sources.js';
import { synthesizeSpeech } from './speech.js';
import type {
  BroadcastChain,
  MusicSegment,
  RenderedBroadcast,
  SpeechSegment,
  Timeline,
  TruthAiring,
} from './types.js';

export const DEFAULT_RENDER_RATE = 22050;

export interface RenderOptions {
  /** Decoded sources; share one between renders to decode each source once. */
  sources?: SourceCache;
  /** Directory where synthesised speech is cached. */
  speechCacheDir?: string;
}

/** Speech counts as spoken over an airing when they overlap by at least this much. */
const SPEECH_OVERLAP_SEC = 0.25;

interface PlacedMusic {
  seg: MusicSegment;
  startSample: number;
  lengthSamples: number;
  power: number;
  snrDb: number | null;
}

/**
 * Renders a timeline into one broadcast file at `outPath` and returns its ground truth: one airing per
 * music segment, with broadcast start/end where the music is audible (fade-in start to fade-out end)
 * and the reference span played. Deterministic: the same timeline gives the same audio and truth.
 */
export async function renderBroadcast(
  timeline: Timeline,
  outPath: string,
  options: RenderOptions = {},
): Promise<RenderedBroadcast> {
  const rate = timeline.sampleRate ?? DEFAULT_RENDER_RATE;
  const chain = timeline.chain ?? { codec: 'wav', outputSampleRate: rate, channels: 1 };
  checkTimeline(timeline);
  checkOutputPath(outPath, chain);
  const sources = options.sources ?? new SourceCache(rate);
  if (sources.sampleRate !== rate) {
    throw new Error(`renderBroadcast: source cache is at ${sources.sampleRate} Hz, timeline at ${rate} Hz`);
  }

  const musicSegs = timeline.segments.filter((s): s is MusicSegment => s.kind === 'music');
  const estimateEnd = Math.max(
    1,
    ...timeline.segments.map((s) => {
      if (s.kind === 'music')
        return s.atSec + (s.refEndSec - s.refStartSec) / ((s.speed ?? 1) * (s.tempo ?? 1));
      if (s.kind === 'jingle') return s.atSec + s.durationSec;
      return s.atSec + 30;
    }),
  );
  let mix = new Float32Array(Math.ceil(((timeline.durationSec ?? estimateEnd + 1) + 2) * rate));
  const add = (pcm: Float32Array, at: number, gain: number): void => {
    if (timeline.durationSec === undefined && at + pcm.length > mix.length) {
      const grown = new Float32Array(Math.ceil((at + pcm.length) * 1.1));
      grown.set(mix);
      mix = grown;
    }
    const end = Math.min(mix.length, at + pcm.length);
    for (let i = Math.max(0, at); i < end; i++) mix[i] += gain * pcm[i - at];
  };

  // Music first: each airing's own mean power is the reference for speech spoken over it.
  const placed: PlacedMusic[] = [];
  for (const seg of musicSegs) {
    const src = await sources.get(seg.source);
    const srcDurationSec = src.length / rate;
    if (seg.refEndSec > srcDurationSec + 0.05) {
      throw new Error(
        `renderBroadcast: ${seg.recording} plays to ${seg.refEndSec.toFixed(2)} s but ${seg.source} lasts ${srcDurationSec.toFixed(2)} s`,
      );
    }
    const slice = src.slice(
      Math.round(seg.refStartSec * rate),
      Math.min(src.length, Math.round(seg.refEndSec * rate)),
    );
    const played = await changeSpeed(slice, rate, seg.speed ?? 1, seg.tempo ?? 1);
    const gain = dbToGain(seg.gainDb ?? 0);
    for (let i = 0; i < played.length; i++) played[i] *= gain;
    applyFades(played, Math.round((seg.fadeInSec ?? 0) * rate), Math.round((seg.fadeOutSec ?? 0) * rate));
    const startSample = Math.round(seg.atSec * rate);
    add(played, startSample, 1);
    placed.push({ seg, startSample, lengthSamples: played.length, power: meanPower(played), snrDb: null });
  }

  for (const seg of timeline.segments) {
    if (seg.kind === 'speech') await placeSpeech(seg, rate, placed, add, options.speechCacheDir);
    else if (seg.kind === 'jingle') {
      const pcm = synthesizeJingle(seg.durationSec, seg.seed, rate);
      add(pcm, Math.round(seg.atSec * rate), dbToGain(seg.levelDbfs ?? -20));
    }
  }

  const totalSamples =
    timeline.durationSec !== undefined
      ? Math.round(timeline.durationSec * rate)
      : Math.max(...placed.map((p) => p.startSample + p.lengthSamples), lastEnd(mix)) + rate;
  if (mix.length !== totalSamples) {
    const sized = new Float32Array(totalSamples);
    sized.set(mix.subarray(0, Math.min(mix.length, totalSamples)));
    mix = sized;
  }

  if (chain.noise) addNoise(mix, rate, chain.noise);
  let peak = 0;
  for (let i = 0; i < mix.length; i++) peak = Math.max(peak, Math.abs(mix[i]));
  if (peak > 0.98) {
    const g = 0.98 / peak;
    for (let i = 0; i < mix.length; i++) mix[i] *= g;
  }

  await encode(mix, rate, chain, outPath);

  const durationSec = totalSamples / rate;
  // ADTS AAC cannot signal the encoder's priming (1024 samples for ffmpeg's aac): decoders play it, so
  // everything is heard that much later. MP3 (LAME header) and MP4 (edit list) are trimmed on decode.
  const delaySec =
    chain.codec === 'aac' && extname(outPath).toLowerCase() === '.aac'
      ? 1024 / (chain.outputSampleRate ?? 44100)
      : 0;
  const truth: TruthAiring[] = [];
  for (const p of placed) {
    const start = p.startSample / rate;
    if (start >= durationSec) continue;
    const end = Math.min(durationSec, (p.startSample + p.lengthSamples) / rate);
    const timeFactor = (p.seg.speed ?? 1) * (p.seg.tempo ?? 1);
    const fullEnd = (p.startSample + p.lengthSamples) / rate;
    const cutRef = fullEnd > end ? (fullEnd - end) * timeFactor : 0;
    truth.push({
      file: basename(outPath),
      recording: p.seg.recording,
      registered: p.seg.registered,
      start: round3(start + delaySec),
      end: round3(end + delaySec),
      refStart: round3(p.seg.refStartSec),
      refEnd: round3(p.seg.refEndSec - cutRef),
      speed: p.seg.speed ?? 1,
      tempo: p.seg.tempo ?? 1,
      condition: timeline.condition ?? 'custom',
      snrDb: p.snrDb === null ? null : Math.round(p.snrDb * 10) / 10,
      tags: p.seg.tags ?? [],
    });
  }
  truth.sort((a, b) => a.start - b.start);
  return { path: outPath, durationSec, truth };
}

async function placeSpeech(
  seg: SpeechSegment,
  rate: number,
  placed: PlacedMusic[],
  add: (pcm: Float32Array, at: number, gain: number) => void,
  cacheDir: string | undefined,
): Promise<void> {
  const pcm = await synthesizeSpeech(seg, rate, cacheDir);
  const active = activePower(pcm, rate);
  if (active <= 0) return;
  const at = Math.round(seg.atSec * rate);
  const minOverlap = Math.round(SPEECH_OVERLAP_SEC * rate);
  const under = placed
    .map((p) => ({
      p,
      overlap: Math.min(at + pcm.length, p.startSample + p.lengthSamples) - Math.max(at, p.startSample),
    }))
    .filter((x) => x.overlap >= minOverlap);
  let speechPower: number;
  if (seg.snrDb !== undefined && under.length > 0) {
    const main = under.reduce((a, b) => (b.overlap > a.overlap ? b : a));
    speechPower = main.p.power / Math.pow(10, seg.snrDb / 10);
  } else {
    speechPower = Math.pow(10, (seg.levelDbfs ?? -20) / 10);
  }
  const gain = Math.sqrt(speechPower / active);
  add(pcm, at, gain);
  for (const { p } of under) {
    const snr = powerToDb(p.power) - powerToDb(speechPower);
    p.snrDb = p.snrDb === null ? snr : Math.min(p.snrDb, snr);
  }
}

function addNoise(mix: Float32Array, rate: number, noise: NonNullable<BroadcastChain['noise']>): void {
  // Reference: the mean power of the parts of the mix that are not silent (20 ms frames above -70 dBFS).
  const frame = Math.round(rate * 0.02);
  let sum = 0;
  let count = 0;
  for (let i = 0; i + frame <= mix.length; i += frame) {
    const p = meanPower(mix, i, i + frame);
    if (p > 1e-7) {
      sum += p * frame;
      count += frame;
    }
  }
  if (count === 0) return;
  const signalPower = sum / count;
  const g = Math.sqrt(signalPower / Math.pow(10, noise.snrDb / 10));
  const n = makeNoise(mix.length, noise.color, noise.seed);
  for (let i = 0; i < mix.length; i++) mix[i] += g * n[i];
}

function buildFilters(chain: BroadcastChain, rate: number): string[] {
  const f: string[] = [];
  if (chain.eq) {
    f.push(`bass=g=${chain.eq.bassDb.toFixed(2)}:f=100`);
    f.push(`equalizer=f=1500:t=q:w=1:g=${chain.eq.midDb.toFixed(2)}`);
    f.push(`treble=g=${chain.eq.trebleDb.toFixed(2)}:f=6000`);
  }
  if (chain.bandpassHz) {
    const [lo, hi] = chain.bandpassHz;
    f.push(`highpass=f=${lo}`, `highpass=f=${lo}`, `lowpass=f=${hi}`, `lowpass=f=${hi}`);
  }
  if (chain.compress) f.push('acompressor=threshold=-20dB:ratio=4:attack=5:release=80:makeup=2.5');
  if (chain.limit) f.push('alimiter=limit=0.891:level=false');
  const outRate = chain.outputSampleRate ?? 44100;
  if (outRate !== rate) f.push(`aresample=${outRate}:resampler=soxr`);
  return f;
}

async function encode(
  mix: Float32Array,
  rate: number,
  chain: BroadcastChain,
  outPath: string,
): Promise<void> {
  mkdirSync(dirname(outPath), { recursive: true });
  const filters = buildFilters(chain, rate);
  const args = ['-nostdin', '-v', 'error', '-y', '-f', 'f32le', '-ar', String(rate), '-ac', '1', '-i', '-'];
  if (filters.length > 0) args.push('-af', filters.join(','));
  args.push('-ar', String(chain.outputSampleRate ?? 44100), '-ac', String(chain.channels ?? 2));
  const ext = extname(outPath).toLowerCase();
  if (chain.codec === 'mp3')
    args.push('-c:a', 'libmp3lame', '-b:a', `${chain.bitrateKbps ?? 128}k`, '-f', 'mp3');
  else if (chain.codec === 'aac') {
    args.push('-c:a', 'aac', '-b:a', `${chain.bitrateKbps ?? 64}k`);
    args.push(...(ext === '.aac' ? ['-f', 'adts'] : ['-movflags', '+faststart', '-f', 'mp4']));
  } else args.push('-c:a', 'pcm_s16le', '-f', 'wav');
  // Write to a temporary name first so an interrupted render never leaves a plausible-looking file.
  const tmp = join(dirname(outPath), `.${basename(outPath)}.${process.pid}.tmp`);
  await runProgram('ffmpeg', [...args, tmp], floatsToBuffer(mix));
  renameSync(tmp, outPath);
}

function checkTimeline(t: Timeline): void {
  if (!Array.isArray(t.segments)) throw new Error('renderBroadcast: timeline.segments must be an array');
  if (t.durationSec !== undefined && !(t.durationSec > 0)) {
    throw new Error(`renderBroadcast: durationSec must be positive, got ${t.durationSec}`);
  }
  t.segments.forEach((s, i) => {
    const where = `renderBroadcast: segment ${i} (${s.kind})`;
    if (!(s.atSec >= 0)) throw new Error(`${where}: atSec must be >= 0, got ${s.atSec}`);
    if (s.kind === 'music') {
      if (!(s.refStartSec >= 0) || !(s.refEndSec > s.refStartSec)) {
        throw new Error(`${where}: needs 0 <= refStartSec < refEndSec, got ${s.refStartSec}..${s.refEndSec}`);
      }
      for (const [name, v] of [
        ['speed', s.speed],
        ['tempo', s.tempo],
      ] as const) {
        if (v !== undefined && !(v >= 0.5 && v <= 2))
          throw new Error(`${where}: ${name} must be in 0.5..2, got ${v}`);
      }
      if ((s.fadeInSec ?? 0) < 0 || (s.fadeOutSec ?? 0) < 0) throw new Error(`${where}: fades must be >= 0`);
      if (!s.recording) throw new Error(`${where}: recording id is empty`);
    } else if (s.kind === 'speech') {
      if (!s.text.trim()) throw new Error(`${where}: text is empty`);
    } else if (s.kind === 'jingle') {
      if (!(s.durationSec > 0)) throw new Error(`${where}: durationSec must be positive`);
    } else {
      throw new Error(`${where}: unknown segment kind`);
    }
  });
}

function checkOutputPath(outPath: string, chain: BroadcastChain): void {
  const ext = extname(outPath).toLowerCase();
  const allowed: Record<BroadcastChain['codec'], string[]> = {
    mp3: ['.mp3'],
    aac: ['.aac', '.m4a'],
    wav: ['.wav'],
  };
  if (!allowed[chain.codec].includes(ext)) {
    throw new Error(
      `renderBroadcast: ${chain.codec} output needs a ${allowed[chain.codec].join(' or ')} file name, got ${outPath}`,
    );
  }
}

function lastEnd(mix: Float32Array): number {
  for (let i = mix.length - 1; i >= 0; i--) if (mix[i] !== 0) return i + 1;
  return 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
