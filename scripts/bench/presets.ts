import type { ConditionId } from '../sim/conditions.js';

export type PresetName = 'smoke' | 'standard' | 'full';

export interface Preset {
  name: PresetName;
  describe: string;
  /** Per condition: the length of each of its files, seconds. */
  files: Record<ConditionId, number[]>;
  /** Catalogue size: all tracks, or this many registered and unregistered ones (seeded choice). */
  catalogue: 'all' | { registered: number; unregistered: number };
  /** Use supertuxkart-data too (about 40 more tracks). */
  largeCorpus: boolean;
  /** Seconds of broadcast (from the first files of radio, TV 0 dB and speed) used as the scaling query. */
  scalingQuerySec: number;
  /** Catalogue multiples to measure, plus an absolute catalogue size in hours (the 1,000-hour target). */
  scalingFactors: number[];
  scalingTargetHours: number | null;
}

const repeat = (n: number, sec: number): number[] => Array.from({ length: n }, () => sec);

export const PRESETS: Record<PresetName, Preset> = {
  smoke: {
    name: 'smoke',
    describe:
      'about 12 minutes of broadcast against 10 registered tracks: a test of the harness, not of the engine',
    files: {
      radio: [120],
      'tv-snr+10': [45],
      'tv-snr+5': [45],
      'tv-snr0': [45],
      'tv-snr-5': [45],
      lowq: [50],
      speed: [60],
      tempo: [60],
      'short-3s': [40],
      'short-5s': [40],
      'short-10s': [45],
      unregistered: [60],
      speech: [45],
    },
    catalogue: { registered: 10, unregistered: 3 },
    largeCorpus: false,
    scalingQuerySec: 120,
    scalingFactors: [1, 10, 100],
    scalingTargetHours: null,
  },
  standard: {
    name: 'standard',
    describe: 'about 4 hours of broadcast against the whole default corpus; the targets are judged on this',
    files: {
      radio: [1800, 1800],
      'tv-snr+10': [900],
      'tv-snr+5': [900],
      'tv-snr0': [900],
      'tv-snr-5': [900],
      lowq: [900],
      speed: [1200],
      tempo: [1200],
      'short-3s': [600],
      'short-5s': [600],
      'short-10s': [600],
      unregistered: [1200],
      speech: [1200],
    },
    catalogue: 'all',
    largeCorpus: false,
    scalingQuerySec: 1200,
    scalingFactors: [1, 10, 100],
    scalingTargetHours: 1000,
  },
  full: {
    name: 'full',
    describe: 'about 35 hours of broadcast against the large corpus (with supertuxkart-data)',
    files: {
      radio: repeat(16, 1800),
      'tv-snr+10': repeat(4, 1800),
      'tv-snr+5': repeat(4, 1800),
      'tv-snr0': repeat(4, 1800),
      'tv-snr-5': repeat(4, 1800),
      lowq: repeat(4, 1800),
      speed: repeat(6, 1800),
      tempo: repeat(6, 1800),
      'short-3s': repeat(2, 1800),
      'short-5s': repeat(2, 1800),
      'short-10s': repeat(2, 1800),
      unregistered: repeat(8, 1800),
      speech: repeat(8, 1800),
    },
    catalogue: 'all',
    largeCorpus: true,
    scalingQuerySec: 1800,
    scalingFactors: [1, 10, 100],
    scalingTargetHours: 1000,
  },
};

export function presetByName(name: string): Preset {
  const p = (PRESETS as Record<string, Preset | undefined>)[name];
  if (!p) throw new Error(`unknown preset "${name}" (choose smoke, standard or full)`);
  return p;
}
