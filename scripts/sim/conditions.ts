import { Rng } from './rng.js';
import type { SpeechRequest } from './speech.js';
import { DIALOGUE_LINES, DJ_LINES, LANGUAGES, VOICES, type Language } from './texts.js';
import type { BroadcastChain, MusicSegment, SpeechSegment, Timeline, TimelineSegment } from './types.js';

/** A track the simulator may air: its audible span and whether it is in the reference index. */
export interface CatalogueTrack {
  id: string;
  /** The audio file (what is enrolled, and what the simulator decodes). */
  path: string;
  durationSec: number;
  audibleStartSec: number;
  audibleEndSec: number;
  registered: boolean;
  /** Decoded copy at the corpus rate, when the corpus made one. */
  pcmPath?: string;
}

export const CONDITION_IDS = [
  'radio',
  'tv-snr+10',
  'tv-snr+5',
  'tv-snr0',
  'tv-snr-5',
  'lowq',
  'speed',
  'tempo',
  'short-3s',
  'short-5s',
  'short-10s',
  'unregistered',
  'speech',
] as const;
export type ConditionId = (typeof CONDITION_IDS)[number];

/** Conditions whose files contain no registered music at all: every detection there is a false positive. */
export const NO_MUSIC_CONDITIONS: readonly ConditionId[] = ['unregistered', 'speech'];

export const CONDITION_DESCRIPTIONS: Record<ConditionId, string> = {
  radio:
    'radio chain (EQ, 4:1 compression, limiter, resampling, MP3 128k or AAC 64k), 2-6 s crossfades, DJ talk over intros/outros at -6..0 dB, jingles, partial plays, repeats, ~20 % unregistered songs',
  'tv-snr+10': 'TV: music cues under continuous dialogue, music-to-speech +10 dB, AAC 128k',
  'tv-snr+5': 'TV: music cues under continuous dialogue, music-to-speech +5 dB, AAC 128k',
  'tv-snr0': 'TV: music cues under continuous dialogue, music-to-speech 0 dB, AAC 128k',
  'tv-snr-5': 'TV: music cues under continuous dialogue, music-to-speech -5 dB, AAC 128k',
  lowq: 'low quality: pink noise at +5 dB SNR, 300-3400 Hz telephone band, 8 kHz, MP3 32k mono',
  speed: 'speed-up radio: whole songs 1-5 % faster or slower (pitch and tempo together), crossfades, MP3/AAC',
  tempo: 'tempo-only stretch 2-5 % faster or slower (pitch kept), crossfades, MP3/AAC',
  'short-3s': 'short plays of 3 s (jingles; a third are beds under speech at 0 dB) between talk',
  'short-5s': 'short plays of 5 s (jingles; a third are beds under speech at 0 dB) between talk',
  'short-10s': 'short plays of 10 s (jingles; a third are beds under speech at 0 dB) between talk',
  unregistered: 'only unregistered music, full radio chain with crossfades, DJ talk and jingles',
  speech: 'talk only, no music: DJ and dialogue lines in ru, kk, en, jingles',
};

export interface ConditionContext {
  condition: ConditionId;
  /** Seed of this one file (derived from the run seed, the condition and the file index). */
  seed: string;
  fileIndex: number;
  durationSec: number;
  tracks: readonly CatalogueTrack[];
  /** Length of an utterance once synthesised (the simulator caches the audio). */
  speechSec: (req: SpeechRequest) => Promise<number>;
}

/** Builds one file's timeline for a condition; deterministic from ctx.seed. */
export async function buildConditionTimeline(ctx: ConditionContext): Promise<Timeline> {
  const rng = new Rng(ctx.seed);
  const registered = ctx.tracks.filter((t) => t.registered);
  const unregistered = ctx.tracks.filter((t) => !t.registered);
  const all = ctx.tracks.slice();
  const need = (pool: readonly CatalogueTrack[], what: string): readonly CatalogueTrack[] => {
    if (pool.length === 0) throw new Error(`condition ${ctx.condition}: the catalogue has no ${what} tracks`);
    return pool;
  };
  let segments: TimelineSegment[];
  let chain: BroadcastChain;
  const c = ctx.condition;
  switch (c) {
    case 'radio':
      segments = await playlist(ctx, rng, need(all, 'any'), RADIO_STYLE);
      chain = radioChain(rng, ctx.fileIndex);
      break;
    case 'unregistered':
      segments = await playlist(ctx, rng, need(unregistered, 'unregistered'), RADIO_STYLE);
      chain = radioChain(rng, ctx.fileIndex);
      break;
    case 'lowq':
      segments = await playlist(ctx, rng, need(all, 'any'), {
        ...RADIO_STYLE,
        crossfade: 0,
        djOver: false,
        jingles: 0,
      });
      chain = {
        noise: { snrDb: 5, color: 'pink', seed: rng.int(1, 1e9) },
        bandpassHz: [300, 3400],
        compress: true,
        outputSampleRate: 8000,
        codec: 'mp3',
        bitrateKbps: 32,
        channels: 1,
      };
      break;
    case 'speed':
    case 'tempo': {
      const lo = c === 'speed' ? 0.01 : 0.02;
      const factor = (): number => 1 + (rng.chance(0.5) ? 1 : -1) * rng.uniform(lo, 0.05);
      segments = await playlist(ctx, rng, need(all, 'any'), {
        ...RADIO_STYLE,
        djOver: false,
        partial: 0,
        speed: c === 'speed' ? factor : undefined,
        tempo: c === 'tempo' ? factor : undefined,
      });
      chain = radioChain(rng, ctx.fileIndex);
      break;
    }
    case 'tv-snr+10':
    case 'tv-snr+5':
    case 'tv-snr0':
    case 'tv-snr-5':
      segments = await tvProgramme(ctx, rng, need(all, 'any'), TV_SNR[c]);
      chain = {
        compress: true,
        limit: true,
        outputSampleRate: 48000,
        codec: 'aac',
        bitrateKbps: 128,
        channels: 2,
      };
      break;
    case 'short-3s':
    case 'short-5s':
    case 'short-10s':
      segments = await shortPlays(ctx, rng, need(registered, 'registered'), unregistered, SHORT_SEC[c]);
      chain = radioChain(rng, ctx.fileIndex);
      break;
    case 'speech':
      segments = await talkOnly(ctx, rng);
      chain = radioChain(rng, ctx.fileIndex);
      break;
    default:
      throw new Error(`unknown condition ${String(c)}`);
  }
  return { sampleRate: 22050, durationSec: ctx.durationSec, segments, chain, condition: c };
}

/** File extension of a condition's rendered file (follows the codec its chain chose). */
export function extensionFor(chain: BroadcastChain): string {
  return chain.codec === 'mp3' ? '.mp3' : chain.codec === 'aac' ? '.aac' : '.wav';
}

const TV_SNR: Record<string, number> = { 'tv-snr+10': 10, 'tv-snr+5': 5, 'tv-snr0': 0, 'tv-snr-5': -5 };
const SHORT_SEC: Record<string, number> = { 'short-3s': 3, 'short-5s': 5, 'short-10s': 10 };

/** Even files MP3 128k at 44.1 kHz, odd files AAC 64k at 48 kHz; random EQ; compression and limiting. */
function radioChain(rng: Rng, fileIndex: number): BroadcastChain {
  const mp3 = fileIndex % 2 === 0;
  return {
    eq: { bassDb: rng.uniform(0, 5), midDb: rng.uniform(-2, 2), trebleDb: rng.uniform(-1, 4) },
    compress: true,
    limit: true,
    outputSampleRate: mp3 ? 44100 : 48000,
    codec: mp3 ? 'mp3' : 'aac',
    bitrateKbps: mp3 ? 128 : 64,
    channels: 2,
  };
}

interface PlaylistStyle {
  /** Probability that a song crossfades into the previous one (2-6 s). */
  crossfade: number;
  /** Talk over intros (p 0.4) and outros (p 0.25), music-to-speech -6..0 dB. */
  djOver: boolean;
  /** Probability of DJ talk in the clear between songs (when not crossfading). */
  djClear: number;
  /** Probability of a station jingle between songs (when not crossfading). */
  jingles: number;
  /** Probability that a play is partial (starts late and/or ends early with a fade). */
  partial: number;
  /** Probability that a song already aired in this file is aired again. */
  repeat: number;
  speed?: () => number;
  tempo?: () => number;
}

const RADIO_STYLE: PlaylistStyle = {
  crossfade: 0.75,
  djOver: true,
  djClear: 0.25,
  jingles: 0.25,
  partial: 0.3,
  repeat: 0.15,
};

function randomLine(rng: Rng, lines: Record<Language, string[]>, lang?: Language): SpeechRequest {
  const l = lang ?? rng.pick(LANGUAGES);
  const count = rng.chance(0.3) ? 2 : 1;
  const text = Array.from({ length: count }, () => rng.pick(lines[l])).join(' ');
  return { text, voice: rng.pick(VOICES[l]), wordsPerMinute: rng.int(150, 185), pitch: rng.int(35, 65) };
}

async function playlist(
  ctx: ConditionContext,
  rng: Rng,
  pool: readonly CatalogueTrack[],
  style: PlaylistStyle,
): Promise<TimelineSegment[]> {
  const segs: TimelineSegment[] = [];
  const aired: CatalogueTrack[] = [];
  const D = ctx.durationSec;
  let cursor = rng.uniform(0.2, 1.5);
  let prev: { seg: MusicSegment; endSec: number } | null = null;
  while (cursor < D - 20) {
    const crossfading = prev !== null && rng.chance(style.crossfade);
    if (!crossfading) {
      if (rng.chance(style.jingles)) {
        const dur = rng.uniform(3, 6);
        segs.push({ kind: 'jingle', atSec: cursor, durationSec: dur, seed: rng.int(1, 1e9), levelDbfs: -18 });
        cursor += dur + rng.uniform(0.1, 0.6);
      }
      if (rng.chance(style.djClear)) {
        const req = randomLine(rng, DJ_LINES);
        const len = await ctx.speechSec(req);
        segs.push({ kind: 'speech', ...req, atSec: cursor, levelDbfs: rng.uniform(-20, -16) });
        cursor += len + rng.uniform(0.2, 0.8);
      }
    }
    // Pick the next song: sometimes one already aired in this file, never the same twice running.
    const candidates = pool.length > 1 ? pool.filter((t) => t.id !== prev?.seg.recording) : pool;
    const repeats = aired.filter((t) => t.id !== prev?.seg.recording);
    const isRepeat = repeats.length > 0 && rng.chance(style.repeat);
    // The first song of a file is registered whenever the pool has any: every file has something to find.
    const firstPool = aired.length === 0 ? candidates.filter((t) => t.registered) : [];
    const track = isRepeat ? rng.pick(repeats) : rng.pick(firstPool.length > 0 ? firstPool : candidates);
    const speed = style.speed ? round4(style.speed()) : undefined;
    const tempo = style.tempo ? round4(style.tempo()) : undefined;
    const timeFactor = (speed ?? 1) * (tempo ?? 1);
    let refStart = track.audibleStartSec;
    let refEnd = track.audibleEndSec;
    const tags: string[] = [];
    const isPartial = rng.chance(style.partial);
    let fadeIn = 0;
    let fadeOut = rng.chance(0.5) ? rng.uniform(0.5, 2) : 0;
    if (isPartial) {
      const length = refEnd - refStart;
      const minPlay = Math.min(length, 25);
      if (rng.chance(0.5)) {
        refStart += rng.uniform(0, Math.max(0, length - minPlay) * 0.5);
        fadeIn = rng.uniform(1, 3);
      }
      const remaining = refEnd - refStart;
      refEnd = refStart + rng.uniform(Math.min(remaining, minPlay), remaining);
      fadeOut = rng.uniform(2, 5);
      tags.push('partial');
    }
    const playSec = (refEnd - refStart) / timeFactor;
    let at = cursor;
    if (crossfading && prev) {
      const xf = Math.min(rng.uniform(2, 6), playSec / 3, (prev.endSec - prev.seg.atSec) / 3);
      at = prev.endSec - xf;
      prev.seg.fadeOutSec = xf;
      prev.seg.tags = [...(prev.seg.tags ?? []), 'crossfade-out'];
      fadeIn = xf;
      tags.push('crossfade-in');
    }
    if (at > D - 20) break;
    if (isRepeat) tags.push('repeat');
    const seg: MusicSegment = {
      kind: 'music',
      source: track.path,
      recording: track.id,
      registered: track.registered,
      atSec: round3(at),
      refStartSec: round3(refStart),
      refEndSec: round3(refEnd),
      speed,
      tempo,
      gainDb: round3(rng.uniform(-3, 1)),
      fadeInSec: round3(fadeIn),
      fadeOutSec: round3(Math.min(fadeOut, playSec / 3)),
      tags,
    };
    segs.push(seg);
    aired.push(track);
    const endSec = at + playSec;
    if (style.djOver && rng.chance(0.4)) {
      const req = randomLine(rng, DJ_LINES);
      segs.push({
        kind: 'speech',
        ...req,
        atSec: round3(at + rng.uniform(0.5, 3)),
        snrDb: rng.uniform(-6, 0),
      });
      tags.push('dj-intro');
    }
    if (style.djOver && rng.chance(0.25) && playSec > 40) {
      const req = randomLine(rng, DJ_LINES);
      const len = await ctx.speechSec(req);
      segs.push({
        kind: 'speech',
        ...req,
        atSec: round3(Math.max(at + 20, endSec - len - rng.uniform(1, 4))),
        snrDb: rng.uniform(-6, 0),
      });
      tags.push('dj-outro');
    }
    prev = { seg, endSec };
    cursor = endSec + rng.uniform(0.2, 1.5);
  }
  return segs;
}

async function tvProgramme(
  ctx: ConditionContext,
  rng: Rng,
  pool: readonly CatalogueTrack[],
  snrDb: number,
): Promise<TimelineSegment[]> {
  const D = ctx.durationSec;
  const segs: TimelineSegment[] = [];
  // Dialogue from start to end: scenes of 40-120 s in one language, two or three speakers taking turns.
  let t = rng.uniform(0.2, 1);
  while (t < D - 1) {
    const lang = rng.pick(LANGUAGES);
    const speakers = rng.shuffle(VOICES[lang]).slice(0, rng.int(2, 3));
    const sceneEnd = t + rng.uniform(40, 120);
    let turn = 0;
    while (t < Math.min(sceneEnd, D - 1)) {
      const req = { ...randomLine(rng, DIALOGUE_LINES, lang), voice: speakers[turn % speakers.length] };
      const len = await ctx.speechSec(req);
      const seg: SpeechSegment = { kind: 'speech', ...req, atSec: round3(t), snrDb, levelDbfs: -20 };
      segs.push(seg);
      t += len + rng.uniform(0.2, 1.2);
      turn++;
    }
    t += rng.uniform(0.5, 2);
  }
  // Music cues under it: 25-90 s excerpts with 1-3 s fades, 5-25 s of bare dialogue between them.
  const music: MusicSegment[] = [];
  let c = rng.uniform(2, 10);
  let last: string | undefined;
  while (c < D - 25) {
    const choices = pool.length > 1 ? pool.filter((x) => x.id !== last) : pool;
    const firstPool = music.length === 0 ? choices.filter((x) => x.registered) : [];
    const track = rng.pick(firstPool.length > 0 ? firstPool : choices);
    const length = track.audibleEndSec - track.audibleStartSec;
    const cue = Math.min(length, rng.uniform(25, 90), D - c);
    const refStart = track.audibleStartSec + rng.uniform(0, length - cue);
    music.push({
      kind: 'music',
      source: track.path,
      recording: track.id,
      registered: track.registered,
      atSec: round3(c),
      refStartSec: round3(refStart),
      refEndSec: round3(refStart + cue),
      gainDb: round3(rng.uniform(-3, 1)),
      fadeInSec: round3(rng.uniform(1, 3)),
      fadeOutSec: round3(rng.uniform(1, 3)),
      tags: ['under-dialogue'],
    });
    last = track.id;
    c += cue + rng.uniform(5, 25);
  }
  return [...music, ...segs];
}

async function shortPlays(
  ctx: ConditionContext,
  rng: Rng,
  registered: readonly CatalogueTrack[],
  unregistered: readonly CatalogueTrack[],
  playSec: number,
): Promise<TimelineSegment[]> {
  const D = ctx.durationSec;
  const segs: TimelineSegment[] = [];
  let t = rng.uniform(0.3, 1.5);
  while (t < D - playSec - 2) {
    const req = randomLine(rng, DJ_LINES);
    const talkLen = await ctx.speechSec(req);
    if (t + talkLen + playSec + 1 > D) break;
    segs.push({ kind: 'speech', ...req, atSec: round3(t), levelDbfs: rng.uniform(-20, -16) });
    t += talkLen + rng.uniform(0.3, 1);
    const useUnregistered = unregistered.length > 0 && rng.chance(0.15);
    const track = rng.pick(useUnregistered ? unregistered : registered);
    const refStart = rng.uniform(track.audibleStartSec, track.audibleEndSec - playSec);
    const bed = rng.chance(1 / 3);
    const fade = rng.uniform(0.1, 0.3);
    segs.push({
      kind: 'music',
      source: track.path,
      recording: track.id,
      registered: track.registered,
      atSec: round3(t),
      refStartSec: round3(refStart),
      refEndSec: round3(refStart + playSec),
      gainDb: round3(rng.uniform(-2, 1)),
      fadeInSec: round3(fade),
      fadeOutSec: round3(fade),
      tags: [bed ? 'bed' : 'jingle'],
    });
    let end = t + playSec;
    if (bed) {
      const over = randomLine(rng, DJ_LINES);
      const len = await ctx.speechSec(over);
      segs.push({ kind: 'speech', ...over, atSec: round3(t + rng.uniform(0, 0.5)), snrDb: 0 });
      end = Math.max(end, t + len + 0.5);
    }
    t = end + rng.uniform(0.5, 2);
    if (rng.chance(0.25) && t + 6 < D) {
      const dur = rng.uniform(2, 4);
      segs.push({
        kind: 'jingle',
        atSec: round3(t),
        durationSec: dur,
        seed: rng.int(1, 1e9),
        levelDbfs: -18,
      });
      t += dur + rng.uniform(0.3, 1);
    }
  }
  return segs;
}

async function talkOnly(ctx: ConditionContext, rng: Rng): Promise<TimelineSegment[]> {
  const D = ctx.durationSec;
  const segs: TimelineSegment[] = [];
  let t = rng.uniform(0.2, 1);
  while (t < D - 2) {
    if (rng.chance(0.08)) {
      const dur = rng.uniform(3, 6);
      segs.push({
        kind: 'jingle',
        atSec: round3(t),
        durationSec: dur,
        seed: rng.int(1, 1e9),
        levelDbfs: -18,
      });
      t += dur + rng.uniform(0.3, 1);
      continue;
    }
    const req = randomLine(rng, rng.chance(0.5) ? DJ_LINES : DIALOGUE_LINES);
    const len = await ctx.speechSec(req);
    segs.push({ kind: 'speech', ...req, atSec: round3(t), levelDbfs: rng.uniform(-22, -16) });
    t += len + rng.uniform(0.2, 1.5);
  }
  return segs;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
