import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { dbOption, withRoyalty } from './catalog.js';

export function register(program: Command): void {
  const ledger = program.command('ledger').description('the append-only, hash-chained ledger');
  ledger
    .command('verify')
    .description(
      'recompute every hash: report the first entry or line that was changed, removed, inserted or reordered',
    )
    .option('--expect-head <hash>', 'the head hash recorded elsewhere (catches a rewritten tail)')
    .addOption(dbOption())
    .action(async (opts: { expectHead?: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const v = await repo.verify(opts.expectHead);
        if (v.ok) {
          process.stdout.write(
            `ledger ok: ${v.entries} entries, ${v.lines} lines, head ${v.headSeq} ${v.headHash}\n`,
          );
          return;
        }
        const p = v.problem!;
        throw new CliError(
          `ledger NOT ok: ${p.message} (${p.kind}${p.entrySeq !== null ? `, entry ${p.entrySeq}` : ''}${p.lineSeq !== null ? `, line ${p.lineSeq}` : ''}); ` +
            `${v.entries} entries verified before it`,
          1,
        );
      });
    });
  ledger
    .command('head')
    .description('the last entry and its hash: keep it somewhere else to detect a rewritten ledger later')
    .addOption(dbOption())
    .action(async (opts: { db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const h = await repo.head();
        process.stdout.write(h && h.seq > 0 ? `${h.seq} ${h.hash}\n` : 'the ledger is empty\n');
      });
    });
  ledger
    .command('show')
    .description('ledger entries from a sequence number')
    .option('--from <seq>', 'first entry', '1')
    .option('--limit <n>', 'how many', '20')
    .addOption(dbOption())
    .action(async (opts: { from: string; limit: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        for (const e of await repo.entries(Number(opts.from), Number(opts.limit))) {
          process.stdout.write(
            `${e.seq} ${e.kind}${e.period ? ` ${e.period}` : ''}${e.licenceId ? ` ${e.licenceId}` : ''}${e.channelId ? ` ${e.channelId} ${e.day}` : ''}` +
              `${e.linesCount ? ` lines ${e.firstLineSeq}-${(e.firstLineSeq ?? 0) + e.linesCount - 1}` : ''} ${e.hash.slice(0, 16)} ${e.payloadJson.slice(0, 160)}\n`,
          );
        }
      });
    });
}
