import { Option, type Command } from 'commander';
import { formatIsrc, formatIswc } from '../../catalog/index.js';
import {
  cmoSummaryText,
  cueSheetHeader,
  cueSheetRow,
  dsrLike,
  statementCsv,
  statementText,
  usageCsvHeader,
  usageCsvRow,
  type DsrRecording,
  type UsageRow,
} from '../../royalty/index.js';
import { CliError } from '../errors.js';
import { formatRun } from './accrual.js';
import { dbOption, output, parsePeriodArg, withRoyalty } from './catalog.js';

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  program
    .command('statement')
    .description(
      "a rights holder's statement for a period: what aired where and when, airtime, rule, amounts, deductions, undistributed, totals",
    )
    .requiredOption('--holder <id>')
    .requiredOption('--period <YYYY-MM>')
    .addOption(new Option('--format <format>').choices(['csv', 'json', 'text']).default('text'))
    .option('--out <file>', 'write to a file instead of stdout')
    .addOption(dbOption())
    .action(async (opts: { holder: string; period: string; format: string; out?: string; db?: string }) => {
      const period = parsePeriodArg(opts.period);
      await withRoyalty(opts, async (repo) => {
        const st = await repo.holderStatement(opts.holder, period);
        const out = output(opts.out);
        await out.write(
          opts.format === 'csv'
            ? statementCsv(st)
            : opts.format === 'json'
              ? `${JSON.stringify(st, null, 2)}\n`
              : statementText(st),
        );
        await out.close();
      });
    });

  const usage = program
    .command('usage')
    .description("a broadcaster's usage lines for a period: report, confirm, dispute, export");
  usage
    .command('report', { isDefault: true })
    .description('each airing with what it accrued per licence and its confirmation status')
    .requiredOption('--broadcaster <id>')
    .requiredOption('--period <YYYY-MM>')
    .addOption(new Option('--format <format>').choices(['csv', 'json']).default('csv'))
    .option('--out <file>')
    .addOption(dbOption())
    .action(
      async (opts: { broadcaster: string; period: string; format: string; out?: string; db?: string }) => {
        const period = parsePeriodArg(opts.period);
        await withRoyalty(opts, async (repo) => {
          const licences = (await repo.catalog.licencesOf(opts.broadcaster)).map((l) => l.id);
          if (licences.length === 0) throw new CliError(`licensee "${opts.broadcaster}" has no licences`, 2);
          const report = await repo.usageReport(opts.broadcaster, period);
          const out = output(opts.out);
          if (opts.format === 'csv') await out.write(usageCsvHeader(licences));
          else
            await out.write(
              `{"broadcaster":${JSON.stringify(opts.broadcaster)},"period":"${period}","deadlineMs":${report?.deadlineMs ?? null},"lines":[\n`,
            );
          let n = 0;
          for await (const row of repo.usageRows(opts.broadcaster, period)) {
            await out.write(
              opts.format === 'csv' ? usageCsvRow(row, licences) : `${n ? ',\n' : ''}${JSON.stringify(row)}`,
            );
            n++;
          }
          if (opts.format === 'json') await out.write('\n]}\n');
          await out.close();
          if (opts.out) process.stdout.write(`${n} usage lines written to ${opts.out}\n`);
        });
      },
    );
  usage
    .command('confirm')
    .description('confirm usage lines (all undisputed ones, or the listed detections)')
    .requiredOption('--broadcaster <id>')
    .requiredOption('--period <YYYY-MM>')
    .option('--all', 'every line not under dispute')
    .option('--detection <id>', 'a detection to confirm (repeatable)', collect)
    .addOption(dbOption())
    .action(
      async (opts: {
        broadcaster: string;
        period: string;
        all?: boolean;
        detection?: string[];
        db?: string;
      }) => {
        if (!opts.all === !opts.detection) throw new CliError('give --all or one or more --detection ID', 2);
        await withRoyalty(opts, async (repo) => {
          const n = await repo.confirmUsage(
            opts.broadcaster,
            parsePeriodArg(opts.period),
            opts.all ? 'all' : opts.detection!,
          );
          process.stdout.write(`${n} usage lines confirmed\n`);
        });
      },
    );
  usage
    .command('dispute')
    .description('dispute one usage line, with a reason, within the window')
    .requiredOption('--broadcaster <id>')
    .requiredOption('--period <YYYY-MM>')
    .requiredOption('--detection <id>')
    .requiredOption('--reason <text>')
    .addOption(dbOption())
    .action(
      async (opts: {
        broadcaster: string;
        period: string;
        detection: string;
        reason: string;
        db?: string;
      }) => {
        await withRoyalty(opts, async (repo) => {
          const id = await repo.disputeUsage(
            opts.broadcaster,
            parsePeriodArg(opts.period),
            opts.detection,
            opts.reason,
          );
          process.stdout.write(`dispute ${id} opened\n`);
        });
      },
    );
  usage
    .command('resolve')
    .description('resolve a dispute; an accepted one takes the airing out and appends the correction')
    .argument('<dispute-id>')
    .option('--accept')
    .option('--reject')
    .option('--note <text>', 'the resolution', '')
    .addOption(dbOption())
    .action(
      async (disputeId: string, opts: { accept?: boolean; reject?: boolean; note: string; db?: string }) => {
        if (!opts.accept === !opts.reject) throw new CliError('give --accept or --reject', 2);
        await withRoyalty(opts, async (repo) => {
          const run = await repo.resolveDispute(disputeId, !!opts.accept, opts.note);
          process.stdout.write(`dispute ${disputeId} ${opts.accept ? 'accepted' : 'rejected'}\n`);
          if (run) process.stdout.write(formatRun(run));
        });
      },
    );
  usage
    .command('disputes')
    .description('disputes of a period')
    .requiredOption('--period <YYYY-MM>')
    .option('--broadcaster <id>')
    .addOption(dbOption())
    .action(async (opts: { period: string; broadcaster?: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        for (const d of await repo.disputes(parsePeriodArg(opts.period), opts.broadcaster)) {
          process.stdout.write(
            `${d.id} ${d.licensee_id} ${d.detection_id} ${d.status}: ${d.reason}${d.resolution ? ` -> ${d.resolution}` : ''}\n`,
          );
        }
      });
    });
  usage
    .command('export')
    .description('usage as a cue sheet (CSV) or a DDEX-DSR-like flat file (tab separated)')
    .requiredOption('--broadcaster <id>')
    .requiredOption('--period <YYYY-MM>')
    .addOption(new Option('--format <format>').choices(['cue-sheet', 'dsr']).default('cue-sheet'))
    .option('--out <file>')
    .addOption(dbOption())
    .action(
      async (opts: { broadcaster: string; period: string; format: string; out?: string; db?: string }) => {
        const period = parsePeriodArg(opts.period);
        await withRoyalty(opts, async (repo) => {
          const licensee = await repo.catalog.getLicensee(opts.broadcaster);
          if (!licensee) throw new CliError(`unknown licensee "${opts.broadcaster}"`, 2);
          const out = output(opts.out);
          if (opts.format === 'cue-sheet') {
            await out.write(cueSheetHeader());
            for await (const row of repo.usageRows(opts.broadcaster, period))
              await out.write(cueSheetRow(row));
          } else {
            const byRecording = new Map<string, DsrRecording>();
            for await (const row of repo.usageRows(opts.broadcaster, period)) addDsr(byRecording, row);
            await out.write(
              dsrLike({
                senderId: licensee.bin ?? licensee.id,
                recipientId: 'TYNDAU',
                period,
                createdIso: new Date().toISOString(),
                licenseeName: licensee.name,
                recordings: [...byRecording.values()].sort((a, b) =>
                  a.recordingId < b.recordingId ? -1 : 1,
                ),
              }),
            );
          }
          await out.close();
        });
      },
    );

  program
    .command('cmo-summary')
    .description('per CMO and period: collected, accrued, deducted, undistributed by reason and age')
    .requiredOption('--cmo <id>')
    .requiredOption('--period <YYYY-MM>')
    .option('--json', 'JSON output')
    .addOption(dbOption())
    .action(async (opts: { cmo: string; period: string; json?: boolean; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const s = await repo.cmoSummary(opts.cmo, parsePeriodArg(opts.period));
        process.stdout.write(opts.json ? `${JSON.stringify(s, null, 2)}\n` : cmoSummaryText(s));
      });
    });
}

function addDsr(acc: Map<string, DsrRecording>, row: UsageRow): void {
  let r = acc.get(row.recordingId);
  if (!r) {
    r = {
      recordingId: row.recordingId,
      isrc: row.isrc ? formatIsrc(row.isrc) : null,
      title: row.title,
      performers: row.performers,
      iswcs: row.iswcs.map(formatIswc),
      usages: 0,
      airtimeMs: 0,
      amountTiyn: 0,
    };
    acc.set(row.recordingId, r);
  }
  r.usages++;
  r.airtimeMs += row.airtimeMs;
  r.amountTiyn += row.totalTiyn;
}
