import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CatalogError,
  CatalogRepository,
  findMandateOverlap,
  findShareConflicts,
  fromLocal,
  iswcCheckDigit,
  localDate,
  parseBin,
  parseCatalogCsv,
  parseCsv,
  parseDateMs,
  parseIin,
  parseIpiNameNumber,
  parseIsrc,
  parseIswc,
  parsePercentBp,
  parsePeriod,
  toLocal,
  withIpiCheckDigits,
  withKzCheckDigit,
  zoneOffsetMs,
  type Share,
} from '../src/catalog/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';

describe('identifier validators', () => {
  it('accepts ISRC with or without hyphens and names what is wrong', () => {
    expect(parseIsrc('KZ-A1B-26-00042')).toBe('KZA1B2600042');
    expect(parseIsrc('kza1b2600042')).toBe('KZA1B2600042');
    expect(() => parseIsrc('KZ-A1B-26-0042')).toThrow(/expected 12 characters/);
    expect(() => parseIsrc('1Z-A1B-26-00042')).toThrow(/country code/);
    expect(() => parseIsrc('KZ-A_B-26-00042')).toThrow(/registrant/);
    expect(() => parseIsrc('KZ-A1B-2X-00042')).toThrow(/must be digits/);
  });

  it('checks the ISWC check digit (T-034.524.680-1 is the standard example)', () => {
    expect(iswcCheckDigit('034524680')).toBe(1);
    expect(parseIswc('T-034.524.680-1')).toBe('T0345246801');
    expect(parseIswc('T0345246801')).toBe('T0345246801');
    expect(() => parseIswc('T-034.524.680-2')).toThrow(/check digit is 2, expected 1/);
    expect(() => parseIswc('034524680')).toThrow(/expected T followed by 9 digits/);
  });

  it('checks IPI name number check digits (mod 101)', () => {
    // 9 digits 000000001: 1*2 = 2; (101 - 2) mod 100 = 99
    expect(withIpiCheckDigits('000000001')).toBe('00000000199');
    expect(parseIpiNameNumber('199')).toBe('00000000199');
    expect(parseIpiNameNumber('00000000493')).toBe('00000000493');
    expect(() => parseIpiNameNumber('00000000198')).toThrow(/check digits are 98, expected 99/);
    expect(() => parseIpiNameNumber('12AB')).toThrow(/up to 11 digits/);
    expect(() => parseIpiNameNumber('00000000000')).toThrow(/all zeros/);
  });

  it('checks IIN and BIN check digits, with the second weight sequence when the first gives 10', () => {
    // IIN 850312 4 0100 ?: weights 1..11 give 8+10+0+12+5+12+28+0+9+0+0 = 84, 84 mod 11 = 7
    expect(withKzCheckDigit('85031240100')).toBe('850312401007');
    expect(parseIin('850312401007')).toBe('850312401007');
    expect(() => parseIin('850312401008')).toThrow(/check digit is 8, expected 7/);
    expect(() => parseIin(withKzCheckDigit('85131240100')!)).toThrow(/not a date/);
    expect(() => parseIin('85031240100')).toThrow(/12 digits/);
    // an 11-digit prefix whose first sum is 10 mod 11 uses weights 3..11,1,2
    const prefix = Array.from({ length: 2000 }, (_, i) => `85031240${String(100 + i).padStart(3, '0')}`).find(
      (p) => {
        const s = Array.from(p, Number).reduce((a, d, i) => a + d * (i + 1), 0);
        return s % 11 === 10 && withKzCheckDigit(p) !== null;
      },
    )!;
    const d = Array.from(prefix, Number);
    const second = d.reduce((a, x, i) => a + x * (((i + 2) % 11) + 1), 0) % 11;
    expect(withKzCheckDigit(prefix)).toBe(`${prefix}${second}`);
    const bin = withKzCheckDigit('15074000303')!;
    expect(parseBin(bin)).toBe(bin);
    expect(() => parseBin(withKzCheckDigit('15071000303') ?? '150710003031')).toThrow(/entity type/);
    expect(() => parseIin(bin)).toThrow(/IIN/);
  });

  it('reads percentages to basis points and dates at Kazakhstan midnight', () => {
    expect(parsePercentBp('33.33')).toBe(3333);
    expect(parsePercentBp('50')).toBe(5000);
    expect(parsePercentBp('100%')).toBe(10000);
    expect(() => parsePercentBp('100.01')).toThrow(/more than 100/);
    expect(() => parsePercentBp('12.345')).toThrow(/two decimals/);
    expect(parseDateMs('2026-11-01')).toBe(Date.UTC(2026, 9, 31, 19)); // 00:00 UTC+5
    expect(() => parseDateMs('2026-02-30')).toThrow(/no such calendar date/);
  });
});

describe('time zones (Intl, no Temporal)', () => {
  it('knows Almaty moved from UTC+6 to UTC+5 on 1 March 2024', () => {
    expect(zoneOffsetMs('Asia/Almaty', Date.UTC(2024, 1, 15))).toBe(6 * 3_600_000);
    expect(zoneOffsetMs('Asia/Almaty', Date.UTC(2024, 2, 15))).toBe(5 * 3_600_000);
    expect(zoneOffsetMs('Asia/Qostanay', Date.UTC(2026, 5, 1))).toBe(5 * 3_600_000);
    // local midnight of 2026-11-01 in Almaty is 19:00 UTC the day before
    expect(fromLocal('Asia/Almaty', 2026, 11, 1)).toBe(Date.UTC(2026, 9, 31, 19));
    expect(localDate('Asia/Almaty', Date.UTC(2026, 9, 31, 18, 59))).toBe('2026-10-31');
    expect(localDate('Asia/Almaty', Date.UTC(2026, 9, 31, 19, 0))).toBe('2026-11-01');
    expect(toLocal('Asia/Almaty', Date.UTC(2026, 10, 3, 4, 59, 30)).msOfDay).toBe(
      (9 * 3600 + 59 * 60 + 30) * 1000,
    );
    expect(() => zoneOffsetMs('Mars/Olympus', 0)).toThrow(/unknown time zone/);
  });

  it('periods are calendar months in Kazakhstan time', () => {
    const p = parsePeriod('2026-12');
    expect(p.startMs).toBe(Date.UTC(2026, 10, 30, 19));
    expect(p.endMs).toBe(Date.UTC(2026, 11, 31, 19));
    expect(() => parsePeriod('2026-13')).toThrow(/YYYY-MM/);
  });
});

function share(p: Partial<Share> & Pick<Share, 'holderId' | 'shareBp' | 'validFromMs' | 'validToMs'>): Share {
  return {
    id: `s-${p.holderId}-${p.validFromMs}`,
    subjectKind: 'work',
    subjectId: 'W1',
    rightType: 'performing',
    version: 1,
    supersedesId: null,
    retiredAtMs: null,
    ...p,
  };
}

describe('share conflicts and mandate overlaps (pure)', () => {
  it('finds the spans where shares sum to more than 100 %, merged', () => {
    const spans = findShareConflicts([
      share({ holderId: 'A', shareBp: 6000, validFromMs: 0, validToMs: null }),
      share({ holderId: 'B', shareBp: 4000, validFromMs: 0, validToMs: 1000 }),
      share({ holderId: 'C', shareBp: 5000, validFromMs: 500, validToMs: 2000 }),
      share({ holderId: 'D', shareBp: 100, validFromMs: 1500, validToMs: 3000 }),
      share({ holderId: 'E', shareBp: 9000, validFromMs: 5000, validToMs: 6000, retiredAtMs: 1 }),
    ]);
    // 0-500: 100 % ok; 500-1000: 150 %; 1000-1500: 110 %; 1500-2000: 111 %; 2000-3000: 61 %
    expect(spans).toEqual([
      {
        subjectKind: 'work',
        subjectId: 'W1',
        rightType: 'performing',
        fromMs: 500,
        toMs: 2000,
        totalBp: 15000,
      },
    ]);
    expect(
      findShareConflicts([share({ holderId: 'A', shareBp: 10000, validFromMs: 0, validToMs: null })]),
    ).toEqual([]);
  });

  it('refuses a second CMO for the same holder and right type at the same time', () => {
    const existing = [
      {
        id: 'M1',
        holderId: 'H',
        cmoId: 'X',
        rightType: 'performing' as const,
        validFromMs: 0,
        validToMs: 1000,
      },
    ];
    expect(
      findMandateOverlap(existing, {
        holderId: 'H',
        cmoId: 'Y',
        rightType: 'performing',
        validFromMs: 999,
        validToMs: null,
      })?.id,
    ).toBe('M1');
    expect(
      findMandateOverlap(existing, {
        holderId: 'H',
        cmoId: 'Y',
        rightType: 'performing',
        validFromMs: 1000,
        validToMs: null,
      }),
    ).toBeNull();
    expect(
      findMandateOverlap(existing, {
        holderId: 'H',
        cmoId: 'Y',
        rightType: 'performer',
        validFromMs: 0,
        validToMs: null,
      }),
    ).toBeNull();
  });
});

describe('CSV', () => {
  it('parses quotes, doubled quotes, CRLF and embedded newlines', () => {
    const recs = parseCsv('a,b,c\r\n"x, y","say ""hi""",\r\n"multi\nline",2,3\n');
    expect(recs.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', ''],
      ['multi\nline', '2', '3'],
    ]);
    expect(recs[2].line).toBe(3);
    expect(() => parseCsv('a,b\n"open,2\n')).toThrow(/line 2: a quoted field is never closed/);
    expect(() => parseCsv('a,b\nx"y,2\n')).toThrow(/quote inside an unquoted field/);
  });

  it('detects the format by header and reports each bad row', () => {
    const { kind, rows } = parseCatalogCsv(
      'subject_kind,subject_id,right_type,holder_id,share_percent,valid_from,valid_to\n' +
        'work,W1,performing,H1,50,2026-01-01,\n' +
        'work,W1,performer,H1,50,2026-01-01,\n' +
        'recording,R1,producer,H2,120,2026-01-01,\n' +
        'recording,R1,producer,H2,100,2026-13-01,\n' +
        'work,W1\n',
    );
    expect(kind).toBe('shares');
    expect(rows[0].item).toBeDefined();
    expect(rows[1].error).toMatch(/a work carries the performing right, not performer/);
    expect(rows[2].error).toMatch(/more than 100 %/);
    expect(rows[3].error).toMatch(/valid_from.*no such calendar date|valid_from/);
    expect(rows[4].error).toMatch(/expected 7 fields, got 2/);
    expect(() => parseCatalogCsv('foo,bar\n1,2\n')).toThrow(/matches no import format/);
  });
});

describe('catalogue repository on a real SQLite file', () => {
  let dir: string;
  let store: Store;
  let repo: CatalogRepository;
  const ipi = (n: number) => withIpiCheckDigits(String(n).padStart(9, '0'));
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tyndau-catalog-'));
    store = openStore({ url: `sqlite:${join(dir, 'cat.db')}` });
    await migrateToLatest(store);
    repo = new CatalogRepository(store.db, () => 1_780_000_000_000);
    await repo.addCmo({ id: 'AUTH', name: 'Authors CMO', bin: null, rightTypes: ['performing'] });
    await repo.addCmo({ id: 'AUTH2', name: 'Second authors CMO', bin: null, rightTypes: ['performing'] });
    await repo.addCmo({ id: 'REL', name: 'Related CMO', bin: null, rightTypes: ['performer', 'producer'] });
  });
  afterAll(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('imports holders, works, recordings and shares from CSV with a per-row report', async () => {
    const holders = await repo.importCsv(
      'id,kind,name,iin,bin,ipi,roles\n' +
        `H1,person,Composer One,850312401007,,${ipi(11)},composer\n` +
        `H2,person,Lyricist Two,,,${ipi(12)},lyricist\n` +
        `H3,entity,Label Three,,${withKzCheckDigit('15074000303')},,producer\n` +
        'H4,person,Bad IIN,850312401008,,,composer\n' +
        `H5,person,Same IPI,,,${ipi(11)},composer\n`,
    );
    expect(holders.kind).toBe('holders');
    expect(holders.rows.map((r) => r.status)).toEqual([
      'accepted',
      'accepted',
      'accepted',
      'rejected',
      'rejected',
    ]);
    expect(holders.rows[3].message).toMatch(/IIN "850312401008" is not valid: check digit/);
    expect(holders.rows[4].message).toMatch(/already belongs to holder H1/);

    const works = await repo.importCsv(
      'id,iswc,title,title_kk,title_ru,title_lat,creators\nW1,T-034.524.680-1,Song,Ән,Песня,An,H1:composer;H2:lyricist\n',
    );
    expect(works.rows[0]).toMatchObject({ status: 'accepted' });
    expect((await repo.getWork('W1'))?.creators).toEqual([
      { holderId: 'H1', role: 'composer' },
      { holderId: 'H2', role: 'lyricist' },
    ]);
    const recs = await repo.importCsv(
      'id,isrc,title,duration_sec,works,performers,producer\nR1,KZ-A1B-26-00001,Song (radio edit),185.5,W1,H2,H3\nR2,KZ-A1B-26-00002,Other,60,W9,,\n',
    );
    expect(recs.rows.map((r) => r.status)).toEqual(['accepted', 'rejected']);
    expect(recs.rows[1].message).toMatch(/unknown work "W9"/);
    expect((await repo.getRecording('R1'))?.durationMs).toBe(185_500);

    const shares = await repo.importCsv(
      'subject_kind,subject_id,right_type,holder_id,share_percent,valid_from,valid_to\n' +
        'work,W1,performing,H1,60,2026-01-01,\n' +
        'work,W1,performing,H2,50,2026-01-01,\n' +
        'recording,R1,producer,H3,100,2026-01-01,\n' +
        'recording,R1,producer,H9,100,2026-01-01,\n',
    );
    expect(shares.rows.map((r) => r.status)).toEqual(['accepted', 'accepted', 'accepted', 'rejected']);
    expect(shares.rows[1].message).toMatch(/CONFLICT: performing shares of work W1 sum to 110.00 %/);
    expect(shares.rows[3].message).toMatch(/unknown rights holder "H9"/);
  });

  it('keeps a share conflict until it is resolved, and versions the share that fixes it', async () => {
    let open = await repo.conflicts();
    expect(open).toHaveLength(1);
    expect(open[0]).toMatchObject({ subjectId: 'W1', rightType: 'performing', totalBp: 11000, toMs: null });
    const fixed = await repo.addShare({
      subjectKind: 'work',
      subjectId: 'W1',
      rightType: 'performing',
      holderId: 'H1',
      shareBp: 5000,
      validFromMs: parseDateMs('2026-01-01'),
      validToMs: null,
    });
    expect(fixed.change).toBe('replaced');
    expect(fixed.share.version).toBe(2);
    open = await repo.conflicts();
    expect(open).toHaveLength(0);
    const all = await repo.conflicts(true);
    expect(all[0].resolvedAtMs).not.toBeNull();
    const history = await repo.sharesOf('work', 'W1', true);
    const h1 = history.filter((s) => s.holderId === 'H1');
    expect(h1.map((s) => [s.version, s.shareBp, s.retiredAtMs !== null])).toEqual([
      [1, 6000, true],
      [2, 5000, false],
    ]);
    expect(h1[1].supersedesId).toBe(h1[0].id);
    const again = await repo.addShare({
      subjectKind: 'work',
      subjectId: 'W1',
      rightType: 'performing',
      holderId: 'H1',
      shareBp: 5000,
      validFromMs: parseDateMs('2026-01-01'),
      validToMs: null,
    });
    expect(again.change).toBe('unchanged');
  });

  it('enforces exactly one CMO per holder and right type', async () => {
    const m = await repo.addMandate({
      holderId: 'H1',
      cmoId: 'AUTH',
      rightType: 'performing',
      validFromMs: parseDateMs('2025-01-01'),
      validToMs: null,
    });
    await expect(
      repo.addMandate({
        holderId: 'H1',
        cmoId: 'AUTH2',
        rightType: 'performing',
        validFromMs: parseDateMs('2026-06-01'),
        validToMs: null,
      }),
    ).rejects.toThrow(/overlaps mandate .* with CMO AUTH .*exactly one CMO/);
    await expect(
      repo.addMandate({
        holderId: 'H1',
        cmoId: 'REL',
        rightType: 'performing',
        validFromMs: parseDateMs('2030-01-01'),
        validToMs: null,
      }),
    ).rejects.toThrow(/does not manage the performing right/);
    await repo.endMandate(m.id, parseDateMs('2026-06-01'));
    const second = await repo.addMandate({
      holderId: 'H1',
      cmoId: 'AUTH2',
      rightType: 'performing',
      validFromMs: parseDateMs('2026-06-01'),
      validToMs: null,
    });
    expect(second.cmoId).toBe('AUTH2');
    const mandates = (await repo.mandatesOf(['H1'])).get('H1')!;
    expect(mandates.map((x) => x.cmoId).sort()).toEqual(['AUTH', 'AUTH2']);
  });

  it('refuses overlapping licences and tariffs of another CMO', async () => {
    await repo.upsertLicensee({
      id: 'BC',
      name: 'Broadcaster',
      bin: null,
      category: 'broadcaster',
      platformFromMs: 0,
    });
    await repo.addTariff({ id: 'T-AUTH', cmoId: 'AUTH', name: 'radio' });
    await repo.addLicence({
      licenseeId: 'BC',
      cmoId: 'AUTH',
      tariffId: 'T-AUTH',
      validFromMs: parseDateMs('2026-01-01'),
      validToMs: null,
    });
    await expect(
      repo.addLicence({
        licenseeId: 'BC',
        cmoId: 'AUTH',
        tariffId: 'T-AUTH',
        validFromMs: parseDateMs('2026-05-01'),
        validToMs: null,
      }),
    ).rejects.toThrow(/overlaps licence/);
    await expect(
      repo.addLicence({
        licenseeId: 'BC',
        cmoId: 'REL',
        tariffId: 'T-AUTH',
        validFromMs: parseDateMs('2026-05-01'),
        validToMs: null,
      }),
    ).rejects.toThrow(/belongs to CMO AUTH, not REL/);
    await expect(
      repo.upsertLicensee({ id: 'X', name: 'x', bin: null, category: 'circus' as never, platformFromMs: 0 }),
    ).rejects.toThrow(CatalogError);
  });
});
