import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLocal, parseDateMs } from '../src/catalog/index.js';
import {
  DEMO,
  RoyaltyRepository,
  explainLine,
  seedDemoCatalogue,
  statementCsv,
  type AccrueResult,
  type UsageRow,
} from '../src/royalty/index.js';
import { openAccrualStore } from '../src/royalty/open.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';

const DAY = 86_400_000;
const at = (day: number, hh: number, mm: number, ss = 0) =>
  fromLocal('Asia/Almaty', 2026, 11, day, ((hh * 60 + mm) * 60 + ss) * 1000);
const ASOF = fromLocal('Asia/Almaty', 2026, 12, 5, 12 * 3_600_000);

interface Det {
  id: string;
  channel: string;
  rec: string;
  start: number;
  sec: number;
  status?: string;
  useType?: string | null;
  createdAt?: number;
}

async function insertDetections(store: Store, dets: Det[]): Promise<void> {
  await store.db
    .insertInto('detections')
    .values(
      dets.map((d) => ({
        id: d.id,
        channel_id: d.channel,
        recording_id: d.rec,
        start_ms: d.start,
        end_ms: d.start + d.sec * 1000,
        ref_start_sec: 0,
        ref_end_sec: d.sec,
        speed: 1,
        confidence: 0.97,
        status: d.status ?? 'confirmed',
        use_type: d.useType === undefined ? 'featured' : d.useType,
        evidence_path: `evidence/${d.id}.mp3`,
        evidence_start_ms: d.start - 5000,
        created_at_ms: d.createdAt ?? d.start + 60_000,
      })),
    )
    .execute();
}

/** Seeds the demo catalogue plus one recording whose work lacks its lyricist share. */
async function seedScenario(store: Store): Promise<RoyaltyRepository> {
  const now = () => fromLocal('Asia/Almaty', 2026, 10, 20);
  await seedDemoCatalogue(store, {
    recordings: ['rec-1', 'rec-2', 'rec-3'],
    revenue: [{ period: '2026-11', revenueTiyn: 2_000_000_000 }],
    now,
  });
  const repo = new RoyaltyRepository(store, now);
  const cat = repo.catalog;
  await cat.upsertWork({
    id: 'w-x',
    iswc: null,
    title: 'Half registered',
    titleKk: null,
    titleRu: null,
    titleLat: null,
    creators: [],
  });
  await cat.upsertRecording({
    id: 'rec-x',
    isrc: 'KZ-D01-26-00099',
    title: 'Half registered',
    durationMs: 200_000,
    performerIds: [],
    producerId: null,
    works: [{ workId: 'w-x', portionBp: 10000 }],
    fingerprintRef: 'rec-x',
  });
  await cat.addShare({
    subjectKind: 'work',
    subjectId: 'w-x',
    rightType: 'performing',
    holderId: 'rh-composer-1',
    shareBp: 5000,
    validFromMs: parseDateMs('2020-01-01'),
    validToMs: null,
  });
  await insertDetections(store, [
    { id: 'det-01', channel: 'demo-radio', rec: 'rec-1', start: at(2, 8, 0), sec: 180 },
    { id: 'det-02', channel: 'demo-radio', rec: 'rec-2', start: at(2, 9, 58), sec: 240 },
    {
      id: 'det-03',
      channel: 'demo-radio',
      rec: 'rec-x',
      start: at(2, 18, 30),
      sec: 200,
      useType: 'background',
    },
    { id: 'det-04', channel: 'demo-tv', rec: 'rec-3', start: at(3, 21, 0), sec: 95, useType: 'under_speech' },
    { id: 'det-05', channel: 'demo-tv', rec: 'rec-1', start: at(15, 7, 30), sec: 3 },
    { id: 'det-06', channel: 'demo-radio', rec: 'rec-unknown', start: at(20, 12, 0), sec: 150 },
    {
      id: 'det-07',
      channel: 'demo-radio',
      rec: 'rec-2',
      start: at(21, 23, 59, 40),
      sec: 60,
      status: 'pending',
      createdAt: at(22, 0, 5),
    },
    {
      id: 'det-08',
      channel: 'demo-radio',
      rec: 'rec-3',
      start: at(30, 23, 0),
      sec: 120,
      status: 'pending',
      createdAt: ASOF - DAY,
    },
    { id: 'det-09', channel: 'demo-radio', rec: 'rec-3', start: at(10, 10, 0), sec: 120, status: 'rejected' },
    { id: 'det-10', channel: 'demo-tv', rec: 'rec-2', start: at(11, 10, 0), sec: 200, status: 'reassigned' },
  ]);
  return repo;
}

async function sumsByLicence(store: Store, period: string): Promise<Record<string, number>> {
  const rows = await store.db
    .selectFrom('accrual_lines as l')
    .innerJoin('ledger_entries as e', 'e.seq', 'l.entry_seq')
    .select((eb) => ['e.licence_id', eb.fn.sum<number | string>('l.gross_tiyn').as('s')])
    .where('e.period', '=', period)
    .groupBy('e.licence_id')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.licence_id!, Number(r.s)]));
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

function dues(r: AccrueResult): Record<string, number> {
  return Object.fromEntries(r.licences.map((l) => [l.licenceId, l.dueTiyn]));
}

describe('accrual on a real SQLite file', () => {
  let dir: string;
  let store: Store;
  let repo: RoyaltyRepository;
  let first: AccrueResult;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tyndau-royalty-'));
    // with the better-sqlite3 handle: prepared statements reused (the PostgreSQL test compares the plain path)
    store = openAccrualStore(`sqlite:${join(dir, 'tyndau.db')}`);
    await migrateToLatest(store);
    repo = await seedScenario(store);
    first = await repo.accrue('2026-11', { asOfMs: ASOF });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('accrues eligible airings only, and every licence reconciles to the tiyn', async () => {
    const authors = first.licences.find((l) => l.licenceId === 'lic-demo-authors')!;
    const related = first.licences.find((l) => l.licenceId === 'lic-demo-related')!;
    // det-07 pending but past the 7-day review window; det-08 pending and fresh; det-09 rejected
    expect(authors.airings).toBe(8);
    expect(related.revenueTiyn).toBe(2_000_000_000);
    expect(related.dueTiyn).toBe(20_000_000); // 1 % of 20 000 000 KZT
    expect(await sumsByLicence(store, '2026-11')).toEqual(dues(first));
    expect(authors.reserveByReason).toMatchObject({
      unknown_recording: expect.any(Number),
      unregistered_share: expect.any(Number),
    });
    expect(authors.distributedTiyn + authors.reserveTiyn).toBe(authors.dueTiyn);
    const detIds = await store.db.selectFrom('accrual_lines').select('detection_id').distinct().execute();
    expect(detIds.map((d) => d.detection_id).sort()).toEqual([
      'det-01',
      'det-02',
      'det-03',
      'det-04',
      'det-05',
      'det-06',
      'det-07',
      'det-10',
    ]);
    expect((await repo.verify()).ok).toBe(true);
  });

  it('a re-run of unchanged data appends nothing', async () => {
    const head = await repo.head();
    const again = await repo.accrue('2026-11', { asOfMs: ASOF + 1000 });
    expect(again.changed).toBe(false);
    expect(again.revision).toBeNull();
    expect(await repo.head()).toEqual(head);
  });

  it('explains a line in plain words: detection, channel, evidence, rule version, share, licence', async () => {
    const line = await store.db
      .selectFrom('accrual_lines')
      .select('seq')
      .where('detection_id', '=', 'det-02')
      .where('holder_id', '=', 'rh-lyricist-1')
      .executeTakeFirstOrThrow();
    const text = explainLine(await repo.traceLine(Number(line.seq)));
    expect(text).toContain(
      'detection det-02 on channel "Demo Radio FM" (demo-radio) from 2026-11-02 09:58:00 to 2026-11-02 10:02:00',
    );
    expect(text).toContain('Evidence: air-check clip evidence/det-02.mp3');
    expect(text).toContain('tar-authors-broadcast@v1');
    // 120 s before 10:00 at 1.5 and 120 s after at 1: 300 weighted seconds
    expect(text).toMatch(
      /120\.000 s from 09:58 at daypart coefficient 1\.5 \+ 120\.000 s from 10:00 at daypart coefficient 1/,
    );
    expect(text).toContain('= 300 weighted seconds');
    expect(text).toMatch(/Share: Saule Kairatovna \(demo\) holds 50\.00 % of work "Demo song 2"/);
    expect(text).toContain('Licence lic-demo-authors');
    expect(text).toContain('is represented by');
    await expect(repo.traceLine(10_000_000)).rejects.toThrow(/no accrual line 10000000/);
  });

  it('statements per holder reconcile with the ledger', async () => {
    const st = await repo.holderStatement('rh-composer-1', '2026-11');
    const sum = await store.db
      .selectFrom('accrual_lines')
      .select((eb) => [eb.fn.sum<number>('gross_tiyn').as('g'), eb.fn.sum<number>('net_tiyn').as('n')])
      .where('holder_id', '=', 'rh-composer-1')
      .where('reserve_reason', 'is', null)
      .executeTakeFirstOrThrow();
    expect(st.totals.grossTiyn).toBe(Number(sum.g));
    expect(st.totals.netTiyn).toBe(Number(sum.n));
    expect(st.totals.grossTiyn).toBe(st.totals.netTiyn + st.totals.deductionTiyn);
    expect(st.lines.every((l) => l.rightType === 'performing')).toBe(true);
    const csv = statementCsv(st);
    expect(csv.split('\r\n')[0]).toMatch(/^line,kind,period,channel/);
    expect(csv).toContain('TOTAL,');
    expect(csv).toContain('KZ-D01-26-00099'); // rec-x: composer 1 has half of it
  });

  it('releases the reserve when the catalogue is fixed: reversal of the reserve, new holder lines', async () => {
    const authorsReserve = async () =>
      (await repo.reserve()).filter((r) => r.licenceId === 'lic-demo-authors');
    const before = await authorsReserve();
    expect(before.find((r) => r.reason === 'unregistered_share')?.grossTiyn).toBeGreaterThan(0);
    await repo.catalog.addShare({
      subjectKind: 'work',
      subjectId: 'w-x',
      rightType: 'performing',
      holderId: 'rh-lyricist-1',
      shareBp: 5000,
      validFromMs: parseDateMs('2020-01-01'),
      validToMs: null,
    });
    const fixed = await repo.accrue('2026-11', { asOfMs: ASOF + DAY });
    const authors = fixed.licences.find((l) => l.licenceId === 'lic-demo-authors')!;
    expect(authors.linesReversed).toBeGreaterThan(0);
    expect(authors.reserveByReason.unregistered_share).toBeUndefined();
    expect(fixed.licences.find((l) => l.licenceId === 'lic-demo-related')!.linesAdded).toBe(0); // untouched
    const after = await authorsReserve();
    expect(after.find((r) => r.reason === 'unregistered_share')).toBeUndefined();
    // rec-x has no related-rights shares at all: that reserve stays with the related-rights licence
    expect(
      (await repo.reserve()).find(
        (r) => r.licenceId === 'lic-demo-related' && r.reason === 'unregistered_share',
      ),
    ).toBeDefined();
    expect(await sumsByLicence(store, '2026-11')).toEqual(dues(fixed));
    const reversal = await store.db
      .selectFrom('accrual_lines')
      .selectAll()
      .where('reverses_seq', 'is not', null)
      .where('reserve_reason', '=', 'unregistered_share')
      .executeTakeFirstOrThrow();
    expect(Number(reversal.gross_tiyn)).toBeLessThan(0);
    expect((await repo.verify()).ok).toBe(true);
  });

  it('a rejected detection is reversed; the revenue pool is re-shared over the rest', async () => {
    await store.db.updateTable('detections').set({ status: 'rejected' }).where('id', '=', 'det-04').execute();
    const r = await repo.accrue('2026-11', { asOfMs: ASOF + 2 * DAY });
    const eff = await store.db
      .selectFrom('accrual_lines as l')
      .select((eb) => eb.fn.sum<number>('l.gross_tiyn').as('g'))
      .where('l.detection_id', '=', 'det-04')
      .executeTakeFirstOrThrow();
    expect(Number(eff.g)).toBe(0);
    const related = r.licences.find((l) => l.licenceId === 'lic-demo-related')!;
    expect(related.dueTiyn).toBe(20_000_000); // same pool
    expect(related.linesReversed).toBeGreaterThan(0);
    expect(await sumsByLicence(store, '2026-11')).toEqual(dues(r));
  });

  it('usage lines can be confirmed or disputed in the window; an accepted dispute corrects the accrual', async () => {
    const report = await repo.usageReport(DEMO.broadcaster, '2026-11');
    expect(report!.deadlineMs).toBe(ASOF + 14 * DAY);
    const rows: UsageRow[] = await collect(repo.usageRows(DEMO.broadcaster, '2026-11', ASOF + 3 * DAY));
    expect(rows.map((r) => r.detectionId)).not.toContain('det-04');
    const det01 = rows.find((r) => r.detectionId === 'det-01')!;
    expect(det01.amounts.map((a) => a.licenceId).sort()).toEqual(['lic-demo-authors', 'lic-demo-related']);
    expect(det01.status).toBe('open');
    const disputeId = await repo.disputeUsage(
      DEMO.broadcaster,
      '2026-11',
      'det-05',
      'jingle, not the song',
      ASOF + 3 * DAY,
    );
    await expect(
      repo.disputeUsage(DEMO.broadcaster, '2026-11', 'det-05', 'again', ASOF + 3 * DAY),
    ).rejects.toThrow(/already disputed/);
    await expect(repo.confirmUsage(DEMO.broadcaster, '2026-11', ['det-05'], ASOF + 3 * DAY)).rejects.toThrow(
      /under dispute/,
    );
    expect(await repo.confirmUsage(DEMO.broadcaster, '2026-11', 'all', ASOF + 3 * DAY)).toBe(rows.length - 1);
    const resolved = await repo.resolveDispute(disputeId, true, 'the clip confirms a jingle', ASOF + 4 * DAY);
    expect(resolved!.changed).toBe(true);
    const after: UsageRow[] = await collect(repo.usageRows(DEMO.broadcaster, '2026-11', ASOF + 4 * DAY));
    expect(after.find((r) => r.detectionId === 'det-05')).toBeUndefined();
    expect(after.find((r) => r.detectionId === 'det-01')!.status).toBe('confirmed');
    await expect(
      repo.disputeUsage(DEMO.broadcaster, '2026-11', 'det-01', 'late', ASOF + 20 * DAY),
    ).rejects.toThrow(/window to dispute usage of 2026-11 closed/);
    const late: UsageRow[] = await collect(repo.usageRows(DEMO.broadcaster, '2026-11', ASOF + 20 * DAY));
    expect(late.every((r) => r.status === 'confirmed')).toBe(true);
    expect(await sumsByLicence(store, '2026-11')).toEqual(dues(resolved!));
    const kinds = await store.db.selectFrom('ledger_entries').select('kind').distinct().execute();
    expect(kinds.map((k) => k.kind).sort()).toEqual([
      'accrual',
      'accrual_run',
      'dispute_resolved',
      'tariff_version',
      'usage_confirmed',
      'usage_disputed',
    ]);
    expect((await repo.verify()).ok).toBe(true);
  });

  it('CMO summary: collected = accrued + undistributed, deducted within the 20 % cap', async () => {
    const s = await repo.cmoSummary(DEMO.authorsCmo, '2026-11', ASOF + 5 * DAY);
    expect(s.collectedTiyn).toBe(s.accruedTiyn + s.undistributedTiyn);
    expect(s.netTiyn + s.deductedTiyn).toBe(s.accruedTiyn);
    expect(s.deductedTiyn * 100).toBeLessThanOrEqual(s.accruedTiyn * 15);
    expect(Object.values(s.undistributedByAge).reduce((a, b) => a + b, 0)).toBe(s.undistributedTiyn);
    expect(s.undistributedByReason).toEqual({ unknown_recording: s.undistributedTiyn });
  });

  it('tariff versions are never retroactive to accrued periods', async () => {
    await expect(
      repo.publishTariffVersion(DEMO.authorsTariff, parseDateMs('2026-11-01'), {
        basis: { kind: 'per_second', rateTiyn: '3' },
        rightTypeSplit: { performing: '100' },
      }),
    ).rejects.toThrow(/2026-11 is already accrued under tariff/);
    await expect(
      repo.publishTariffVersion(DEMO.authorsTariff, parseDateMs('2026-12-15'), {
        basis: { kind: 'per_second', rateTiyn: '3' },
        rightTypeSplit: { performing: '100' },
      }),
    ).rejects.toThrow(/first day of a month/);
    const v2 = await repo.publishTariffVersion(DEMO.authorsTariff, parseDateMs('2026-12-01'), {
      basis: { kind: 'per_second', rateTiyn: '3' },
      rightTypeSplit: { performing: '100' },
    });
    expect(v2.id).toBe(`${DEMO.authorsTariff}@v2`);
    // November keeps v1 (and at ASOF + 5 days nothing else changed: det-08 is still inside its review window)
    const again = await repo.accrue('2026-11', { asOfMs: ASOF + 5 * DAY });
    expect(again.changed).toBe(false);
    expect(again.licences.find((l) => l.licenceId === 'lic-demo-authors')!.tariffVersionId).toBe(
      `${DEMO.authorsTariff}@v1`,
    );
  });
});

// ---- PostgreSQL: the same store code, a fresh database per run ------------------------------------------

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

describe('accrual on PostgreSQL', () => {
  const dbName = `tyndau_royalty_${process.pid}_${Date.now()}`;
  let admin: pg.Client;
  let store: Store;
  beforeAll(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    store = openStore({ url: `postgres://postgres@127.0.0.1:5432/${dbName}` });
    await migrateToLatest(store);
  });
  afterAll(async () => {
    await store?.close();
    // pool.end() resolves before the sockets are gone: wait for them, then drop the database
    for (let i = 0; i < 50; i++) {
      const { rows } = await admin.query(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [dbName],
      );
      if (rows[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await admin.query(`drop database if exists ${dbName}`);
    await admin.end();
  });

  it('accrues, re-runs idempotently, corrects, verifies and reports', async () => {
    const repo = await seedScenario(store);
    const first = await repo.accrue('2026-11', { asOfMs: ASOF });
    expect(await sumsByLicence(store, '2026-11')).toEqual(dues(first));
    expect((await repo.accrue('2026-11', { asOfMs: ASOF })).changed).toBe(false);
    await store.db.updateTable('detections').set({ status: 'rejected' }).where('id', '=', 'det-01').execute();
    const second = await repo.accrue('2026-11', { asOfMs: ASOF + DAY });
    expect(second.changed).toBe(true);
    expect(await sumsByLicence(store, '2026-11')).toEqual(dues(second));
    const v = await repo.verify();
    expect(v).toMatchObject({ ok: true, problem: null });
    expect(v.lines).toBeGreaterThan(20);
    const st = await repo.holderStatement('rh-composer-1', '2026-11');
    expect(st.totals.grossTiyn).toBeGreaterThan(0);
    const s = await repo.cmoSummary(DEMO.relatedCmo, '2026-11', ASOF + DAY);
    expect(s.collectedTiyn).toBe(20_000_000);
    expect(s.collectedTiyn).toBe(s.accruedTiyn + s.undistributedTiyn);
    // the same data on SQLite gives the same lines, byte for byte
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-royalty-cmp-'));
    const lite = openStore({ url: `sqlite:${join(dir, 'cmp.db')}` });
    try {
      await migrateToLatest(lite);
      const repo2 = await seedScenario(lite);
      await repo2.accrue('2026-11', { asOfMs: ASOF });
      await lite.db
        .updateTable('detections')
        .set({ status: 'rejected' })
        .where('id', '=', 'det-01')
        .execute();
      await repo2.accrue('2026-11', { asOfMs: ASOF + DAY });
      const dump = async (s: Store) =>
        JSON.stringify(
          (await s.db.selectFrom('accrual_lines').selectAll().orderBy('seq').execute()).map((r) =>
            Object.values(r).map((v) => (v === null ? null : String(v))),
          ),
        );
      expect(await dump(lite)).toBe(await dump(store));
      expect((await repo2.head())!.hash).toBe((await repo.head())!.hash);
    } finally {
      await lite.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
