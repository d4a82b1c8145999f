import { statSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { probeAudio } from '../../audio/index.js';
import { ReferenceIndex } from '../../index/index.js';
import { matchFile, type Detection } from '../../match/index.js';
import { CliError } from '../errors.js';
import { indexDir, indexOption } from '../options.js';
import { progressBar } from '../progress.js';

export type MatchFormat = 'table' | 'csv' | 'jsonl';

/** One output record: exactly the fields of the documented jsonl line, in that order. */
export function toRecord(file: string, d: Detection) {
  return {
    file,
    recording: d.recording,
    start: d.start,
    end: d.end,
    refStart: d.refStart,
    refEnd: d.refEnd,
    speed: d.speed,
    confidence: d.confidence,
  };
}

function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function clock(sec: number): string {
  const h = Math.floor(sec / 3600);
  const m = Math.floor((sec % 3600) / 60);
  const s = sec % 60;
  return `${h}:${String(m).padStart(2, '0')}:${s.toFixed(1).padStart(4, '0')}`;
}

export function formatDetections(
  file: string,
  ds: Detection[],
  format: MatchFormat,
  header: boolean,
): string {
  const recs = ds.map((d) => toRecord(file, d));
  if (format === 'jsonl') return recs.map((r) => JSON.stringify(r) + '\n').join('');
  if (format === 'csv') {
    const head = header ? 'file,recording,start,end,refStart,refEnd,speed,confidence\n' : '';
    return head + recs.map((r) => Object.values(r).map(csvCell).join(',') + '\n').join('');
  }
  const rows = recs.map((r) => [
    r.recording,
    clock(r.start),
    clock(r.end),
    (r.end - r.start).toFixed(1),
    `${r.refStart.toFixed(1)}-${r.refEnd.toFixed(1)}`,
    r.speed.toFixed(3),
    r.confidence.toFixed(2),
  ]);
  const head = ['recording', 'start', 'end', 'dur s', 'ref s', 'speed', 'conf'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]))
      .join('  ')
      .trimEnd() + '\n';
  return (
    `${file}: ${ds.length} detection${ds.length === 1 ? '' : 's'}\n` +
    (rows.length ? line(head) + rows.map(line).join('') : '')
  );
}

export function register(program: Command): void {
  program
    .command('match')
    .description('find enrolled recordings in audio files (an air-check archive, a logger recording)')
    .argument('<files...>', 'audio or video files')
    .addOption(
      new Option('--format <format>', 'output format').choices(['table', 'csv', 'jsonl']).default('table'),
    )
    .option('--min-confidence <c>', 'report detections at or above this confidence (0..1)', parseFloat)
    .addOption(indexOption())
    .action(async (files: string[], opts) => {
      const format = opts.format as MatchFormat;
      const minConfidence = opts.minConfidence as number | undefined;
      if (minConfidence !== undefined && !(minConfidence >= 0 && minConfidence <= 1)) {
        throw new CliError('--min-confidence must be a number between 0 and 1');
      }
      for (const f of files) {
        try {
          if (!statSync(f).isFile()) throw new Error();
        } catch {
          throw new CliError(`${f}: no such file`);
        }
      }
      const index = ReferenceIndex.open(indexDir(opts));
      if (index.lookup.liveRecordings === 0)
        process.stderr.write(`warning: the index at ${index.dir} is empty: enrol recordings first\n`);
      let failed = 0;
      try {
        for (let i = 0; i < files.length; i++) {
          const file = files[i];
          const info = await probeAudio(file).catch(() => undefined);
          const bar = progressBar(info?.durationSec ?? 0, 's');
          try {
            const ds = await matchFile(index, file, {
              minConfidence,
              onProgress: (s) => bar.update(s, file),
              onWarning: (w) => process.stderr.write(`warning: ${file}: ${w}\n`),
            });
            bar.stop();
            process.stdout.write(formatDetections(file, ds, format, i === 0));
          } catch (err) {
            bar.stop();
            failed++;
            process.stderr.write(`failed: ${file}: ${(err as Error).message}\n`);
          }
        }
      } finally {
        index.close();
      }
      if (failed > 0) throw new CliError(`${failed} of ${files.length} files could not be matched`);
    });
}
