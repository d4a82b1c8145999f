import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildConditionTimeline,
  extensionFor,
  type CatalogueTrack,
  type ConditionId,
} from '../sim/conditions.js';
import { renderBroadcast } from '../sim/render.js';
import { SourceCache } from '../sim/sources.js';
import { synthesizeSpeech } from '../sim/speech.js';
import type { TruthAiring } from '../sim/types.js';
import { CORPUS_RATE } from './corpus.js';
import { writeJsonFile } from './json-file.js';
import type { Preset } from './presets.js';

/** Bump when the simulator's output changes for the same seed: cached broadcasts are then re-rendered. */
export const GENERATOR_VERSION = 3;

export interface BroadcastFile {
  /** File name (also the `file` of its truth airings and detections). */
  file: string;
  path: string;
  condition: ConditionId;
  index: number;
  durationSec: number;
  codec: string;
  truth: TruthAiring[];
}

interface CachedTruth {
  generatorVersion: number;
  file: string;
  condition: ConditionId;
  durationSec: number;
  codec: string;
  truth: TruthAiring[];
}

export interface PrepareOptions {
  preset: Preset;
  seed: string;
  tracks: readonly CatalogueTrack[];
  conditions: readonly ConditionId[];
  cacheDir: string;
  log: (line: string) => void;
  /** Called after each file with seconds rendered (or found in the cache) so far. */
  onProgress?: (doneSec: number, totalSec: number, file: string) => void;
}

/** The folder a preset's broadcasts live in: keyed by preset, seed, generator version and catalogue. */
export function broadcastDir(opts: Pick<PrepareOptions, 'preset' | 'seed' | 'tracks' | 'cacheDir'>): string {
  const key = createHash('sha1')
    .update(
      JSON.stringify({
        v: GENERATOR_VERSION,
        preset: opts.preset.files,
        seed: opts.seed,
        tracks: opts.tracks.map((t) => [t.id, t.path, t.registered, t.audibleStartSec, t.audibleEndSec]),
      }),
    )
    .digest('hex')
    .slice(0, 12);
  return join(
    opts.cacheDir,
    'broadcasts',
    `${opts.preset.name}-seed${opts.seed.replace(/[^A-Za-z0-9_-]/g, '_')}-${key}`,
  );
}

/** Renders (or reuses from the cache) every file of the chosen conditions, with its ground truth. */
export async function prepareBroadcasts(opts: PrepareOptions): Promise<BroadcastFile[]> {
  const dir = broadcastDir(opts);
  mkdirSync(dir, { recursive: true });
  const speechDir = join(opts.cacheDir, 'speech');
  const sources = new SourceCache(CORPUS_RATE, join(opts.cacheDir, 'corpus', 'pcm'));
  const speechSec = async (req: Parameters<typeof synthesizeSpeech>[0]): Promise<number> =>
    (await synthesizeSpeech(req, CORPUS_RATE, speechDir)).length / CORPUS_RATE;

  const plan = opts.conditions.flatMap((condition) =>
    opts.preset.files[condition].map((durationSec, index) => ({ condition, index, durationSec })),
  );
  const totalSec = plan.reduce((s, p) => s + p.durationSec, 0);
  let doneSec = 0;
  let rendered = 0;
  const out: BroadcastFile[] = [];
  for (const p of plan) {
    const stem = `${p.condition}-${p.index}`;
    const truthPath = join(dir, `${stem}.truth.json`);
    let cached: CachedTruth | undefined;
    if (existsSync(truthPath)) {
      const c = JSON.parse(readFileSync(truthPath, 'utf8')) as CachedTruth;
      if (c.generatorVersion === GENERATOR_VERSION && existsSync(join(dir, c.file))) cached = c;
    }
    if (!cached) {
      const timeline = await buildConditionTimeline({
        condition: p.condition,
        seed: `${opts.seed}/${p.condition}/${p.index}`,
        fileIndex: p.index,
        durationSec: p.durationSec,
        tracks: opts.tracks,
        speechSec,
      });
      const file = `${stem}${extensionFor(timeline.chain!)}`;
      const r = await renderBroadcast(timeline, join(dir, file), { sources, speechCacheDir: speechDir });
      cached = {
        generatorVersion: GENERATOR_VERSION,
        file,
        condition: p.condition,
        durationSec: r.durationSec,
        codec: describeCodec(timeline.chain!),
        truth: r.truth,
      };
      await writeJsonFile(truthPath, cached);
      rendered++;
    }
    out.push({
      file: cached.file,
      path: join(dir, cached.file),
      condition: p.condition,
      index: p.index,
      durationSec: cached.durationSec,
      codec: cached.codec,
      truth: cached.truth,
    });
    doneSec += p.durationSec;
    opts.onProgress?.(doneSec, totalSec, cached.file);
  }
  opts.log(
    `broadcasts: ${out.length} files, ${(totalSec / 3600).toFixed(2)} h in ${dir} (${rendered} rendered, ${out.length - rendered} cached)`,
  );
  return out;
}

function describeCodec(chain: { codec: string; bitrateKbps?: number; outputSampleRate?: number }): string {
  const rate = `${((chain.outputSampleRate ?? 44100) / 1000).toFixed(chain.outputSampleRate === 22050 ? 2 : 1)} kHz`;
  return chain.codec === 'wav' ? `wav ${rate}` : `${chain.codec} ${chain.bitrateKbps}k ${rate}`;
}
