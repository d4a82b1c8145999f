import Database from 'better-sqlite3';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromLocal, withIpiCheckDigits } from '../src/catalog/index.js';
import { main } from '../src/cli/main.js';

/** Runs the CLI in-process and captures what it prints. */
async function tyndau(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => (
    (out += String(s)),
    true
  )) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (
    (err += String(s)),
    true
  )) as typeof process.stderr.write;
  try {
    const code = await main(argv);
    return { code, out, err };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe('tyndau catalogue and royalty commands', () => {
  let dir: string;
  let db: string;
  let file: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tyndau-cli-'));
    file = join(dir, 'tyndau.db');
    db = `sqlite:${file}`;
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('seeds, imports, accrues, explains, reports and verifies', async () => {
    expect(
      (
        await tyndau(
          'catalog',
          'seed-demo',
          '--recordings',
          'rec-a,rec-b',
          '--revenue',
          '2026-11=10000000',
          '--db',
          db,
        )
      ).out,
    ).toMatch(/seeded: CMOs cmo-authors, cmo-related/);
    // a CSV import with one bad row
    const csv = join(dir, 'holders.csv');
    writeFileSync(
      csv,
      `id,kind,name,iin,bin,ipi,roles\nrh-x,person,New Author,,,${withIpiCheckDigits('000777001')},composer\nrh-y,person,Bad,123,,,composer\n`,
    );
    const imp = await tyndau(
      'catalog',
      'import',
      '--csv',
      csv,
      '--db',
      db,
      '--report',
      join(dir, 'ack.json'),
    );
    expect(imp.out).toContain('holders: 1 accepted, 1 rejected');
    expect(imp.out).toMatch(/line 3: REJECTED: IIN "123" is not valid: expected 12 digits/);
    expect(JSON.parse(readFileSync(join(dir, 'ack.json'), 'utf8')).rejected).toBe(1);
    // airplay, straight into the detections table as the monitor writes it
    const raw = new Database(file);
    const ins = raw.prepare(
      'insert into detections (id, channel_id, recording_id, start_ms, end_ms, ref_start_sec, ref_end_sec, speed, confidence, status, use_type, evidence_path, evidence_start_ms, created_at_ms) values (?,?,?,?,?,0,0,1,0.95,?,?,?,?,?)',
    );
    for (let i = 0; i < 6; i++) {
      const start = fromLocal('Asia/Almaty', 2026, 11, 3 + i, (8 + i) * 3_600_000);
      ins.run(
        `d${i}`,
        i % 2 ? 'demo-tv' : 'demo-radio',
        i % 2 ? 'rec-a' : 'rec-b',
        start,
        start + 200_000,
        'confirmed',
        'featured',
        `clips/d${i}.mp3`,
        start - 5000,
        start + 300_000,
      );
    }
    raw.close();
    const run = await tyndau('accrue', '--period', '2026-11', '--as-of', '2026-12-05', '--db', db);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/period 2026-11: run 1 appended/);
    expect(run.out).toMatch(/lic-demo-related .* due 100 000.00 KZT/);
    expect((await tyndau('accrue', '--period', '2026-11', '--as-of', '2026-12-05', '--db', db)).out).toMatch(
      /up to date, nothing appended/,
    );
    const st = await tyndau(
      'statement',
      '--holder',
      'rh-performer-1',
      '--period',
      '2026-11',
      '--format',
      'csv',
      '--db',
      db,
    );
    const rows = st.out.trim().split('\r\n');
    expect(rows[0]).toMatch(/^line,kind,period/);
    expect(rows).toHaveLength(1 + 6 + 2); // header, six airings, TOTAL and UNDISTRIBUTED
    const line = rows[1].split(',')[0];
    const ex = await tyndau('explain', line, '--db', db);
    expect(ex.out).toMatch(/Evidence: air-check clip clips\/d\d\.mp3/);
    expect(ex.out).toMatch(/a pool of 1 % of the broadcaster's declared revenue/);
    expect(ex.out).toMatch(/Share: Dos Mukasan Ensemble \(demo\) holds 100\.00 % of recording/);
    const usage = await tyndau('usage', '--broadcaster', 'bc-demo', '--period', '2026-11', '--db', db);
    expect(usage.out.trim().split('\r\n')).toHaveLength(7);
    expect(
      (
        await tyndau(
          'usage',
          'export',
          '--broadcaster',
          'bc-demo',
          '--period',
          '2026-11',
          '--format',
          'dsr',
          '--db',
          db,
        )
      ).out,
    ).toMatch(/^HEAD\tBroadcastUsageReport/);
    expect(
      (await tyndau('cmo-summary', '--cmo', 'cmo-related', '--period', '2026-11', '--db', db)).out,
    ).toContain('collected (due under licences): 100 000.00 KZT');
    const ok = await tyndau('ledger', 'verify', '--db', db);
    expect(ok.out).toMatch(/^ledger ok: \d+ entries, \d+ lines/);
    const head = (await tyndau('ledger', 'head', '--db', db)).out.trim().split(' ')[1];
    expect(head).toMatch(/^[0-9a-f]{64}$/);

    // tamper through a separate connection: verify fails with exit code 1 and names the entry
    const t = new Database(file);
    t.prepare('update accrual_lines set net_tiyn = net_tiyn + 100 where seq = ?').run(Number(line));
    t.close();
    const bad = await tyndau('ledger', 'verify', '--expect-head', head, '--db', db);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/ledger NOT ok: the lines of entry \d+ .* were changed or reordered/);
  });

  it('names bad input', async () => {
    expect((await tyndau('accrue', '--period', '2026-13', '--db', db)).err).toMatch(
      /period "2026-13" is not valid/,
    );
    expect((await tyndau('explain', 'x1', '--db', db)).err).toMatch(/not a line number/);
    const rules = join(dir, 'rules.json');
    writeFileSync(
      rules,
      JSON.stringify({
        basis: { kind: 'per_second', rateTiyn: '1' },
        rightTypeSplit: { performing: '100' },
        administration: { percent: '30' },
      }),
    );
    const r = await tyndau(
      'tariff',
      'version',
      'tar-authors-broadcast',
      '--from',
      '2027-01-01',
      '--rules',
      rules,
      '--db',
      db,
    );
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/administration.percent: over the 20 % cap/);
    expect((await tyndau('catalog', 'import', '--cwr', join(dir, 'missing.cwr'), '--db', db)).err).toMatch(
      /cannot read CWR file .*missing.cwr: ENOENT/,
    );
    expect(
      (await tyndau('revenue', '--licensee', 'bc-demo', '--period', '2026-12', '--kzt', '12,5', '--db', db))
        .err,
    ).toMatch(/is not an amount in KZT/);
  });
});
