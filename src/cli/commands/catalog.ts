import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import { Option, type Command } from 'commander';
import {
  CSV_FORMATS,
  CatalogError,
  LICENSEE_CATEGORIES,
  RIGHT_TYPES,
  formatBp,
  formatDateMs,
  formatIsrc,
  formatIswc,
  parseDateMs,
  type CsvImportKind,
  type LicenseeCategory,
  type RightType,
} from '../../catalog/index.js';
import {
  MoneyError,
  RoyaltyError,
  RoyaltyRepository,
  TariffRuleError,
  formatKzt,
  seedDemoCatalogue,
} from '../../royalty/index.js';
import { openAccrualStore } from '../../royalty/open.js';
import { migrateToLatest, type Store } from '../../store/index.js';
import { CliError } from '../errors.js';

/** `--db URL`: the system of record (env TYNDAU_DB, default sqlite:data/tyndau.db). */
export const dbOption = () =>
  new Option('--db <url>', 'database: sqlite:PATH or postgres://... (env TYNDAU_DB)').default(
    undefined,
    'sqlite:data/tyndau.db',
  );

export function dbUrl(opts: { db?: string }): string {
  return opts.db ?? process.env.TYNDAU_DB ?? 'sqlite:data/tyndau.db';
}

/** Opens and migrates the store, runs `fn` with the royalty repository (and its catalogue), closes. */
export async function withRoyalty<T>(
  opts: { db?: string },
  fn: (repo: RoyaltyRepository, store: Store) => Promise<T>,
): Promise<T> {
  const store = openAccrualStore(dbUrl(opts));
  try {
    await migrateToLatest(store);
    return await fn(new RoyaltyRepository(store), store);
  } catch (err) {
    throw userError(err);
  } finally {
    await store.close();
  }
}

/** Domain errors are the user's input problems: shown without a stack, exit code 2. */
export function userError(err: unknown): unknown {
  if (
    err instanceof CatalogError ||
    err instanceof RoyaltyError ||
    err instanceof TariffRuleError ||
    err instanceof MoneyError ||
    err instanceof RangeError
  ) {
    return new CliError(err.message, 2);
  }
  return err;
}

export function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(
      `cannot read ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      2,
    );
  }
}

/**
 * Output to a file or stdout, respecting back-pressure (reports can be millions of lines). A closed pipe
 * (`| head`) ends the output quietly.
 */
export function output(file?: string): { write(s: string): Promise<void>; close(): Promise<void> } {
  const stream: NodeJS.WritableStream = file ? createWriteStream(file) : process.stdout;
  let broken = false;
  let failure: Error | null = null;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') broken = true;
    else failure = err;
  });
  return {
    write: (s: string) =>
      new Promise<void>((resolve, reject) => {
        if (failure)
          return reject(new CliError(`cannot write ${file ?? 'output'}: ${(failure as Error).message}`, 1));
        if (broken || stream.write(s)) return resolve();
        stream.once('drain', () => resolve());
        stream.once('error', () => resolve());
      }),
    close: () =>
      file
        ? new Promise<void>((resolve, reject) => {
            if (failure)
              return reject(new CliError(`cannot write ${file}: ${(failure as Error).message}`, 1));
            (stream as WriteStream).end(() => resolve());
          })
        : Promise.resolve(),
  };
}

export function parsePeriodArg(value: string): string {
  if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(value))
    throw new CliError(`period "${value}" is not valid: expected YYYY-MM, e.g. 2026-11`, 2);
  return value;
}

export function parseDateArg(value: string, what: string): number {
  try {
    return parseDateMs(value, what);
  } catch (err) {
    throw new CliError(err instanceof Error ? err.message : String(err), 2);
  }
}

/** "1234.56" KZT -> 123456 tiyn, exactly (no float). */
export function parseKzt(value: string, what = 'amount'): number {
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(value.trim().replace(/[\s_]/g, ''));
  if (!m) throw new CliError(`${what} "${value}" is not an amount in KZT such as 1250000 or 1250000.50`, 2);
  const tiyn = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(tiyn)) throw new CliError(`${what} "${value}" is too large`, 2);
  return tiyn;
}

function rightTypes(value: string): RightType[] {
  const list = value.split(',').map((s) => s.trim()) as RightType[];
  for (const r of list)
    if (!RIGHT_TYPES.includes(r))
      throw new CliError(`right type "${r}" is not one of ${RIGHT_TYPES.join(', ')}`, 2);
  return list;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

export function register(program: Command): void {
  const catalog = program
    .command('catalog')
    .description('the catalogue: import registrations, inspect works, recordings, shares and conflicts');

  catalog
    .command('import')
    .description(
      'bulk import: CSV (holders, works, recordings, shares, mandates; detected from the header) or CWR 2.1/2.2 registrations',
    )
    .option('--csv <file>', 'a CSV file')
    .addOption(
      new Option('--kind <kind>', 'CSV format (default: detected from the header)').choices(
        Object.keys(CSV_FORMATS),
      ),
    )
    .option('--cwr <file>', 'a CWR 2.1 or 2.2 file (NWR/REV with SPU, SWR, PWR, ALT, PER, REC)')
    .option('--report <file>', 'write the acknowledgement report as JSON')
    .option('--quiet', 'print only the summary')
    .addOption(dbOption())
    .action(
      async (opts: {
        csv?: string;
        kind?: CsvImportKind;
        cwr?: string;
        report?: string;
        quiet?: boolean;
        db?: string;
      }) => {
        if (!opts.csv === !opts.cwr) throw new CliError('give exactly one of --csv FILE or --cwr FILE', 2);
        await withRoyalty(opts, async (repo) => {
          if (opts.csv) {
            const rep = await repo.catalog.importCsv(readText(opts.csv, 'CSV file'), opts.kind);
            if (!opts.quiet) {
              for (const r of rep.rows)
                process.stdout.write(
                  `line ${r.line}: ${r.status === 'accepted' ? 'ok' : 'REJECTED'}: ${r.message}\n`,
                );
            }
            process.stdout.write(`${rep.kind}: ${rep.accepted} accepted, ${rep.rejected} rejected\n`);
            if (opts.report) await writeJson(opts.report, rep);
          } else {
            const rep = await repo.catalog.importCwr(readText(opts.cwr!, 'CWR file'));
            if (!opts.quiet) {
              for (const r of rep.records) {
                process.stdout.write(
                  `line ${r.line} ${r.recordType}${r.transactionSeq !== null ? ` #${r.transactionSeq}` : ''}: ${r.status}: ${r.message}\n`,
                );
              }
            }
            for (const t of rep.transactions) {
              process.stdout.write(
                `transaction ${t.transactionSeq} ${t.type} "${t.title}"${t.workId ? ` -> ${t.workId}` : ''}: ${t.status} ${t.message}\n`,
              );
            }
            const count = (s: string) => rep.transactions.filter((t) => t.status === s).length;
            process.stdout.write(
              `CWR ${rep.version} from ${rep.sender}: ${rep.transactions.length} transactions, ${count('AS')} accepted, ${count('RA')} with rejected records, ` +
                `${count('CO')} in conflict, ${count('DU')} duplicates, ${count('TR')} rejected\n`,
            );
            if (opts.report) await writeJson(opts.report, rep);
          }
        });
      },
    );

  catalog
    .command('conflicts')
    .description('shares of a right type summing to more than 100 % (kept until resolved)')
    .option('--all', 'include resolved conflicts')
    .option('--json', 'JSON output')
    .addOption(dbOption())
    .action(async (opts: { all?: boolean; json?: boolean; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const list = await repo.catalog.conflicts(opts.all);
        if (opts.json) return void process.stdout.write(`${JSON.stringify(list, null, 2)}\n`);
        if (list.length === 0) return void process.stdout.write('no share conflicts\n');
        for (const c of list) {
          process.stdout.write(
            `${c.subjectKind} ${c.subjectId} ${c.rightType}: ${formatBp(c.totalBp)} % from ${formatDateMs(c.fromMs)} to ${c.toMs === null ? 'open' : formatDateMs(c.toMs)}` +
              `${c.resolvedAtMs !== null ? ` (resolved ${new Date(c.resolvedAtMs).toISOString()})` : ''}\n`,
          );
        }
      });
    });

  catalog
    .command('show')
    .description('a rights holder, work or recording with its shares (all versions) and mandates')
    .argument('<kind>', 'holder | work | recording')
    .argument('<id>')
    .addOption(dbOption())
    .action(async (kind: string, id: string, opts: { db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const cat = repo.catalog;
        const shareLines = async (subjectKind: 'work' | 'recording', subjectId: string) =>
          (await cat.sharesOf(subjectKind, subjectId, true))
            .map(
              (s) =>
                `  share ${s.id} v${s.version}: ${s.holderId} ${formatBp(s.shareBp)} % ${s.rightType}, ${formatDateMs(s.validFromMs)} - ${s.validToMs === null ? 'open' : formatDateMs(s.validToMs)}` +
                `${s.retiredAtMs !== null ? ' (retired)' : ''}\n`,
            )
            .join('');
        if (kind === 'holder') {
          const h = await cat.getHolder(id);
          if (!h) throw new CliError(`unknown rights holder "${id}"`, 2);
          let out = `${h.id}: ${h.name} (${h.kind}${h.iin ? `, IIN ${h.iin}` : ''}${h.bin ? `, BIN ${h.bin}` : ''}${h.ipiNameNumber ? `, IPI ${h.ipiNameNumber}` : ''}) roles: ${h.roles.join(', ') || '-'}\n`;
          for (const m of (await cat.mandatesOf([id])).get(id) ?? []) {
            out += `  mandate ${m.id}: ${m.rightType} with ${m.cmoId}, ${formatDateMs(m.validFromMs)} - ${m.validToMs === null ? 'open' : formatDateMs(m.validToMs)}\n`;
          }
          process.stdout.write(out);
        } else if (kind === 'work') {
          const w = await cat.getWork(id);
          if (!w) throw new CliError(`unknown work "${id}"`, 2);
          process.stdout.write(
            `${w.id}: "${w.title}"${w.iswc ? ` ISWC ${formatIswc(w.iswc)}` : ''}${w.titleKk ? ` | kk: ${w.titleKk}` : ''}${w.titleRu ? ` | ru: ${w.titleRu}` : ''}${w.titleLat ? ` | lat: ${w.titleLat}` : ''}\n` +
              w.creators.map((c) => `  ${c.role}: ${c.holderId}\n`).join('') +
              (await shareLines('work', id)),
          );
        } else if (kind === 'recording') {
          const r = await cat.getRecording(id);
          if (!r) throw new CliError(`unknown recording "${id}"`, 2);
          process.stdout.write(
            `${r.id}: "${r.title}"${r.isrc ? ` ISRC ${formatIsrc(r.isrc)}` : ''}${r.durationMs ? ` ${(r.durationMs / 1000).toFixed(1)} s` : ''}` +
              `${r.fingerprintRef ? ` (fingerprints: ${r.fingerprintRef})` : ' (no fingerprints enrolled)'}\n` +
              r.works.map((w) => `  work ${w.workId} (${formatBp(w.portionBp)} %)\n`).join('') +
              r.performerIds.map((p) => `  performer ${p}\n`).join('') +
              (r.producerId ? `  producer ${r.producerId}\n` : '') +
              (await shareLines('recording', id)),
          );
        } else throw new CliError(`kind "${kind}" is not holder, work or recording`, 2);
      });
    });

  catalog
    .command('cmo')
    .description('register or update a collective management organisation')
    .argument('<id>')
    .requiredOption('--name <name>')
    .requiredOption('--rights <list>', `right types it manages: ${RIGHT_TYPES.join(',')}`)
    .option('--bin <bin>', 'its BIN')
    .addOption(dbOption())
    .action(async (id: string, opts: { name: string; rights: string; bin?: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        await repo.catalog.addCmo({
          id,
          name: opts.name,
          bin: opts.bin ?? null,
          rightTypes: rightTypes(opts.rights),
        });
        process.stdout.write(`CMO ${id} registered\n`);
      });
    });

  catalog
    .command('withdraw-share')
    .description(
      'retire a share version registered in error (shares are never edited; fixes come as new versions by import)',
    )
    .argument('<share-id>')
    .addOption(dbOption())
    .action(async (shareId: string, opts: { db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        await repo.catalog.withdrawShare(shareId);
        process.stdout.write(
          `share ${shareId} withdrawn; accrue the affected periods again to correct them\n`,
        );
      });
    });

  catalog
    .command('end-mandate')
    .description('end an open mandate (the holder moves to another CMO)')
    .argument('<mandate-id>')
    .requiredOption('--to <date>', 'last day + 1, YYYY-MM-DD')
    .addOption(dbOption())
    .action(async (mandateId: string, opts: { to: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        await repo.catalog.endMandate(mandateId, parseDateArg(opts.to, 'end date'));
        process.stdout.write(`mandate ${mandateId} ends on ${opts.to}\n`);
      });
    });

  catalog
    .command('seed-demo')
    .description(
      'the demo catalogue: two CMOs, holders, a work per recording, a broadcaster with two channels, licences and tariffs',
    )
    .requiredOption('--recordings <ids>', 'comma-separated recording ids (as enrolled in the index)')
    .option(
      '--revenue <period=kzt...>',
      'declared revenue of the demo broadcaster, e.g. 2026-11=20000000',
      collect,
    )
    .addOption(dbOption())
    .action(async (opts: { recordings: string; revenue?: string[]; db?: string }) => {
      await withRoyalty(opts, async (_repo, store) => {
        const revenue = (opts.revenue ?? []).map((r) => {
          const [period, kzt] = r.split('=');
          return { period: parsePeriodArg(period), revenueTiyn: parseKzt(kzt ?? '', 'revenue') };
        });
        const res = await seedDemoCatalogue(store, {
          recordings: opts.recordings
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
          revenue,
        });
        process.stdout.write(
          `seeded: CMOs ${res.cmos.join(', ')}; ${res.holders.length} holders; ${res.works.length} works; broadcaster ${res.broadcaster} ` +
            `with channels ${res.channels.join(', ')}; licences ${res.licences.join(', ')}; tariff versions ${res.tariffVersions.join(', ')}\n`,
        );
      });
    });

  // ---- licensees, licences, tariffs, revenue --------------------------------------------------------

  const licensee = program
    .command('licensee')
    .description('users of works (licensees): broadcasters first, other categories later');
  licensee
    .command('add')
    .argument('<id>')
    .requiredOption('--name <name>')
    .addOption(new Option('--category <category>').choices([...LICENSEE_CATEGORIES]).makeOptionMandatory())
    .option('--bin <bin>')
    .option(
      '--platform-from <date>',
      'from when this licensee reports through the platform (YYYY-MM-DD)',
      '2026-01-01',
    )
    .addOption(dbOption())
    .action(
      async (
        id: string,
        opts: { name: string; category: LicenseeCategory; bin?: string; platformFrom: string; db?: string },
      ) => {
        await withRoyalty(opts, async (repo) => {
          await repo.catalog.upsertLicensee({
            id,
            name: opts.name,
            bin: opts.bin ?? null,
            category: opts.category,
            platformFromMs: parseDateArg(opts.platformFrom, 'platform date'),
          });
          process.stdout.write(`licensee ${id} (${opts.category}) registered\n`);
        });
      },
    );

  const licence = program
    .command('licence')
    .description("licences: a licensee's agreement with a CMO under a tariff, for a period");
  licence
    .command('add')
    .requiredOption('--licensee <id>')
    .requiredOption('--cmo <id>')
    .requiredOption('--tariff <id>')
    .requiredOption('--from <date>', 'YYYY-MM-DD')
    .option('--to <date>', 'end (exclusive), YYYY-MM-DD')
    .option('--id <id>', 'licence id (default: derived)')
    .addOption(dbOption())
    .action(
      async (opts: {
        licensee: string;
        cmo: string;
        tariff: string;
        from: string;
        to?: string;
        id?: string;
        db?: string;
      }) => {
        await withRoyalty(opts, async (repo) => {
          const l = await repo.catalog.addLicence({
            id: opts.id,
            licenseeId: opts.licensee,
            cmoId: opts.cmo,
            tariffId: opts.tariff,
            validFromMs: parseDateArg(opts.from, 'licence start'),
            validToMs: opts.to ? parseDateArg(opts.to, 'licence end') : null,
          });
          process.stdout.write(`licence ${l.id} registered\n`);
        });
      },
    );
  licence
    .command('list')
    .requiredOption('--licensee <id>')
    .addOption(dbOption())
    .action(async (opts: { licensee: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        for (const l of await repo.catalog.licencesOf(opts.licensee)) {
          process.stdout.write(
            `${l.id}: CMO ${l.cmoId}, tariff ${l.tariffId}, ${formatDateMs(l.validFromMs)} - ${l.validToMs === null ? 'open' : formatDateMs(l.validToMs)}\n`,
          );
        }
      });
    });

  const tariff = program
    .command('tariff')
    .description('tariffs: declarative rules in versions that are never edited');
  tariff
    .command('add')
    .argument('<id>')
    .requiredOption('--cmo <id>')
    .requiredOption('--name <name>')
    .addOption(dbOption())
    .action(async (id: string, opts: { cmo: string; name: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        await repo.catalog.addTariff({ id, cmoId: opts.cmo, name: opts.name });
        process.stdout.write(
          `tariff ${id} registered (publish its rules with: tyndau tariff version ${id} --from YYYY-MM-01 --rules FILE)\n`,
        );
      });
    });
  tariff
    .command('version')
    .description(
      'publish a new version of a tariff, valid from the first day of a month (see docs/royalty.md for the rules)',
    )
    .argument('<tariff-id>')
    .requiredOption('--from <date>', 'first day of a month, YYYY-MM-01')
    .requiredOption('--rules <file>', 'rules as JSON')
    .addOption(dbOption())
    .action(async (tariffId: string, opts: { from: string; rules: string; db?: string }) => {
      let doc: unknown;
      try {
        doc = JSON.parse(readText(opts.rules, 'rules file'));
      } catch (err) {
        if (err instanceof CliError) throw err;
        throw new CliError(`rules file ${opts.rules} is not JSON: ${(err as Error).message}`, 2);
      }
      await withRoyalty(opts, async (repo) => {
        const v = await repo.publishTariffVersion(tariffId, parseDateArg(opts.from, 'version start'), doc);
        process.stdout.write(
          `published ${v.id} (rules hash ${v.rulesHash.slice(0, 16)}...) valid from ${opts.from}\n`,
        );
      });
    });
  tariff
    .command('show')
    .argument('<tariff-id>')
    .addOption(dbOption())
    .action(async (tariffId: string, opts: { db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        const t = await repo.catalog.getTariff(tariffId);
        if (!t) throw new CliError(`unknown tariff "${tariffId}"`, 2);
        let out = `${t.id}: ${t.name} (CMO ${t.cmoId})\n`;
        for (const v of await repo.catalog.tariffVersions(tariffId))
          out += `  ${v.id} from ${formatDateMs(v.validFromMs)}: ${v.rulesJson}\n`;
        process.stdout.write(out);
      });
    });
  tariff
    .command('mci')
    .description('the monthly calculation index (MCI, МРП) per year, used by MCI-denominated rules')
    .requiredOption('--year <year>')
    .option('--kzt <amount>', 'set the value (KZT); without it, show it')
    .addOption(dbOption())
    .action(async (opts: { year: string; kzt?: string; db?: string }) => {
      const year = Number(opts.year);
      if (!Number.isInteger(year)) throw new CliError(`year "${opts.year}" is not a year`, 2);
      await withRoyalty(opts, async (repo) => {
        if (opts.kzt) await repo.catalog.setMci(year, parseKzt(opts.kzt, 'MCI value'));
        const v = await repo.catalog.mciTiyn(year);
        process.stdout.write(
          v === null ? `MCI for ${year} is not configured\n` : `MCI ${year}: ${formatKzt(v)}\n`,
        );
      });
    });

  program
    .command('revenue')
    .description(
      "declare a licensee's revenue for a period (revenue-pool tariffs); the latest declaration counts",
    )
    .requiredOption('--licensee <id>')
    .requiredOption('--period <YYYY-MM>')
    .requiredOption('--kzt <amount>')
    .addOption(dbOption())
    .action(async (opts: { licensee: string; period: string; kzt: string; db?: string }) => {
      await withRoyalty(opts, async (repo) => {
        await repo.catalog.declareRevenue(
          opts.licensee,
          parsePeriodArg(opts.period),
          parseKzt(opts.kzt, 'revenue'),
        );
        process.stdout.write(
          `revenue of ${opts.licensee} for ${opts.period}: ${formatKzt(parseKzt(opts.kzt))}\n`,
        );
      });
    });
}

async function writeJson(file: string, value: unknown): Promise<void> {
  const out = output(file);
  await out.write(`${JSON.stringify(value, null, 2)}\n`);
  await out.close();
}
