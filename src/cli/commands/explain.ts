import type { Command } from 'commander';
import { explainLine } from '../../royalty/index.js';
import { CliError } from '../errors.js';
import { dbOption, withRoyalty } from './catalog.js';

export function register(program: Command): void {
  program
    .command('explain')
    .description(
      'explain an accrual line in plain words: airing, channel, evidence, rule version, share, licence',
    )
    .argument('<line>', 'the line number (column "line" of statements)')
    .option('--json', 'the trace as JSON')
    .addOption(dbOption())
    .action(async (line: string, opts: { json?: boolean; db?: string }) => {
      const seq = Number(line.replace(/^L/i, ''));
      if (!Number.isSafeInteger(seq) || seq <= 0)
        throw new CliError(`line "${line}" is not a line number`, 2);
      await withRoyalty(opts, async (repo) => {
        const trace = await repo.traceLine(seq);
        process.stdout.write(
          opts.json
            ? `${JSON.stringify(trace, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`
            : explainLine(trace),
        );
      });
    });
}
