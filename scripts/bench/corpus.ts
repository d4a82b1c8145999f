import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../sim/rng.js';
import { SourceCache } from '../sim/sources.js';
import { writeJsonFile } from './json-file.js';
import type { CatalogueTrack } from '../sim/conditions.js';

/** Debian packages whose music makes the default corpus; supertuxkart-data is the optional larger one. */
export const DEFAULT_MUSIC_PACKAGES = ['supertux-data', 'extremetuxracer-data', 'xmoto-data'];
export const EXTRA_MUSIC_PACKAGES = ['supertuxkart-data'];
const SHORT_NAMES: Record<string, string> = {
  'supertux-data': 'stux',
  'extremetuxracer-data': 'etr',
  'xmoto-data': 'xmoto',
  'supertuxkart-data': 'stk',
};
const MUSIC_EXTENSIONS = new Set([
  '.ogg',
  '.oga',
  '.opus',
  '.mp3',
  '.flac',
  '.wav',
  '.mod',
  '.it',
  '.xm',
  '.s3m',
]);
export const MIN_TRACK_SEC = 30;
export const UNREGISTERED_SHARE = 0.2;
/** Decoded corpus audio is kept at this rate: the simulator renders at it too. */
export const CORPUS_RATE = 22050;
const MANIFEST_VERSION = 2;
/** Reviewed pairs of default-corpus tracks that share audio (see audit-corpus.ts). */
const RELATED_FILE = fileURLToPath(new URL('./related-tracks.json', import.meta.url));

export interface CorpusTrack extends CatalogueTrack {
  /** Package it came from, or 'dir' for --music. */
  origin: string;
  sha1: string;
}

export interface CorpusManifest {
  version: number;
  seed: string;
  sources: string[];
  tracks: CorpusTrack[];
  dropped: { path: string; reason: string }[];
  /** Pairs of tracks that share audio: kept on the same side of the split, scored as shared audio. */
  related: [string, string][];
}

export interface CorpusOptions {
  cacheDir: string;
  seed: string;
  /** A folder of music instead of the Debian packages. */
  musicDir?: string;
  /** Also use supertuxkart-data (about 40 more tracks). */
  large?: boolean;
  log?: (line: string) => void;
}

/**
 * Builds (or reuses) the corpus: finds the music, decodes it, drops short tracks and obvious duplicates,
 * holds ~20 % out as unregistered by a seeded shuffle, and writes `corpus/manifest.json`.
 */
export async function buildCorpus(opts: CorpusOptions): Promise<CorpusManifest> {
  const log = opts.log ?? (() => undefined);
  // The Debian corpus keeps its manifest at corpus/manifest.json; a --music folder gets its own.
  const corpusDir = opts.musicDir
    ? join(
        opts.cacheDir,
        'corpus',
        `music-${createHash('sha1').update(resolve(opts.musicDir)).digest('hex').slice(0, 10)}`,
      )
    : join(opts.cacheDir, 'corpus');
  const manifestPath = join(corpusDir, 'manifest.json');
  const sources = opts.musicDir ? [resolve(opts.musicDir)] : packagesFor(opts.large ?? false);
  if (existsSync(manifestPath)) {
    const old = JSON.parse(readFileSync(manifestPath, 'utf8')) as CorpusManifest;
    const sameInputs =
      old.version === MANIFEST_VERSION &&
      old.seed === opts.seed &&
      JSON.stringify(old.sources) === JSON.stringify(sources);
    if (sameInputs && old.tracks.every((t) => existsSync(t.path))) {
      log(`corpus: reusing ${manifestPath} (${old.tracks.length} tracks)`);
      return old;
    }
  }

  const files = opts.musicDir ? listMusicDir(opts.musicDir) : listPackageMusic(sources, log);
  if (files.length === 0) throw new Error(`corpus: no music files found in ${sources.join(', ')}`);
  log(`corpus: decoding ${files.length} music files`);
  const cache = new SourceCache(CORPUS_RATE, join(opts.cacheDir, 'corpus', 'pcm'), 64 * 1024 * 1024);
  const dropped: CorpusManifest['dropped'] = [];
  const candidates: (CorpusTrack & { envelope: Float32Array })[] = [];
  for (const file of files) {
    let pcm: Float32Array;
    try {
      pcm = await cache.get(file.path);
    } catch (e) {
      dropped.push({
        path: file.path,
        reason: `ffmpeg cannot decode it: ${(e as Error).message.split('\n')[0]}`,
      });
      continue;
    }
    const durationSec = pcm.length / CORPUS_RATE;
    if (durationSec < MIN_TRACK_SEC) {
      dropped.push({
        path: file.path,
        reason: `shorter than ${MIN_TRACK_SEC} s (${durationSec.toFixed(1)} s)`,
      });
      continue;
    }
    const [audibleStartSec, audibleEndSec] = audibleSpan(pcm, CORPUS_RATE);
    if (audibleEndSec - audibleStartSec < MIN_TRACK_SEC) {
      dropped.push({ path: file.path, reason: `less than ${MIN_TRACK_SEC} s of audible audio` });
      continue;
    }
    candidates.push({
      id: file.id,
      path: file.path,
      origin: file.origin,
      durationSec: round3(durationSec),
      audibleStartSec: round3(audibleStartSec),
      audibleEndSec: round3(audibleEndSec),
      registered: true,
      sha1: createHash('sha1').update(readFileSync(file.path)).digest('hex'),
      envelope: envelope(pcm, CORPUS_RATE, audibleStartSec),
    });
  }

  // Obvious duplicates: identical bytes, or the same duration (within 1 s) and a near-identical start.
  const kept: typeof candidates = [];
  for (const c of candidates.sort((a, b) => a.id.localeCompare(b.id))) {
    const twin = kept.find(
      (k) =>
        k.sha1 === c.sha1 ||
        (Math.abs(k.durationSec - c.durationSec) < 1 && correlation(k.envelope, c.envelope) > 0.95),
    );
    if (twin) dropped.push({ path: c.path, reason: `duplicate of ${twin.id}` });
    else kept.push(c);
  }

  const ids = kept.map((k) => k.id);
  const related = loadRelated(opts.musicDir).filter(([a, b]) => ids.includes(a) && ids.includes(b));
  const unregistered = chooseUnregistered(ids, related, opts.seed);
  const tracks: CorpusTrack[] = kept.map((k) => ({
    id: k.id,
    path: k.path,
    origin: k.origin,
    durationSec: k.durationSec,
    audibleStartSec: k.audibleStartSec,
    audibleEndSec: k.audibleEndSec,
    registered: !unregistered.has(k.id),
    sha1: k.sha1,
    pcmPath: cache.diskPath(k.path),
  }));
  const manifest: CorpusManifest = {
    version: MANIFEST_VERSION,
    seed: opts.seed,
    sources,
    tracks,
    dropped,
    related,
  };
  await writeJsonFile(manifestPath, manifest);
  log(
    `corpus: ${tracks.length} tracks (${tracks.filter((t) => t.registered).length} registered, ` +
      `${unregistered.size} unregistered), ${dropped.length} dropped; manifest ${manifestPath}`,
  );
  return manifest;
}

/**
 * Related pairs: the reviewed list for the Debian corpus, or `related-tracks.json` in a --music folder
 * (same format, ids as the corpus makes them: `dir-<relative path without extension>`).
 */
function loadRelated(musicDir: string | undefined): [string, string][] {
  const file = musicDir ? join(musicDir, 'related-tracks.json') : RELATED_FILE;
  if (!existsSync(file)) return [];
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { pairs?: { a: string; b: string }[] };
  if (!Array.isArray(parsed.pairs))
    throw new Error(`${file}: expected { "pairs": [{ "a": id, "b": id }, ...] }`);
  return parsed.pairs.map((p) => [p.a, p.b]);
}

/**
 * Holds ~20 % of the tracks out as unregistered, by a seeded shuffle of groups of related tracks, so a
 * piece and its other version are both registered or both not (never one of each).
 */
export function chooseUnregistered(
  ids: readonly string[],
  related: readonly [string, string][],
  seed: string,
): Set<string> {
  const parent = new Map(ids.map((id) => [id, id]));
  const find = (x: string): string => {
    while (parent.get(x) !== x) x = parent.get(x)!;
    return x;
  };
  for (const [a, b] of related) if (parent.has(a) && parent.has(b)) parent.set(find(a), find(b));
  const groups = new Map<string, string[]>();
  for (const id of [...ids].sort()) {
    const root = find(id);
    groups.set(root, [...(groups.get(root) ?? []), id]);
  }
  const want = Math.round(ids.length * UNREGISTERED_SHARE);
  const out = new Set<string>();
  for (const group of new Rng(`${seed}/split`).shuffle([...groups.values()])) {
    if (out.size + group.length <= want) for (const id of group) out.add(id);
    if (out.size === want) break;
  }
  return out;
}

function packagesFor(large: boolean): string[] {
  return large ? [...DEFAULT_MUSIC_PACKAGES, ...EXTRA_MUSIC_PACKAGES] : DEFAULT_MUSIC_PACKAGES;
}

/** Installs missing packages (saying so) and lists the music files they ship. */
function listPackageMusic(
  packages: string[],
  log: (line: string) => void,
): { id: string; path: string; origin: string }[] {
  const missing = packages.filter((p) => !isInstalled(p));
  if (missing.length > 0) {
    log(`corpus: installing missing Debian packages: ${missing.join(', ')} (apt-get)`);
    const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const run = (args: string[]): void => {
      const [cmd, ...rest] = [...sudo, ...args];
      execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env });
    };
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...missing]);
  }
  const out: { id: string; path: string; origin: string }[] = [];
  for (const pkg of packages) {
    const listed = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8' }).split('\n');
    const music = listed.filter(
      (p) => MUSIC_EXTENSIONS.has(extname(p).toLowerCase()) && /\/musics?\//i.test(p) && isFile(p),
    );
    const root = commonDir(music);
    for (const p of music.sort()) {
      out.push({ id: makeId(SHORT_NAMES[pkg] ?? pkg, relative(root, p)), path: p, origin: pkg });
    }
  }
  return out;
}

function listMusicDir(dir: string): { id: string; path: string; origin: string }[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--music ${dir}: not a directory`);
  const out: { id: string; path: string; origin: string }[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (MUSIC_EXTENSIONS.has(extname(name).toLowerCase())) {
        out.push({ id: makeId('dir', relative(dir, p)), path: resolve(p), origin: 'dir' });
      }
    }
  };
  walk(dir);
  return out;
}

function isInstalled(pkg: string): boolean {
  try {
    const status = execFileSync('dpkg-query', ['-W', '-f=${Status}', pkg], {
      encoding: 'utf8',
      stdio: 'pipe',
    });
    return status.includes('install ok installed');
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function commonDir(paths: string[]): string {
  if (paths.length === 0) return '/';
  let prefix = paths[0].split('/').slice(0, -1);
  for (const p of paths) {
    const parts = p.split('/');
    let i = 0;
    while (i < prefix.length && prefix[i] === parts[i]) i++;
    prefix = prefix.slice(0, i);
  }
  return prefix.join('/') || '/';
}

function makeId(prefix: string, rel: string): string {
  const stem = rel.slice(0, rel.length - extname(rel).length);
  const clean = stem
    .split(/[\\/]/)
    .map((s) => s.replace(/[^A-Za-z0-9_.-]+/g, '_'))
    .join('-');
  return `${prefix}-${clean || basename(rel)}`;
}

/** First and last moment the track is audible: 50 ms windows above -50 dBFS RMS. */
export function audibleSpan(pcm: Float32Array, rate: number): [number, number] {
  const win = Math.round(rate * 0.05);
  const threshold = Math.pow(10, -50 / 10);
  let first = -1;
  let last = -1;
  for (let i = 0; i + win <= pcm.length; i += win) {
    let sum = 0;
    for (let j = i; j < i + win; j++) sum += pcm[j] * pcm[j];
    if (sum / win > threshold) {
      if (first < 0) first = i;
      last = i + win;
    }
  }
  if (first < 0) return [0, 0];
  return [first / rate, last / rate];
}

/** The first 20 s after the audible start as 50 ms log-energy frames: enough to spot a re-encoded copy. */
function envelope(pcm: Float32Array, rate: number, fromSec: number): Float32Array {
  const win = Math.round(rate * 0.05);
  const frames = 400;
  const out = new Float32Array(frames);
  const start = Math.round(fromSec * rate);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    const a = start + f * win;
    for (let j = a; j < a + win && j < pcm.length; j++) sum += pcm[j] * pcm[j];
    out[f] = Math.log10(sum / win + 1e-10);
  }
  return out;
}

function correlation(a: Float32Array, b: Float32Array): number {
  const n = Math.min(a.length, b.length);
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : 0;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
