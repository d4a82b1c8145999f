import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CatalogRepository, iswcCheckDigit, parseCwr, withIpiCheckDigits } from '../src/catalog/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';

/** Builds fixed-width CWR records: fields placed at their 0-based positions (CWR 2.1 layout). */
function record(
  type: string,
  tx: number,
  seq: number,
  fields: Array<[start: number, width: number, value: string | number]>,
  length = 180,
): string {
  const chars = Array.from({ length }, () => ' ');
  const put = (start: number, width: number, value: string) => {
    const v = value.slice(0, width).padEnd(width);
    for (let i = 0; i < width; i++) chars[start + i] = v[i];
  };
  put(0, 3, type);
  put(3, 8, String(tx).padStart(8, '0'));
  put(11, 8, String(seq).padStart(8, '0'));
  for (const [start, width, value] of fields) {
    put(start, width, typeof value === 'number' ? String(value).padStart(width, '0') : value);
  }
  return chars.join('').trimEnd();
}

const ipi = (n: number) => withIpiCheckDigits(String(n).padStart(9, '0'));
const iswc = (nine: string) => `T${nine}${iswcCheckDigit(nine)}`;

function hdr(version: '2.1' | '2.2'): string {
  const chars = Array.from({ length: version === '2.2' ? 167 : 101 }, () => ' ');
  const put = (start: number, value: string) => value.split('').forEach((c, i) => (chars[start + i] = c));
  put(0, 'HDR');
  put(3, 'PB');
  put(5, '000000199');
  put(14, 'DALA MUSIC PUBLISHING');
  put(59, '01.10');
  put(64, '20261101');
  put(72, '120000');
  put(78, '20261101');
  if (version === '2.2') put(101, '2.2');
  return chars.join('').trimEnd();
}

const nwr = (
  type: 'NWR' | 'REV',
  tx: number,
  title: string,
  workNo: string,
  isw: string,
  duration = '000330',
) =>
  record(type, tx, 0, [
    [19, 60, title],
    [79, 2, 'KK'],
    [81, 14, workNo],
    [95, 11, isw],
    [126, 3, 'POP'],
    [129, 6, duration],
    [135, 1, 'Y'],
    [142, 3, 'ORI'],
  ]);
const spu = (
  tx: number,
  seq: number,
  ipNo: string,
  name: string,
  ipiNo: string,
  prBp: number,
  pubType = 'E',
) =>
  record('SPU', tx, seq, [
    [19, 2, '01'],
    [21, 9, ipNo],
    [30, 45, name],
    [76, 2, pubType],
    [87, 11, ipiNo],
    [112, 3, '071'],
    [115, 5, prBp],
  ]);
const swr = (
  tx: number,
  seq: number,
  ipNo: string,
  last: string,
  first: string,
  role: string,
  ipiNo: string,
  prBp: number,
) =>
  record('SWR', tx, seq, [
    [19, 9, ipNo],
    [28, 45, last],
    [73, 30, first],
    [104, 2, role],
    [115, 11, ipiNo],
    [126, 3, '071'],
    [129, 5, prBp],
  ]);
const pwr = (tx: number, seq: number, pubIp: string, pubName: string, writerIp: string) =>
  record('PWR', tx, seq, [
    [19, 9, pubIp],
    [28, 45, pubName],
    [101, 9, writerIp],
  ]);
const alt = (tx: number, seq: number, title: string, lang: string) =>
  record('ALT', tx, seq, [
    [19, 60, title],
    [79, 2, 'OL'],
    [81, 2, lang],
  ]);
const per = (tx: number, seq: number, last: string, first: string) =>
  record('PER', tx, seq, [
    [19, 45, last],
    [64, 30, first],
  ]);
const rec = (tx: number, seq: number, isrc: string, dur = '000329') =>
  record(
    'REC',
    tx,
    seq,
    [
      [19, 8, '20260301'],
      [87, 6, dur],
      [98, 60, 'DALA ALBUM'],
      [249, 12, isrc],
    ],
    270,
  );

function cwrFile(version: '2.1' | '2.2', transactions: string[][], groupType = 'NWR'): string {
  const body = transactions.flat();
  return [
    hdr(version),
    `GRH${groupType}00001${version === '2.2' ? '02.20' : '02.10'}0000000000`,
    ...body,
    `GRT00001${String(transactions.length).padStart(8, '0')}${String(body.length + 2).padStart(8, '0')}`,
    `TRL00001${String(transactions.length).padStart(8, '0')}${String(body.length + 4).padStart(8, '0')}`,
  ].join('\r\n');
}

const W1 = iswc('100200300');
const W2 = iswc('100200301');
const W3 = iswc('100200302');

const good = [
  nwr('NWR', 0, 'KOKTEM', 'DM0001', W1),
  spu(0, 1, 'P1', 'DALA MUSIC PUBLISHING', ipi(199), 5000),
  swr(0, 2, 'A1', 'NURLANOVNA', 'AIGERIM', 'C', ipi(301), 2500),
  pwr(0, 3, 'P1', 'DALA MUSIC PUBLISHING', 'A1'),
  swr(0, 4, 'A2', 'KAIRATOVNA', 'SAULE', 'A', ipi(302), 2500),
  pwr(0, 5, 'P1', 'DALA MUSIC PUBLISHING', 'A2'),
  alt(0, 6, 'Көктем', 'KK'),
  alt(0, 7, 'Весна', 'RU'),
  per(0, 8, 'MUKASAN', 'DOS'),
  rec(0, 9, 'KZA1B2600011'),
];
const withBadRecord = [
  nwr('NWR', 1, 'DALA', 'DM0002', W2),
  swr(1, 1, 'A3', 'SERIKULY', 'DAULET', 'CA', '00000000198', 10000), // IPI check digits wrong
  spu(1, 2, 'P1', 'DALA MUSIC PUBLISHING', ipi(199), 0),
];
const overAllocated = [
  nwr('NWR', 2, 'TAU', 'DM0003', W3),
  swr(2, 1, 'A1', 'NURLANOVNA', 'AIGERIM', 'CA', ipi(301), 7000),
  spu(2, 2, 'P1', 'DALA MUSIC PUBLISHING', ipi(199), 5000),
];
const badHeader = [
  nwr('NWR', 3, 'BAD ISWC', 'DM0004', 'T1002003039'),
  swr(3, 1, 'A1', 'NURLANOVNA', 'AIGERIM', 'C', ipi(301), 10000),
];

describe('CWR reader (pure)', () => {
  it('reads NWR with SPU, SWR, PWR, ALT, PER, REC and acknowledges every record', () => {
    const f = parseCwr(cwrFile('2.1', [good, withBadRecord, overAllocated, badHeader]));
    expect(f.version).toBe('2.1');
    expect(f.senderName).toBe('DALA MUSIC PUBLISHING');
    const [t0, t1, t2, t3] = f.registrations;
    expect(t0).toMatchObject({
      title: 'KOKTEM',
      iswc: W1,
      submitterWorkId: 'DM0001',
      durationSec: 210,
      status: 'AS',
    });
    expect(t0.writers.map((w) => [w.lastName, w.roles, w.prShareBp, w.publisherIpNumbers])).toEqual([
      ['NURLANOVNA', ['composer'], 2500, ['P1']],
      ['KAIRATOVNA', ['lyricist'], 2500, ['P1']],
    ]);
    expect(t0.publishers[0]).toMatchObject({
      name: 'DALA MUSIC PUBLISHING',
      prShareBp: 5000,
      owns: true,
      ipiNameNumber: ipi(199),
    });
    expect(t0.altTitles).toEqual([
      { title: 'Көктем', type: 'OL', language: 'KK' },
      { title: 'Весна', type: 'OL', language: 'RU' },
    ]);
    expect(t0.recordings[0]).toMatchObject({ isrc: 'KZA1B2600011', durationSec: 209 });
    expect(t1.status).toBe('RA');
    expect(t1.statusMessage).toMatch(/check digits are 98, expected 99/);
    expect(t2.status).toBe('CO');
    expect(t2.statusMessage).toMatch(/sum to 120.00 %/);
    expect(t3.status).toBe('TR');
    expect(t3.statusMessage).toMatch(/ISWC "T1002003039" is not valid: check digit/);
    const acks = f.records;
    expect(acks.find((a) => a.recordType === 'SWR' && a.transactionSeq === 1)).toMatchObject({
      status: 'rejected',
    });
    expect(acks.filter((a) => a.transactionSeq === 3).map((a) => a.status)).toEqual(['rejected', 'rejected']);
    expect(acks.filter((a) => a.status === 'accepted').length).toBeGreaterThan(12);
  });

  it('names structural problems: no header, a record outside its group, a truncated file', () => {
    expect(() => parseCwr('GRHNWR0000102.10\r\n')).toThrow(/expected an HDR record first/);
    const orphan = parseCwr([hdr('2.1'), swr(0, 1, 'A1', 'X', 'Y', 'C', ipi(301), 100)].join('\n'));
    expect(orphan.records[1]).toMatchObject({
      status: 'rejected',
      message: 'record outside a GRH/GRT group',
    });
    expect(orphan.records[orphan.records.length - 1].message).toMatch(/no TRL trailer/);
    const v22 = parseCwr(cwrFile('2.2', [good]));
    expect(v22.version).toBe('2.2');
    expect(() => parseCwr(`${hdr('2.1').padEnd(101)}3.0`)).toThrow(/version 3.0 is not supported/);
  });
});

describe('CWR import into the catalogue (real SQLite file)', () => {
  let dir: string;
  let store: Store;
  let repo: CatalogRepository;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tyndau-cwr-'));
    store = openStore({ url: `sqlite:${join(dir, 'cwr.db')}` });
    await migrateToLatest(store);
    repo = new CatalogRepository(store.db, () => 1_790_000_000_000);
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers works, holders, shares and recordings and reports per transaction', async () => {
    const rep = await repo.importCwr(cwrFile('2.1', [good, withBadRecord, overAllocated, badHeader]));
    expect(rep.transactions.map((t) => [t.transactionSeq, t.status])).toEqual([
      [0, 'AS'],
      [1, 'RA'],
      [2, 'CO'],
      [3, 'TR'],
    ]);
    const work = await repo.getWork(rep.transactions[0].workId!);
    expect(work).toMatchObject({
      iswc: W1,
      title: 'KOKTEM',
      titleKk: 'Көктем',
      titleRu: 'Весна',
      titleLat: 'KOKTEM',
    });
    const shares = await repo.sharesOf('work', work!.id);
    expect(shares.map((s) => [s.holderId, s.shareBp]).sort()).toEqual([
      [`IPI-${ipi(199)}`, 5000],
      [`IPI-${ipi(301)}`, 2500],
      [`IPI-${ipi(302)}`, 2500],
    ]);
    // a composer in one registration and composer/author (CA) in another: both roles
    expect((await repo.getHolder(`IPI-${ipi(301)}`))?.roles).toEqual(['composer', 'lyricist']);
    const recording = await repo.getRecording('KZA1B2600011');
    expect(recording).toMatchObject({
      isrc: 'KZA1B2600011',
      durationMs: 209_000,
      works: [{ workId: work!.id, portionBp: 10000 }],
    });
    expect(recording!.performerIds).toHaveLength(1);
    // the conflict is registered and reported, not dropped
    const conflicts = await repo.conflicts();
    expect(conflicts.map((c) => [c.subjectId, c.totalBp])).toEqual([[rep.transactions[2].workId, 12000]]);
    // the work with the rejected writer record is registered without that writer
    const w2 = await repo.sharesOf('work', rep.transactions[1].workId!);
    expect(w2.map((s) => s.holderId)).toEqual([]);
  });

  it('a second NWR of a known work is a duplicate; a REV replaces its shares as new versions', async () => {
    const dup = await repo.importCwr(cwrFile('2.1', [good]));
    expect(dup.transactions[0]).toMatchObject({ status: 'DU' });
    const revised = [
      nwr('REV', 0, 'KOKTEM', 'DM0001', W1),
      spu(0, 1, 'P1', 'DALA MUSIC PUBLISHING', ipi(199), 4000),
      swr(0, 2, 'A1', 'NURLANOVNA', 'AIGERIM', 'CA', ipi(301), 6000),
    ];
    const rev = await repo.importCwr(cwrFile('2.1', [revised], 'REV'));
    expect(rev.transactions[0]).toMatchObject({ status: 'AS', type: 'REV' });
    const workId = rev.transactions[0].workId!;
    const active = await repo.sharesOf('work', workId);
    expect(active.map((s) => [s.holderId, s.shareBp, s.version]).sort()).toEqual([
      [`IPI-${ipi(199)}`, 4000, 2],
      [`IPI-${ipi(301)}`, 6000, 2],
    ]);
    const history = await repo.sharesOf('work', workId, true);
    expect(history.filter((s) => s.retiredAtMs !== null)).toHaveLength(3); // the lyricist's share ended too
    const unknown = await repo.importCwr(
      cwrFile('2.1', [[nwr('REV', 0, 'NEVER SEEN', 'DM9999', '')]], 'REV'),
    );
    expect(unknown.transactions[0]).toMatchObject({
      status: 'TR',
      message: expect.stringMatching(/REV of a work that is not registered/),
    });
  });
});
