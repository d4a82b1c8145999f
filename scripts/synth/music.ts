/**
 * A deterministic music synthesiser for tests and demos: a seed gives a whole song (tempo, key, scale,
 * chord progressions, sections, bass line, melodies, arpeggios, drums, stereo mix), identical on every
 * machine. Pure: no I/O, no Math.random.
 *
 * Sound comes from additive synthesis (sums of partials with ADSR envelopes; timbre differs per
 * instrument and per song) and from pre-rendered drum hits (a pitched sine sweep for the kick,
 * filtered noise for snare and hats). The point is to give a fingerprinter what real music gives it:
 * many distinct spectral peaks that change over time, different in every song. Songs are also
 * detuned by a random amount (A4 between ~430 and ~450 Hz) so two songs in the same key still differ.
 */
import { Rng } from './prng.js';

/** Bump when the output for a given seed changes, so caches keyed by it are rebuilt. */
export const SYNTH_VERSION = 1;

export interface StereoSong {
  left: Float32Array;
  right: Float32Array;
}

const SCALES: Record<string, readonly number[]> = {
  major: [0, 2, 4, 5, 7, 9, 11],
  minor: [0, 2, 3, 5, 7, 8, 10],
  dorian: [0, 2, 3, 5, 7, 9, 10],
  mixolydian: [0, 2, 4, 5, 7, 9, 10],
  'harmonic minor': [0, 2, 3, 5, 7, 8, 11],
  phrygian: [0, 1, 3, 5, 7, 8, 10],
  lydian: [0, 2, 4, 6, 7, 9, 11],
};
const NOTE_NAMES = ['C', 'C#', 'D', 'D#', 'E', 'F', 'F#', 'G', 'G#', 'A', 'A#', 'B'];

/** Scale-degree progressions (0 = tonic), four chords each. */
const PROGRESSIONS: readonly (readonly number[])[] = [
  [0, 5, 3, 4],
  [0, 3, 4, 3],
  [5, 3, 0, 4],
  [0, 4, 5, 3],
  [1, 4, 0, 0],
  [0, 3, 5, 4],
  [0, 6, 5, 4],
  [3, 4, 0, 5],
  [0, 2, 3, 4],
  [5, 4, 3, 4],
  [0, 0, 3, 4],
  [0, 5, 1, 4],
];

type SectionKind = 'intro' | 'verse' | 'chorus' | 'bridge' | 'outro';

export interface SectionPlan {
  kind: SectionKind;
  startSec: number;
  bars: number;
}

export interface SongPlan {
  seed: number;
  tempoBpm: number;
  key: string;
  scale: string;
  /** Concert pitch of A4 in Hz. */
  tuningHz: number;
  sections: SectionPlan[];
}

// ---- timbres -------------------------------------------------------------------------------------

interface Timbre {
  /** Frequency ratios of the partials to the fundamental. */
  ratios: Float64Array;
  /** Amplitude of each partial. */
  amps: Float64Array;
  /** Extra exponential decay per partial (1/s), so higher partials die first. */
  partialDecay: Float64Array;
  attackSec: number;
  decaySec: number;
  sustain: number;
  releaseSec: number;
  vibratoHz: number;
  vibratoCents: number;
  gain: number;
}

function harmonicTimbre(
  rng: Rng,
  opts: {
    partials: number;
    rolloff: [number, number];
    oddBias?: number;
    stretch?: number;
    attack: [number, number];
    decay: [number, number];
    sustain: [number, number];
    release: [number, number];
    vibrato?: boolean;
    brightDecay?: [number, number];
    gain: number;
  },
): Timbre {
  const n = opts.partials;
  const ratios = new Float64Array(n);
  const amps = new Float64Array(n);
  const partialDecay = new Float64Array(n);
  const rolloff = rng.range(...opts.rolloff);
  const oddBias = opts.oddBias ?? rng.range(0, 0.8);
  const stretch = opts.stretch ?? rng.range(0, 0.0004);
  const bright = opts.brightDecay ? rng.range(...opts.brightDecay) : 0;
  let total = 0;
  for (let k = 0; k < n; k++) {
    const h = k + 1;
    ratios[k] = h * Math.sqrt(1 + stretch * h * h);
    let a = 1 / Math.pow(h, rolloff);
    if (h % 2 === 0) a *= 1 - oddBias;
    a *= 0.6 + 0.8 * rng.float();
    amps[k] = a;
    partialDecay[k] = bright * k;
    total += a;
  }
  for (let k = 0; k < n; k++) amps[k] /= total;
  return {
    ratios,
    amps,
    partialDecay,
    attackSec: rng.range(...opts.attack),
    decaySec: rng.range(...opts.decay),
    sustain: rng.range(...opts.sustain),
    releaseSec: rng.range(...opts.release),
    vibratoHz: opts.vibrato ? rng.range(4.5, 6.5) : 0,
    vibratoCents: opts.vibrato ? rng.range(8, 22) : 0,
    gain: opts.gain,
  };
}

/** Bell-like: inharmonic partials, percussive. */
function bellTimbre(rng: Rng): Timbre {
  const base = [
    1,
    2.0 + rng.range(-0.02, 0.02),
    2.76 + rng.range(-0.1, 0.1),
    4.07 + rng.range(-0.2, 0.2),
    5.4,
  ];
  const amps = new Float64Array(base.map((_, i) => (i === 0 ? 0.45 : 0.3 / i) * (0.7 + 0.6 * rng.float())));
  const sum = amps.reduce((s, a) => s + a, 0);
  for (let i = 0; i < amps.length; i++) amps[i] /= sum;
  return {
    ratios: new Float64Array(base),
    amps,
    partialDecay: new Float64Array(base.map((_, i) => 1.5 * i)),
    attackSec: 0.002,
    decaySec: rng.range(0.3, 0.8),
    sustain: 0,
    releaseSec: 0.3,
    vibratoHz: 0,
    vibratoCents: 0,
    gain: 0.5,
  };
}

interface Instruments {
  bass: Timbre;
  pad: Timbre;
  leadVerse: Timbre;
  leadChorus: Timbre;
  arp: Timbre;
  bell: Timbre;
}

function makeInstruments(rng: Rng): Instruments {
  return {
    bass: harmonicTimbre(rng, {
      partials: 6,
      rolloff: [1.2, 2.2],
      attack: [0.004, 0.015],
      decay: [0.1, 0.3],
      sustain: [0.4, 0.8],
      release: [0.05, 0.12],
      brightDecay: [2, 8],
      gain: 0.55,
    }),
    pad: harmonicTimbre(rng, {
      partials: 5,
      rolloff: [1.3, 2.0],
      attack: [0.15, 0.5],
      decay: [0.3, 0.8],
      sustain: [0.6, 0.9],
      release: [0.3, 0.7],
      gain: 0.16,
    }),
    leadVerse: harmonicTimbre(rng, {
      partials: 8,
      rolloff: [0.8, 1.5],
      attack: [0.01, 0.05],
      decay: [0.1, 0.3],
      sustain: [0.5, 0.85],
      release: [0.08, 0.2],
      vibrato: true,
      brightDecay: [0, 3],
      gain: 0.32,
    }),
    leadChorus: harmonicTimbre(rng, {
      partials: 10,
      rolloff: [0.6, 1.2],
      attack: [0.005, 0.03],
      decay: [0.1, 0.25],
      sustain: [0.55, 0.9],
      release: [0.08, 0.2],
      vibrato: true,
      brightDecay: [0, 2],
      gain: 0.34,
    }),
    arp: harmonicTimbre(rng, {
      partials: 6,
      rolloff: [0.9, 1.6],
      attack: [0.002, 0.008],
      decay: [0.08, 0.25],
      sustain: [0, 0.15],
      release: [0.05, 0.12],
      brightDecay: [4, 14],
      gain: 0.2,
    }),
    bell: bellTimbre(rng),
  };
}

// ---- rendering primitives ------------------------------------------------------------------------

const SINE_BITS = 12;
const SINE_SIZE = 1 << SINE_BITS;
/** One cycle of sine plus a guard sample, for linear interpolation. */
const SINE = (() => {
  const t = new Float64Array(SINE_SIZE + 1);
  for (let i = 0; i <= SINE_SIZE; i++) t[i] = Math.sin((2 * Math.PI * i) / SINE_SIZE);
  return t;
})();

interface Mix {
  left: Float32Array;
  right: Float32Array;
  sampleRate: number;
  /** Scratch buffer for one note. */
  scratch: Float64Array;
  vibrato: Float64Array;
}

/** Equal-power pan: -1 left, 0 centre, +1 right. */
function panGains(pan: number): [number, number] {
  const angle = ((pan + 1) * Math.PI) / 4;
  return [Math.cos(angle), Math.sin(angle)];
}

/** Renders one additive note into the mix. */
function playNote(
  mix: Mix,
  timbre: Timbre,
  startSec: number,
  durSec: number,
  freqHz: number,
  velocity: number,
  pan: number,
): void {
  const sr = mix.sampleRate;
  const start = Math.round(startSec * sr);
  if (start >= mix.left.length) return;
  const holdSamples = Math.max(1, Math.round(durSec * sr));
  const releaseSamples = Math.max(1, Math.round(timbre.releaseSec * sr));
  const length = Math.min(holdSamples + releaseSamples, mix.left.length - start);
  if (length <= 0) return;
  const out = mix.scratch;
  out.fill(0, 0, length);
  const attack = Math.max(1, Math.round(timbre.attackSec * sr));
  const decay = Math.max(1, Math.round(timbre.decaySec * sr));
  const nyquistGuard = 0.45 * sr;
  const useVibrato = timbre.vibratoCents > 0;
  if (useVibrato) {
    const depth = Math.pow(2, timbre.vibratoCents / 1200) - 1;
    const onset = Math.round(0.15 * sr); // vibrato fades in after the attack
    let ph = 0;
    const inc = timbre.vibratoHz / sr;
    for (let i = 0; i < length; i++) {
      const fade = i < onset ? i / onset : 1;
      const idx = ph * SINE_SIZE;
      const j = idx | 0;
      mix.vibrato[i] = 1 + depth * fade * (SINE[j] + (idx - j) * (SINE[j + 1] - SINE[j]));
      ph += inc;
      if (ph >= 1) ph -= 1;
    }
  }
  for (let k = 0; k < timbre.ratios.length; k++) {
    const f = freqHz * timbre.ratios[k];
    if (f >= nyquistGuard) break;
    const amp = timbre.amps[k];
    const baseInc = f / sr;
    const decayPerSample = Math.exp(-timbre.partialDecay[k] / sr);
    let g = amp;
    let phase = (k * 0.137) % 1; // fixed phase offsets avoid a spiky sum at the onset
    if (useVibrato) {
      const vib = mix.vibrato;
      for (let i = 0; i < length; i++) {
        const idx = phase * SINE_SIZE;
        const j = idx | 0;
        out[i] += g * (SINE[j] + (idx - j) * (SINE[j + 1] - SINE[j]));
        g *= decayPerSample;
        phase += baseInc * vib[i];
        if (phase >= 1) phase -= 1;
      }
    } else {
      for (let i = 0; i < length; i++) {
        const idx = phase * SINE_SIZE;
        const j = idx | 0;
        out[i] += g * (SINE[j] + (idx - j) * (SINE[j + 1] - SINE[j]));
        g *= decayPerSample;
        phase += baseInc;
        if (phase >= 1) phase -= 1;
      }
    }
  }
  // ADSR, then pan into the stereo mix.
  const [gl, gr] = panGains(pan);
  const level = velocity * timbre.gain;
  const sustain = timbre.sustain;
  let envAtRelease = 0;
  const left = mix.left;
  const right = mix.right;
  for (let i = 0; i < length; i++) {
    let env: number;
    if (i < holdSamples) {
      if (i < attack) env = i / attack;
      else if (i < attack + decay) env = 1 - (1 - sustain) * ((i - attack) / decay);
      else env = sustain;
      envAtRelease = env;
    } else {
      const r = (i - holdSamples) / releaseSamples;
      env = envAtRelease * (1 - r) * (1 - r);
    }
    const v = out[i] * env * level;
    left[start + i] += v * gl;
    right[start + i] += v * gr;
  }
}

/** RBJ biquad filter applied in place. */
function biquad(
  x: Float64Array,
  sr: number,
  type: 'bandpass' | 'highpass' | 'lowpass',
  freq: number,
  q: number,
): void {
  const w0 = (2 * Math.PI * Math.min(freq, sr * 0.45)) / sr;
  const alpha = Math.sin(w0) / (2 * q);
  const cos = Math.cos(w0);
  let b0: number, b1: number, b2: number;
  if (type === 'bandpass') {
    b0 = alpha;
    b1 = 0;
    b2 = -alpha;
  } else if (type === 'highpass') {
    b0 = (1 + cos) / 2;
    b1 = -(1 + cos);
    b2 = (1 + cos) / 2;
  } else {
    b0 = (1 - cos) / 2;
    b1 = 1 - cos;
    b2 = (1 - cos) / 2;
  }
  const a0 = 1 + alpha;
  const a1 = -2 * cos;
  const a2 = 1 - alpha;
  let x1 = 0;
  let x2 = 0;
  let y1 = 0;
  let y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const x0 = x[i];
    const y0 = (b0 * x0 + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1;
    x1 = x0;
    y2 = y1;
    y1 = y0;
    x[i] = y0;
  }
}

interface DrumKit {
  kick: Float64Array;
  snare: Float64Array;
  hatClosed: Float64Array;
  hatOpen: Float64Array;
  snarePan: number;
  hatPan: number;
}

function makeDrumKit(rng: Rng, sr: number): DrumKit {
  const noise = (n: number): Float64Array => {
    const x = new Float64Array(n);
    for (let i = 0; i < n; i++) x[i] = rng.float() * 2 - 1;
    return x;
  };
  // Kick: a sine whose pitch falls exponentially, with a short noise click.
  const kickLen = Math.round(0.35 * sr);
  const kick = new Float64Array(kickLen);
  const fStart = rng.range(110, 180);
  const fEnd = rng.range(40, 60);
  const pitchTau = rng.range(0.025, 0.06);
  const ampTau = rng.range(0.08, 0.16);
  let phase = 0;
  for (let i = 0; i < kickLen; i++) {
    const t = i / sr;
    const f = fEnd + (fStart - fEnd) * Math.exp(-t / pitchTau);
    phase += f / sr;
    kick[i] = Math.sin(2 * Math.PI * phase) * Math.exp(-t / ampTau);
  }
  const click = noise(Math.round(0.003 * sr));
  for (let i = 0; i < click.length; i++) kick[i] += 0.3 * click[i] * (1 - i / click.length);
  // Snare: band-passed noise plus a short tone.
  const snareLen = Math.round(0.25 * sr);
  const snare = noise(snareLen);
  biquad(snare, sr, 'bandpass', rng.range(1500, 3200), rng.range(0.6, 1.2));
  const snareTone = rng.range(170, 240);
  const snareTau = rng.range(0.05, 0.1);
  for (let i = 0; i < snareLen; i++) {
    const t = i / sr;
    snare[i] =
      2.2 * snare[i] * Math.exp(-t / snareTau) +
      0.5 * Math.sin(2 * Math.PI * snareTone * t) * Math.exp(-t / 0.03);
  }
  // Hats: high-passed noise, short or long.
  const hat = (lenSec: number, tau: number): Float64Array => {
    const x = noise(Math.round(lenSec * sr));
    biquad(x, sr, 'highpass', rng.range(6000, 9000), 0.7);
    for (let i = 0; i < x.length; i++) x[i] *= Math.exp(-i / sr / tau);
    return x;
  };
  return {
    kick,
    snare,
    hatClosed: hat(0.08, rng.range(0.015, 0.035)),
    hatOpen: hat(0.4, rng.range(0.1, 0.2)),
    snarePan: rng.range(-0.15, 0.15),
    hatPan: rng.pick([-1, 1]) * rng.range(0.25, 0.55),
  };
}

function playSample(mix: Mix, sample: Float64Array, startSec: number, gain: number, pan: number): void {
  const start = Math.round(startSec * mix.sampleRate);
  const end = Math.min(mix.left.length, start + sample.length);
  const [gl, gr] = panGains(pan);
  for (let i = start; i < end; i++) {
    const v = sample[i - start] * gain;
    mix.left[i] += v * gl;
    mix.right[i] += v * gr;
  }
}

// ---- composition ---------------------------------------------------------------------------------

interface Harmony {
  rootPc: number;
  scale: readonly number[];
  tuningHz: number;
}

function midiToHz(h: Harmony, midi: number): number {
  return h.tuningHz * Math.pow(2, (midi - 69) / 12);
}

/** MIDI note of scale degree `degree` (any integer; 7 = an octave up) above the tonic in `octave`. */
function degreeToMidi(h: Harmony, degree: number, octave: number): number {
  const n = h.scale.length;
  const oct = Math.floor(degree / n);
  const d = degree - oct * n;
  return 12 * (octave + 1 + oct) + h.rootPc + h.scale[d];
}

/** Chord tones as scale degrees: a triad on `root`, sometimes a seventh. */
function chordDegrees(root: number, seventh: boolean): number[] {
  return seventh ? [root, root + 2, root + 4, root + 6] : [root, root + 2, root + 4];
}

interface SectionMaterial {
  progression: readonly number[];
  /** Chords per bar: 0.5 (a chord lasts two bars), 1 or 2. */
  chordsPerBar: number;
  sevenths: boolean[];
  kick: number[];
  snare: number[];
  hats: number[];
  bassRhythm: number[];
  /** Melody motif: [step, lengthSteps, degreeOffset] over two bars (32 sixteenth steps). */
  motif: [number, number, number][];
  arpPattern: number[];
  arpSteps: number;
  melodyOctave: number;
}

const KICKS = [
  [0, 4, 8, 12],
  [0, 6, 8, 14],
  [0, 3, 8, 10],
  [0, 8, 11],
  [0, 7, 10],
  [0, 4, 8, 11, 12],
];
const SNARES = [[4, 12], [4, 12, 15], [8], [4, 12, 14]];
const BASS_RHYTHMS = [
  [0, 4, 8, 12],
  [0, 2, 4, 6, 8, 10, 12, 14],
  [0, 6, 8, 14],
  [0, 3, 6, 8, 11, 14],
  [0, 8],
  [0, 4, 6, 8, 12, 14],
];

function makeMotif(rng: Rng): [number, number, number][] {
  const notes: [number, number, number][] = [];
  let step = 0;
  let degree = rng.int(0, 4);
  const lengths = [2, 2, 2, 4, 4, 6, 8, 3, 1];
  while (step < 32) {
    const len = Math.min(lengths[rng.weighted([4, 3, 2, 4, 2, 1, 1, 1, 1])], 32 - step);
    if (!rng.chance(0.15) || notes.length === 0) notes.push([step, len, degree]);
    step += len;
    degree += [-3, -2, -1, 0, 1, 2, 3, 4][rng.weighted([1, 3, 5, 2, 5, 3, 1, 0.5])];
    if (degree > 9) degree -= 3;
    if (degree < -3) degree += 3;
  }
  return notes;
}

function makeSectionMaterial(rng: Rng, kind: SectionKind, used: Set<string>): SectionMaterial {
  let progression = rng.pick(PROGRESSIONS);
  for (let tries = 0; tries < 5 && used.has(progression.join()); tries++)
    progression = rng.pick(PROGRESSIONS);
  if (rng.chance(0.3)) {
    // A fresh progression now and then, so songs are not drawn from a short list only.
    progression = [0, rng.int(1, 6), rng.int(1, 6), rng.pick([3, 4, 4, 5])];
  }
  used.add(progression.join());
  const hats16 = rng.chance(0.4);
  const hats: number[] = [];
  for (let s = 0; s < 16; s += hats16 ? 1 : 2) hats.push(s);
  const arpOrder = rng.pick([
    [0, 1, 2, 3],
    [0, 2, 1, 3],
    [3, 2, 1, 0],
    [0, 1, 2, 1],
    [0, 2, 3, 2],
  ]);
  return {
    progression,
    chordsPerBar: kind === 'bridge' ? 0.5 : rng.pick([0.5, 1, 1, 1, 2]),
    sevenths: progression.map(() => rng.chance(0.3)),
    kick: rng.pick(KICKS),
    snare: rng.pick(SNARES),
    hats,
    bassRhythm: rng.pick(BASS_RHYTHMS),
    motif: makeMotif(rng),
    arpPattern: arpOrder,
    arpSteps: rng.pick([1, 2, 2]),
    melodyOctave: kind === 'chorus' ? 5 : 4,
  };
}

/** Which parts play in a section. */
const ARRANGEMENT: Record<
  SectionKind,
  { drums: number; bass: boolean; lead: boolean; arp: boolean; bell: boolean; gain: number }
> = {
  intro: { drums: 1, bass: false, lead: false, arp: true, bell: false, gain: 0.7 },
  verse: { drums: 2, bass: true, lead: true, arp: false, bell: false, gain: 0.85 },
  chorus: { drums: 3, bass: true, lead: true, arp: true, bell: true, gain: 1 },
  bridge: { drums: 1, bass: true, lead: true, arp: true, bell: false, gain: 0.8 },
  outro: { drums: 2, bass: true, lead: false, arp: true, bell: true, gain: 0.75 },
};

function planSections(rng: Rng, barSec: number, durationSec: number): SectionPlan[] {
  const form: [SectionKind, number][] = [['intro', rng.pick([1, 2, 2, 4])]];
  const verseBars = rng.pick([4, 8, 8]);
  const chorusBars = rng.pick([4, 8, 8]);
  const cycle: [SectionKind, number][] = [
    ['verse', verseBars],
    ['chorus', chorusBars],
    ['verse', verseBars],
    ['chorus', chorusBars],
    ['bridge', 4],
    ['chorus', chorusBars],
  ];
  const sections: SectionPlan[] = [];
  let t = 0;
  let i = 0;
  const push = ([kind, bars]: [SectionKind, number]): void => {
    sections.push({ kind, startSec: t, bars });
    t += bars * barSec;
  };
  push(form[0]);
  while (t < durationSec) {
    push(cycle[i % cycle.length]);
    i++;
    if (i % cycle.length === 0 && t < durationSec) push(['outro', 4]);
  }
  return sections;
}

/** The song's structure for a seed, without rendering it. */
export function planSong(seed: number, durationSec: number): SongPlan {
  checkArgs(seed, durationSec, 44100);
  return plan(new Rng(seed), seed, durationSec).song;
}

function plan(rng: Rng, seed: number, durationSec: number) {
  const tempoBpm = Math.round(rng.range(80, 160) * 10) / 10;
  const scaleName = rng.pick(Object.keys(SCALES));
  const harmony: Harmony = {
    rootPc: rng.int(0, 11),
    scale: SCALES[scaleName],
    tuningHz: 440 * Math.pow(2, rng.range(-40, 40) / 1200),
  };
  const beatSec = 60 / tempoBpm;
  const barSec = 4 * beatSec;
  const sections = planSections(rng, barSec, durationSec);
  return {
    harmony,
    beatSec,
    barSec,
    song: {
      seed,
      tempoBpm,
      key: NOTE_NAMES[harmony.rootPc],
      scale: scaleName,
      tuningHz: harmony.tuningHz,
      sections,
    } satisfies SongPlan,
  };
}

function checkArgs(seed: number, durationSec: number, sampleRate: number): void {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
  if (!(durationSec > 0 && durationSec <= 1800)) {
    throw new RangeError(`durationSec must be more than 0 and at most 1800, got ${durationSec}`);
  }
  if (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 192000) {
    throw new RangeError(`sampleRate must be a whole number from 8000 to 192000, got ${sampleRate}`);
  }
}

/**
 * Synthesises `durationSec` seconds (exactly round(durationSec * sampleRate) samples per channel) of
 * the song for `seed`. Peak-normalised to about -1 dBFS.
 */
export function synthesizeSong(seed: number, durationSec: number, sampleRate = 44100): StereoSong {
  checkArgs(seed, durationSec, sampleRate);
  const rng = new Rng(seed);
  const { harmony, beatSec, barSec, song } = plan(rng, seed, durationSec);
  const total = Math.round(durationSec * sampleRate);
  const longestNote = Math.ceil(4 * barSec * sampleRate) + sampleRate * 2;
  const mix: Mix = {
    left: new Float32Array(total),
    right: new Float32Array(total),
    sampleRate,
    scratch: new Float64Array(longestNote),
    vibrato: new Float64Array(longestNote),
  };
  const instruments = makeInstruments(rng.fork(1));
  const kit = makeDrumKit(rng.fork(2), sampleRate);
  const materialRng = rng.fork(3);
  const used = new Set<string>();
  const material = new Map<SectionKind, SectionMaterial>();
  for (const kind of ['intro', 'verse', 'chorus', 'bridge', 'outro'] as const) {
    material.set(kind, makeSectionMaterial(materialRng, kind, used));
  }
  const pans = {
    pad: rng.range(0.25, 0.6),
    lead: rng.range(-0.2, 0.2),
    arp: rng.pick([-1, 1]) * rng.range(0.3, 0.7),
    bell: 0,
  };
  pans.bell = -Math.sign(pans.arp) * rng.range(0.2, 0.6);
  const stepSec = beatSec / 4;
  const performance = rng.fork(4);

  for (let si = 0; si < song.sections.length; si++) {
    const section = song.sections[si];
    if (section.startSec >= durationSec) break;
    const m = material.get(section.kind)!;
    const arr = ARRANGEMENT[section.kind];
    const g = arr.gain;
    const chordSec = barSec / m.chordsPerBar;
    const chordCount = Math.round(section.bars * m.chordsPerBar);
    // A repeated section keeps its material but varies a little each time.
    const variation = performance.fork(si);
    const motifShift = si > 2 && variation.chance(0.5) ? variation.pick([-1, 1, 2]) : 0;

    for (let c = 0; c < chordCount; c++) {
      const chordStart = section.startSec + c * chordSec;
      const pi = c % m.progression.length;
      const root = m.progression[pi];
      const degrees = chordDegrees(root, m.sevenths[pi]);
      // Pad: the chord held, voices spread across the stereo field.
      degrees.forEach((d, vi) => {
        const midi = degreeToMidi(harmony, d, 3);
        const pan = (vi % 2 === 0 ? -1 : 1) * pans.pad;
        playNote(mix, instruments.pad, chordStart, chordSec * 0.98, midiToHz(harmony, midi), g * 0.9, pan);
      });
      // Arpeggio over the chord.
      if (arr.arp) {
        const stepsPerNote = m.arpSteps;
        const notesInChord = Math.round(chordSec / (stepSec * stepsPerNote));
        for (let a = 0; a < notesInChord; a++) {
          const d = degrees[m.arpPattern[a % m.arpPattern.length] % degrees.length] + (a % 8 >= 4 ? 7 : 0);
          const midi = degreeToMidi(harmony, d, 4);
          const vel = (a % 2 === 0 ? 0.9 : 0.65) + 0.1 * variation.bipolar();
          playNote(
            mix,
            instruments.arp,
            chordStart + a * stepSec * stepsPerNote,
            stepSec * stepsPerNote * 0.8,
            midiToHz(harmony, midi),
            g * vel,
            pans.arp,
          );
        }
      }
    }

    for (let bar = 0; bar < section.bars; bar++) {
      const barStart = section.startSec + bar * barSec;
      if (barStart >= durationSec) break;
      const chordIndex = Math.floor(bar * m.chordsPerBar) % m.progression.length;
      const root = m.progression[chordIndex];
      const lastBar = bar === section.bars - 1;
      // Bass: the chord root (now and then the fifth or the octave) on the section's rhythm.
      if (arr.bass) {
        const rhythm = m.bassRhythm;
        for (let r = 0; r < rhythm.length; r++) {
          const next = r + 1 < rhythm.length ? rhythm[r + 1] : 16;
          const degree = r > 0 && variation.chance(0.25) ? root + variation.pick([4, 7]) : root;
          const midi = degreeToMidi(harmony, degree, 2);
          playNote(
            mix,
            instruments.bass,
            barStart + rhythm[r] * stepSec,
            (next - rhythm[r]) * stepSec * 0.85,
            midiToHz(harmony, midi),
            g * (r === 0 ? 1 : 0.8),
            0,
          );
        }
      }
      // Drums.
      if (arr.drums >= 1) {
        for (const s of m.hats) {
          const open = arr.drums >= 3 && s === 14;
          playSample(
            mix,
            open ? kit.hatOpen : kit.hatClosed,
            barStart + s * stepSec,
            g * (s % 4 === 0 ? 0.35 : 0.22),
            kit.hatPan,
          );
        }
      }
      if (arr.drums >= 2) {
        for (const s of m.kick) playSample(mix, kit.kick, barStart + s * stepSec, g * 0.9, 0);
        const snares =
          lastBar && arr.drums >= 3 ? [...m.snare.filter((s) => s < 12), 12, 13, 14, 15] : m.snare;
        for (const s of snares)
          playSample(mix, kit.snare, barStart + s * stepSec, g * (s >= 13 ? 0.45 : 0.6), kit.snarePan);
      } else if (arr.drums === 1 && bar % 2 === 0) {
        playSample(mix, kit.kick, barStart, g * 0.7, 0);
      }
      // Bell counter-line in the chorus and outro: chord tones on off-beats, high up.
      if (arr.bell && bar % 2 === 1) {
        const degrees = chordDegrees(root, false);
        for (let b = 0; b < 3; b++) {
          const midi = degreeToMidi(harmony, degrees[(b + bar) % 3] + 7, 5);
          playNote(
            mix,
            instruments.bell,
            barStart + (2 + b * 4) * stepSec,
            stepSec * 2,
            midiToHz(harmony, midi),
            g * 0.5,
            pans.bell,
          );
        }
      }
    }

    // Melody: the section's two-bar motif, fitted to the chords, shifted on later repeats.
    if (arr.lead) {
      const timbre = section.kind === 'chorus' ? instruments.leadChorus : instruments.leadVerse;
      for (let phrase = 0; phrase * 2 < section.bars; phrase++) {
        const phraseStart = section.startSec + phrase * 2 * barSec;
        const lastPhrase = (phrase + 1) * 2 >= section.bars;
        m.motif.forEach(([step, len, offset], ni) => {
          const bar = phrase * 2 + Math.floor(step / 16);
          if (bar >= section.bars) return;
          const chordRoot = m.progression[Math.floor(bar * m.chordsPerBar) % m.progression.length];
          let degree = offset + motifShift + (phrase % 2 === 1 && ni === m.motif.length - 1 ? 1 : 0);
          if (step % 8 === 0) {
            // Strong beats land on a chord tone.
            const tones = chordDegrees(chordRoot, false);
            let best = degree;
            let bestDist = Infinity;
            for (const t of tones) {
              for (const o of [-7, 0, 7]) {
                const dist = Math.abs(t + o - degree);
                if (dist < bestDist) {
                  bestDist = dist;
                  best = t + o;
                }
              }
            }
            degree = best;
          }
          if (lastPhrase && ni === m.motif.length - 1) degree = Math.round(degree / 7) * 7; // end on the tonic
          const midi = degreeToMidi(harmony, degree, m.melodyOctave);
          const vel = 0.8 + 0.15 * variation.bipolar() + (step % 4 === 0 ? 0.1 : 0);
          playNote(
            mix,
            timbre,
            phraseStart + step * stepSec + 0.004 * variation.bipolar(),
            len * stepSec * 0.9,
            midiToHz(harmony, midi),
            g * vel,
            pans.lead,
          );
        });
      }
    }
  }

  // Fade the last 0.3 s so a cut mid-note does not click, then normalise the peak to -1 dBFS.
  const fade = Math.min(total, Math.round(0.3 * sampleRate));
  for (let i = 0; i < fade; i++) {
    const gain = i / fade;
    mix.left[total - 1 - i] *= gain;
    mix.right[total - 1 - i] *= gain;
  }
  let peak = 0;
  for (let i = 0; i < total; i++) {
    const a = Math.abs(mix.left[i]);
    const b = Math.abs(mix.right[i]);
    if (a > peak) peak = a;
    if (b > peak) peak = b;
  }
  if (peak > 0) {
    const scale = 0.891 / peak;
    for (let i = 0; i < total; i++) {
      mix.left[i] *= scale;
      mix.right[i] *= scale;
    }
  }
  return { left: mix.left, right: mix.right };
}

/** One line about a song: tempo, key, scale, form. */
export function describeSong(p: SongPlan): string {
  const form = p.sections.map((s) => s.kind[0].toUpperCase()).join('');
  return `seed ${p.seed}: ${p.tempoBpm} bpm, ${p.key} ${p.scale}, A4 = ${p.tuningHz.toFixed(1)} Hz, form ${form}`;
}
