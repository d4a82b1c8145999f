import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { parse } from 'csv-parse/sync';
import { ReferenceIndex, enrollFile, type RecordingMeta } from '../../index/index.js';
import { CliError } from '../errors.js';
import { indexDir, indexOption } from '../options.js';
import { progressBar } from '../progress.js';

const AUDIO_EXT = new Set([
  '.wav',
  '.mp3',
  '.ogg',
  '.oga',
  '.opus',
  '.flac',
  '.m4a',
  '.aac',
  '.mp4',
  '.mkv',
  '.webm',
  '.mov',
  '.aif',
  '.aiff',
  '.wma',
]);

interface Item {
  path: string;
  meta: Partial<RecordingMeta>;
}

/** Audio files under a folder, recursively, in name order. */
export function listAudioFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...listAudioFiles(p));
    else if (AUDIO_EXT.has(extname(name).toLowerCase())) out.push(p);
  }
  return out;
}

/** Reads a manifest CSV with a header: id, title, artist, isrc, path (path relative to the manifest). */
export function readManifest(file: string): Item[] {
  let rows: Record<string, string>[];
  try {
    rows = parse(readFileSync(file), {
      columns: (h: string[]) => h.map((c) => c.trim().toLowerCase()),
      skip_empty_lines: true,
      trim: true,
    });
  } catch (err) {
    throw new CliError(`manifest ${file}: not valid CSV: ${(err as Error).message}`);
  }
  if (rows.length === 0) throw new CliError(`manifest ${file}: no rows`);
  if (!('path' in rows[0]))
    throw new CliError(`manifest ${file}: needs a "path" column (columns: id,title,artist,isrc,path)`);
  const base = dirname(resolve(file));
  return rows.map((r, i) => {
    if (!r.path) throw new CliError(`manifest ${file}: row ${i + 2} has no path`);
    return {
      path: resolve(base, r.path),
      meta: { id: r.id || undefined, title: r.title || null, artist: r.artist || null, isrc: r.isrc || null },
    };
  });
}

export function register(program: Command): void {
  program
    .command('enroll')
    .description('fingerprint reference recordings into the index (files, folders, or a CSV manifest)')
    .argument('[paths...]', 'audio files or folders (searched recursively)')
    .option('--manifest <csv>', 'CSV with columns id,title,artist,isrc,path')
    .option('--id <id>', 'recording id (one file only; default: the file name without extension)')
    .option('--title <title>')
    .option('--artist <artist>')
    .option('--isrc <isrc>')
    .option('--replace', 're-enrol recordings whose id is already enrolled')
    .option('--allow-duplicate', 'enrol audio even if it duplicates an enrolled recording')
    .option('--json', 'print one JSON result per line instead of text')
    .addOption(indexOption())
    .action(async (paths: string[], opts) => {
      const items: Item[] = [];
      if (opts.manifest) items.push(...readManifest(opts.manifest));
      for (const p of paths) {
        let st;
        try {
          st = statSync(p);
        } catch {
          throw new CliError(`${p}: no such file or folder`);
        }
        if (st.isDirectory()) {
          const files = listAudioFiles(p);
          if (files.length === 0) throw new CliError(`${p}: no audio files in this folder`);
          for (const f of files) items.push({ path: f, meta: {} });
        } else items.push({ path: p, meta: {} });
      }
      if (items.length === 0) throw new CliError('nothing to enrol: give files, folders or --manifest');
      if (opts.id || opts.title || opts.artist || opts.isrc) {
        if (items.length !== 1)
          throw new CliError('--id, --title, --artist and --isrc apply to a single file');
        Object.assign(items[0].meta, {
          id: opts.id,
          title: opts.title,
          artist: opts.artist,
          isrc: opts.isrc,
        });
      }
      const index = ReferenceIndex.open(indexDir(opts));
      const bar = progressBar(items.length, 'files');
      let failed = 0;
      let enrolled = 0;
      let duplicates = 0;
      try {
        for (let i = 0; i < items.length; i++) {
          const { path, meta } = items[i];
          bar.update(i, path);
          try {
            const r = await enrollFile(index, path, meta, {
              replace: opts.replace,
              allowDuplicate: opts.allowDuplicate,
            });
            if (r.status === 'duplicate') duplicates++;
            else enrolled++;
            if (opts.json) process.stdout.write(JSON.stringify({ path, ...r }) + '\n');
            else if (r.status === 'duplicate')
              process.stdout.write(
                `duplicate  ${r.id}: same audio as enrolled "${r.duplicateOf}" (${path}); not added\n`,
              );
            else
              process.stdout.write(
                `${r.status.padEnd(10)} ${r.id} (${r.durationSec.toFixed(1)} s, ${r.peaks} peaks)\n`,
              );
            for (const w of r.warnings) process.stderr.write(`warning: ${path}: ${w}\n`);
          } catch (err) {
            failed++;
            const message = (err as Error).message;
            if (opts.json)
              process.stdout.write(JSON.stringify({ path, status: 'failed', error: message }) + '\n');
            process.stderr.write(`failed: ${message.includes(path) ? message : `${path}: ${message}`}\n`);
          }
        }
      } finally {
        bar.stop();
        index.close();
      }
      process.stderr.write(`${enrolled} enrolled, ${duplicates} duplicate, ${failed} failed\n`);
      if (failed > 0) throw new CliError(`${failed} of ${items.length} files could not be enrolled`, 1);
    });
}
