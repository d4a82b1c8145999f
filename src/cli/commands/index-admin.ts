import { Option, type Command } from 'commander';
import { ReferenceIndex } from '../../index/index.js';
import { CliError } from '../errors.js';
import { indexDir, indexOption } from '../options.js';

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(2)} MB`;
}

export function register(program: Command): void {
  const cmd = program.command('index').description('inspect and maintain the reference index');
  cmd
    .command('stats')
    .description('recordings, hours of reference audio, postings, bytes on disk and in memory')
    .option('--json', 'print JSON')
    .addOption(indexOption())
    .action((opts) => {
      const index = ReferenceIndex.open(indexDir(opts));
      try {
        const s = index.stats();
        const hours = s.referenceSec / 3600;
        if (opts.json) {
          process.stdout.write(JSON.stringify({ ...s, hours, dir: index.dir }) + '\n');
          return;
        }
        process.stdout.write(
          [
            `index        ${index.dir}`,
            `recordings   ${s.recordings}`,
            `reference    ${hours.toFixed(2)} h`,
            `postings     ${s.postings}`,
            `on disk      ${mb(s.diskBytes)}${hours > 0 ? ` (${mb(s.diskBytes / hours)} per hour)` : ''}`,
            `in memory    ${mb(s.memoryBytes)}${hours > 0 ? ` (${mb(s.memoryBytes / hours)} per hour, incl. a fixed ${mb(index.lookup.main.offsets.byteLength)} hash table)` : ''}`,
            ...(s.withoutDensePeaks > 0
              ? [
                  `note         ${s.withoutDensePeaks} recording(s) enrolled before dense reference peaks were stored: their short airings are verified less well; re-enrol them with --replace`,
                ]
              : []),
          ].join('\n') + '\n',
        );
      } finally {
        index.close();
      }
    });
  cmd
    .command('list')
    .description('enrolled recordings')
    .addOption(new Option('--format <format>').choices(['table', 'jsonl']).default('table'))
    .addOption(indexOption())
    .action((opts) => {
      const index = ReferenceIndex.open(indexDir(opts));
      try {
        for (const r of index.list()) {
          if (opts.format === 'jsonl') {
            const { rowid: _rowid, ...rest } = r;
            process.stdout.write(JSON.stringify(rest) + '\n');
          } else {
            process.stdout.write(
              `${r.id}\t${r.durationSec.toFixed(1)} s\t${r.isrc ?? ''}\t${r.title ?? ''}\t${r.artist ?? ''}\n`,
            );
          }
        }
      } finally {
        index.close();
      }
    });
  cmd
    .command('remove')
    .description('remove recordings from the index')
    .argument('<ids...>')
    .addOption(indexOption())
    .action((ids: string[], opts) => {
      const index = ReferenceIndex.open(indexDir(opts));
      const missing: string[] = [];
      try {
        for (const id of ids) {
          if (index.remove(id)) process.stdout.write(`removed ${id}\n`);
          else missing.push(id);
        }
      } finally {
        index.close();
      }
      if (missing.length) throw new CliError(`not enrolled: ${missing.join(', ')}`);
    });
}
