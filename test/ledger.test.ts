import Database from 'better-sqlite3';
import fc from 'fast-check';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLocal } from '../src/catalog/index.js';
import {
  DEMO,
  RoyaltyRepository,
  entryHash,
  seedDemoCatalogue,
  tupleJson,
  type LineTuple,
  verifyLedger,
  type AccrualLine,
  type LedgerEntry,
  type VerifyResult,
} from '../src/royalty/index.js';
import { migrateToLatest, openStore } from '../src/store/index.js';

const at = (day: number, hh: number, mm: number) =>
  fromLocal('Asia/Almaty', 2026, 11, day, (hh * 60 + mm) * 60_000);
const ASOF = fromLocal('Asia/Almaty', 2026, 12, 5);

let dir: string;
let base: string;
let entries: LedgerEntry[];
let lines: AccrualLine[];

/** A real ledger: the demo catalogue, a month of airings, a correction and a dispute. */
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tyndau-ledger-'));
  base = join(dir, 'base.db');
  const store = openStore({ url: `sqlite:${base}` });
  await migrateToLatest(store);
  const now = () => fromLocal('Asia/Almaty', 2026, 10, 1);
  await seedDemoCatalogue(store, { recordings: ['r1', 'r2'], now });
  const dets = Array.from({ length: 24 }, (_, i) => ({
    id: `d${String(i).padStart(2, '0')}`,
    channel_id: i % 3 === 0 ? 'demo-tv' : 'demo-radio',
    recording_id: i % 5 === 0 ? 'r-unknown' : i % 2 ? 'r1' : 'r2',
    start_ms: at(1 + i, 6 + (i % 12), 30),
    end_ms: at(1 + i, 6 + (i % 12), 30) + (30 + i * 7) * 1000,
    ref_start_sec: 0,
    ref_end_sec: 30,
    speed: 1,
    confidence: 0.99,
    status: 'confirmed',
    use_type: 'featured',
    evidence_path: null,
    evidence_start_ms: null,
    created_at_ms: at(1 + i, 23, 0),
  }));
  await store.db.insertInto('detections').values(dets).execute();
  const repo = new RoyaltyRepository(store, now);
  await repo.accrue('2026-11', { asOfMs: ASOF });
  await store.db.updateTable('detections').set({ status: 'rejected' }).where('id', '=', 'd07').execute();
  await repo.accrue('2026-11', { asOfMs: ASOF + 1000 });
  await repo.disputeUsage(DEMO.broadcaster, '2026-11', 'd08', 'not our playlist', ASOF + 2000);
  const v = await repo.verify();
  expect(v.ok).toBe(true);
  entries = await repo.entries(1, 100_000);
  lines = (await store.db.selectFrom('accrual_lines').selectAll().orderBy('seq').execute()).map((r) => ({
    seq: Number(r.seq),
    entrySeq: Number(r.entry_seq),
    kind: r.reverses_seq === null ? ('accrual' as const) : ('reversal' as const),
    reversesSeq: r.reverses_seq === null ? null : Number(r.reverses_seq),
    detectionId: r.detection_id,
    rightType: r.right_type as AccrualLine['rightType'],
    holderId: r.holder_id,
    reserveReason: r.reserve_reason as AccrualLine['reserveReason'],
    shareId: r.share_id,
    subjectId: r.subject_id,
    airtimeMs: Number(r.airtime_ms),
    weightedUs: Number(r.weighted_us),
    grossTiyn: Number(r.gross_tiyn),
    deductionTiyn: Number(r.deduction_tiyn),
    netTiyn: Number(r.net_tiyn),
    tariffVersionId: '',
  }));
  await store.close(); // checkpoints the WAL into the file
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Copies the ledger, tampers with the copy through a separate SQLite connection, then verifies it. */
async function tamper(sql: (db: Database.Database) => void, expectHeadHash?: string): Promise<VerifyResult> {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.db`);
  copyFileSync(base, file);
  const raw = new Database(file);
  sql(raw);
  raw.close();
  const store = openStore({ url: `sqlite:${file}` });
  try {
    return await new RoyaltyRepository(store).verify(expectHeadHash);
  } finally {
    await store.close();
  }
}

const entryWithLines = () => entries.find((e) => e.kind === 'accrual' && e.linesCount >= 3 && e.seq > 3)!;
const midEntry = () => entries[Math.floor(entries.length / 2)];

describe('ledger verify catches tampering with the real SQLite file', () => {
  it('the untouched copy verifies, with entries of every kind', async () => {
    const v = await tamper(() => {});
    expect(v).toMatchObject({ ok: true, entries: entries.length, lines: lines.length });
    expect(new Set(entries.map((e) => e.kind))).toEqual(
      new Set(['tariff_version', 'accrual', 'accrual_run', 'usage_disputed']),
    );
    expect(lines.some((l) => l.kind === 'reversal')).toBe(true);
  });

  it('a changed amount', async () => {
    const e = entryWithLines();
    const v = await tamper((db) =>
      db
        .prepare('update accrual_lines set gross_tiyn = gross_tiyn + 1 where seq = ?')
        .run(e.firstLineSeq! + 1),
    );
    expect(v.problem).toMatchObject({ kind: 'changed', entrySeq: e.seq, lineSeq: e.firstLineSeq });
    expect(v.problem!.message).toMatch(/lines of entry \d+ .* were changed or reordered/);
  });

  it('a line moved to another holder', async () => {
    const l = lines.find((x) => x.holderId === 'rh-composer-1')!;
    const v = await tamper((db) =>
      db.prepare("update accrual_lines set holder_id = 'rh-composer-2' where seq = ?").run(l.seq),
    );
    expect(v.problem).toMatchObject({ kind: 'changed', entrySeq: l.entrySeq });
  });

  it('a changed entry', async () => {
    const e = midEntry();
    const v = await tamper((db) =>
      db
        .prepare('update ledger_entries set created_at_ms = created_at_ms - 86400000 where seq = ?')
        .run(e.seq),
    );
    expect(v.problem).toMatchObject({ kind: 'changed', entrySeq: e.seq });
    expect(v.problem!.message).toMatch(/content no longer matches its hash/);
  });

  it('a removed line', async () => {
    const e = entryWithLines();
    const v = await tamper((db) =>
      db.prepare('delete from accrual_lines where seq = ?').run(e.firstLineSeq! + 2),
    );
    expect(v.problem).toMatchObject({ kind: 'removed', entrySeq: e.seq, lineSeq: e.firstLineSeq! + 2 });
  });

  it('a removed entry', async () => {
    const e = midEntry();
    const v = await tamper((db) => {
      db.prepare('delete from accrual_lines where entry_seq = ?').run(e.seq);
      db.prepare('delete from ledger_entries where seq = ?').run(e.seq);
    });
    expect(v.problem).toMatchObject({ kind: 'removed', entrySeq: e.seq });
  });

  it('two entries swapped', async () => {
    const e = midEntry();
    const v = await tamper((db) => {
      db.prepare('update ledger_entries set seq = -1 where seq = ?').run(e.seq);
      db.prepare('update ledger_entries set seq = ? where seq = ?').run(e.seq, e.seq + 1);
      db.prepare('update ledger_entries set seq = ? where seq = -1').run(e.seq + 1);
    });
    expect(v.problem).toMatchObject({ kind: 'reordered', entrySeq: e.seq });
  });

  it('two lines swapped inside an entry', async () => {
    const e = entryWithLines();
    const a = e.firstLineSeq!;
    const v = await tamper((db) => {
      db.prepare('update accrual_lines set seq = -1 where seq = ?').run(a);
      db.prepare('update accrual_lines set seq = ? where seq = ?').run(a, a + 1);
      db.prepare('update accrual_lines set seq = ? where seq = -1').run(a + 1);
    });
    expect(v.ok).toBe(false);
    expect(v.problem!.entrySeq).toBe(e.seq);
  });

  it('an inserted line', async () => {
    const last = lines[lines.length - 1];
    const v = await tamper((db) =>
      db
        .prepare(
          "insert into accrual_lines values (?, ?, null, 'd01', 'performing', 'rh-composer-1', null, null, null, 1000, 0, 99999, 0, 99999)",
        )
        .run(last.seq + 1, last.entrySeq),
    );
    expect(v.problem).toMatchObject({ kind: 'inserted', lineSeq: last.seq + 1 });
  });

  it('entries cut from the end (the head remembers)', async () => {
    const last = entries[entries.length - 1];
    const v = await tamper((db) => db.prepare('delete from ledger_entries where seq = ?').run(last.seq));
    expect(v.problem).toMatchObject({ kind: 'removed', entrySeq: last.seq });
  });

  it('an entry rewritten with a recomputed hash breaks the link to the next one', async () => {
    const e = entries.find((x) => x.kind === 'accrual_run')!;
    const forged = {
      ...e,
      payloadJson: e.payloadJson.replace(/"dueTiyn":(\d+)/, (_m, n) => `"dueTiyn":${Number(n) + 100}`),
    };
    const { hash: _old, ...content } = forged;
    const newHash = entryHash(content);
    const v = await tamper((db) =>
      db
        .prepare('update ledger_entries set payload_json = ?, hash = ? where seq = ?')
        .run(forged.payloadJson, newHash, e.seq),
    );
    expect(v.problem).toMatchObject({ kind: 'changed', entrySeq: e.seq + 1 });
    expect(v.problem!.message).toMatch(new RegExp(`does not follow entry ${e.seq}`));
  });

  it('a rewritten tail (hash and head recomputed) is caught by the head hash kept elsewhere', async () => {
    const last = entries[entries.length - 1];
    const forged = { ...last, payloadJson: last.payloadJson.replace('not our playlist', 'withdrawn') };
    const { hash: _old, ...content } = forged;
    const newHash = entryHash(content);
    const rewrite = (db: Database.Database) => {
      db.prepare('update ledger_entries set payload_json = ?, hash = ? where seq = ?').run(
        forged.payloadJson,
        newHash,
        last.seq,
      );
      db.prepare('update ledger_head set hash = ?').run(newHash);
    };
    expect((await tamper(rewrite)).ok).toBe(true); // undetectable from inside the database alone
    const v = await tamper(rewrite, last.hash);
    expect(v.problem).toMatchObject({ kind: 'changed', entrySeq: last.seq });
  });
});

// ---- property: any single change, removal or swap is caught -----------------------------------------

async function* iter<T>(xs: readonly T[]): AsyncIterable<T> {
  for (const x of xs) yield x;
}

const LINE_FIELDS = [
  'reversesSeq',
  'detectionId',
  'rightType',
  'holderId',
  'reserveReason',
  'shareId',
  'subjectId',
  'airtimeMs',
  'weightedUs',
  'grossTiyn',
  'deductionTiyn',
  'netTiyn',
  'entrySeq',
] as const;
const ENTRY_FIELDS = [
  'kind',
  'period',
  'licenceId',
  'channelId',
  'day',
  'revision',
  'firstLineSeq',
  'linesCount',
  'linesDigest',
  'payloadJson',
  'createdAtMs',
  'prevHash',
] as const;

function mutate(value: unknown, salt: number): unknown {
  if (typeof value === 'number') return value + 1 + (salt % 7);
  if (typeof value === 'string') return `${value}${String.fromCharCode(97 + (salt % 26))}`;
  return salt % 2 ? 'x' : 1;
}

describe('canonical line form', () => {
  it('property: tupleJson writes exactly what JSON.stringify writes', () => {
    const str = fc.option(
      fc.string({
        unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
        maxLength: 12,
      }),
      { nil: null },
    );
    const int = fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 });
    fc.assert(
      fc.property(
        fc.tuple(
          int,
          int,
          fc.option(int, { nil: null }),
          str,
          fc.string(),
          str,
          str,
          str,
          str,
          int,
          int,
          int,
          int,
          int,
        ),
        (t) => {
          const tuple = [...t] as unknown as LineTuple;
          expect(tupleJson(tuple)).toBe(JSON.stringify(tuple));
        },
      ),
      { numRuns: 1000 },
    );
    expect(
      tupleJson([1, 2, null, 'a"b\\c\u0001\ud800', 'performing', null, null, null, null, -0, 0, 5, 0, 5]),
    ).toBe(
      JSON.stringify([
        1,
        2,
        null,
        'a"b\\c\u0001\ud800',
        'performing',
        null,
        null,
        null,
        null,
        -0,
        0,
        5,
        0,
        5,
      ]),
    );
  });
});

describe('property: verification catches any tampering', () => {
  it('changed line fields, changed entry fields, removed or swapped lines and entries', async () => {
    const head = {
      seq: entries[entries.length - 1].seq,
      hash: entries[entries.length - 1].hash,
      lineSeq: lines[lines.length - 1].seq,
    };
    expect((await verifyLedger(iter(entries), iter(lines), head)).ok).toBe(true);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.record({
            op: fc.constant('line' as const),
            i: fc.nat(),
            f: fc.constantFrom(...LINE_FIELDS),
            salt: fc.nat(),
          }),
          fc.record({
            op: fc.constant('entry' as const),
            i: fc.nat(),
            f: fc.constantFrom(...ENTRY_FIELDS),
            salt: fc.nat(),
          }),
          fc.record({
            op: fc.constantFrom(
              'dropLine' as const,
              'dropEntry' as const,
              'swapLines' as const,
              'swapEntries' as const,
            ),
            i: fc.nat(),
            f: fc.constant('x'),
            salt: fc.nat(),
          }),
        ),
        async ({ op, i, f, salt }) => {
          const es = entries.map((e) => ({ ...e }));
          const ls = lines.map((l) => ({ ...l }));
          if (op === 'line') {
            const l = ls[i % ls.length] as unknown as Record<string, unknown>;
            l[f] = mutate(l[f], salt);
          } else if (op === 'entry') {
            const e = es[i % es.length] as unknown as Record<string, unknown>;
            e[f] = mutate(e[f], salt);
          } else if (op === 'dropLine') ls.splice(i % ls.length, 1);
          else if (op === 'dropEntry') es.splice(i % es.length, 1);
          else if (op === 'swapLines') {
            const k = i % (ls.length - 1);
            [ls[k], ls[k + 1]] = [
              { ...ls[k + 1], seq: ls[k].seq },
              { ...ls[k], seq: ls[k + 1].seq },
            ];
            fc.pre(JSON.stringify({ ...ls[k], seq: 0 }) !== JSON.stringify({ ...ls[k + 1], seq: 0 }));
          } else {
            const k = i % (es.length - 1);
            [es[k], es[k + 1]] = [
              { ...es[k + 1], seq: es[k].seq },
              { ...es[k], seq: es[k + 1].seq },
            ];
          }
          const v = await verifyLedger(iter(es), iter(ls), head);
          expect(v.ok).toBe(false);
        },
      ),
      { numRuns: 400 },
    );
  });
});
