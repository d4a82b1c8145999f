/**
 * Corpus curation aid: finds tracks that share audio with other tracks (game music reuses intros, loops
 * and stems between versions: `cave_old` and `cave`, `christmas_theme` and `theme`). Enrols every
 * corpus track into a scratch index, matches each clean track against the others, and prints the
 * strong, on-speed matches. A human reviews them and records the pairs in related-tracks.json, which
 * the benchmark then uses (engine-independent from then on) to keep related tracks on the same side of
 * the registered/unregistered split and to tell shared audio apart from false positives.
 *
 *   npx tsx scripts/bench/audit-corpus.ts [--seed 1] [--music DIR] [--large]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { enrollFile, ReferenceIndex } from '../../src/index/index.js';
import { matchFile } from '../../src/match/index.js';
import { buildCorpus } from './corpus.js';

/** A match counts as shared audio only when it is this sure (default), this long and on speed. */
const MIN_SEC = 5;
const MAX_SPEED_ERROR = 0.01;

const o = new Command()
  .option('--seed <seed>', 'corpus seed', '1')
  .option('--music <dir>')
  .option('--large', 'include supertuxkart-data')
  .option('--cache <dir>', 'cache folder', 'bench/cache')
  .option('--min-confidence <x>', 'lowest confidence to report', '0.9')
  .parse()
  .opts<{ seed: string; music?: string; large?: boolean; cache: string; minConfidence: string }>();
const MIN_CONFIDENCE = Number(o.minConfidence);

const manifest = await buildCorpus({
  cacheDir: resolve(o.cache),
  seed: o.seed,
  musicDir: o.music,
  large: o.large,
  log: (l) => process.stderr.write(l + '\n'),
});
const dir = mkdtempSync(join(tmpdir(), 'tyndau-audit-'));
const index = ReferenceIndex.open(dir);
try {
  for (const t of manifest.tracks) await enrollFile(index, t.path, { id: t.id }, { allowDuplicate: true });
  const pairs = new Map<string, { a: string; b: string; sec: number; confidence: number }>();
  for (const t of manifest.tracks) {
    for (const d of await matchFile(index, t.path)) {
      if (d.recording === t.id) continue;
      if (
        d.confidence < MIN_CONFIDENCE ||
        d.end - d.start < MIN_SEC ||
        Math.abs(d.speed - 1) > MAX_SPEED_ERROR
      )
        continue;
      const [a, b] = [t.id, d.recording].sort();
      const key = `${a}|${b}`;
      const p = pairs.get(key) ?? { a, b, sec: 0, confidence: 0 };
      p.sec = Math.max(p.sec, d.end - d.start);
      p.confidence = Math.max(p.confidence, d.confidence);
      pairs.set(key, p);
    }
  }
  const list = [...pairs.values()].sort((x, y) => x.a.localeCompare(y.a) || x.b.localeCompare(y.b));
  process.stdout.write(
    JSON.stringify(
      list.map((p) => ({
        ...p,
        sec: Math.round(p.sec * 10) / 10,
        confidence: Math.round(p.confidence * 100) / 100,
      })),
      null,
      2,
    ) + '\n',
  );
} finally {
  index.close();
  rmSync(dir, { recursive: true, force: true });
}
