import type { Command } from 'commander';
import { formatDateMs } from '../../catalog/index.js';
import {
  RESERVE_REASON_TEXT,
  ageBucket,
  formatKzt,
  type AccrueResult,
  type ReserveReason,
} from '../../royalty/index.js';
import { CliError } from '../errors.js';
import { dbOption, parsePeriodArg, withRoyalty } from './catalog.js';

function parseAsOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00+05:00`) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new CliError(`--as-of "${value}" is not a date or ISO timestamp`, 2);
  return ms;
}

function days(value: string, what: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CliError(`${what} "${value}" is not a number of days`, 2);
  return n;
}

export function formatRun(r: AccrueResult): string {
  const out: string[] = [];
  out.push(
    r.changed
      ? `period ${r.periodId}: run ${r.revision} appended (ledger head ${r.headSeq})`
      : `period ${r.periodId}: up to date, nothing appended`,
  );
  for (const l of r.licences) {
    out.push(
      `  ${l.licenceId} (${l.cmoId}, ${l.licenseeId}, ${l.tariffVersionId}, ${l.basis}): due ${formatKzt(l.dueTiyn)}` +
        `${l.minimumFeeApplied ? ' (minimum fee)' : ''}; ${l.airings} airings in ${l.buckets} channel-days`,
    );
    out.push(
      `    to holders ${formatKzt(l.distributedTiyn)} (deduction ${formatKzt(l.deductionTiyn)}, net ${formatKzt(l.netTiyn)}), undistributed ${formatKzt(l.reserveTiyn)}` +
        `; lines +${l.linesAdded} -${l.linesReversed}`,
    );
    for (const [reason, v] of Object.entries(l.reserveByReason)) {
      if (v)
        out.push(
          `      reserve ${reason}: ${formatKzt(v)} (${RESERVE_REASON_TEXT[reason as ReserveReason] ?? reason})`,
        );
    }
  }
  for (const s of r.skipped) out.push(`  skipped ${s.licenceId}: ${s.reason}`);
  return `${out.join('\n')}\n`;
}

export function register(program: Command): void {
  program
    .command('accrue')
    .description(
      'accrue a period: compute what each licence owes and who gets it, and append the changes to the ledger',
    )
    .requiredOption('--period <YYYY-MM>', 'the month, e.g. 2026-11')
    .option(
      '--as-of <time>',
      'the moment of the run (default now): decides which pending detections are past review',
    )
    .option('--review-window-days <n>', 'pending detections count once this old', '7')
    .option('--dispute-window-days <n>', 'how long broadcasters may dispute usage lines', '14')
    .option('--force', 'run although a lock from a crashed run remains')
    .option('--json', 'JSON output')
    .addOption(dbOption())
    .action(
      async (opts: {
        period: string;
        asOf?: string;
        reviewWindowDays: string;
        disputeWindowDays: string;
        force?: boolean;
        json?: boolean;
        db?: string;
      }) => {
        const period = parsePeriodArg(opts.period);
        await withRoyalty(opts, async (repo) => {
          const r = await repo.accrue(period, {
            asOfMs: parseAsOf(opts.asOf),
            reviewWindowDays: days(opts.reviewWindowDays, '--review-window-days'),
            disputeWindowDays: days(opts.disputeWindowDays, '--dispute-window-days'),
            force: opts.force,
          });
          process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : formatRun(r));
        });
      },
    );

  const reserve = program
    .command('reserve')
    .description(
      'the undistributed reserve: money without a known rights holder, by period, licence, reason and age',
    );
  reserve
    .command('list', { isDefault: true })
    .option('--json', 'JSON output')
    .addOption(dbOption())
    .action(async (opts: { json?: boolean; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const rows = await repo.reserve();
        if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        if (rows.length === 0) return void process.stdout.write('the reserve is empty\n');
        const now = Date.now();
        for (const r of rows) {
          process.stdout.write(
            `${r.period} ${r.licenceId} ${r.reason}: ${formatKzt(r.grossTiyn)} since ${formatDateMs(r.oldestMs)} (${ageBucket(now - r.oldestMs)})\n`,
          );
        }
      });
    });
  reserve
    .command('release')
    .description(
      'accrue again every period that holds reserve, so money whose data was fixed goes to its holders',
    )
    .addOption(dbOption())
    .action(async (opts: { db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const periods = await repo.periodsWithReserve();
        if (periods.length === 0) return void process.stdout.write('the reserve is empty\n');
        for (const p of periods) process.stdout.write(formatRun(await repo.accrue(p)));
      });
    });
}
