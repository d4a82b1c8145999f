/**
 * Accrual benchmark: one month of a 100-channel deployment on the embedded store (SQLite).
 *
 *   npx tsx scripts/bench-accrual.ts [--detections 2000000] [--channels 100] [--recordings 5000] [--db FILE] [--keep]
 *                                    [--generate-only]
 *
 * Generates a catalogue (works with two authors, recordings with a performer and a producer, some
 * registrations incomplete), 10 broadcasters with 10 channels each, an authors' licence (per second with
 * dayparts) and a related-rights licence (revenue pool) per broadcaster, and N detections over November
 * 2026, inserted in batches inside transactions. Then times the accrual run (streaming reads), samples
 * peak RSS while it runs, and times a re-run (nothing to append), a statement and a full ledger verify.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { parseDateMs, parsePeriod, withIpiCheckDigits } from '../src/catalog/index.js';
import { RoyaltyRepository, canonicalRules, type TariffRules } from '../src/royalty/index.js';
import { openAccrualStore } from '../src/royalty/open.js';
import { insertRows } from '../src/royalty/batch.js';
import { migrateToLatest } from '../src/store/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

const N = Number(arg('detections', '2000000'));
const CHANNELS = Number(arg('channels', '100'));
const RECORDINGS = Number(arg('recordings', '5000'));
const FILE = arg('db', '/tmp/tyndau-bench-accrual/bench.db');
const KEEP = process.argv.includes('--keep');
const GENERATE_ONLY = process.argv.includes('--generate-only');

/** Deterministic pseudo-random numbers (mulberry32), so runs are comparable. */
let seed = 0x7a11;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

const AUTHORS_RULES: TariffRules = {
  basis: { kind: 'per_second', rateTiyn: '1.5' },
  rightTypeSplit: { performing: '100' },
  dayparts: [
    { from: '00:00', to: '06:00', coefficient: '0.5' },
    { from: '06:00', to: '10:00', coefficient: '1.5' },
    { from: '17:00', to: '21:00', coefficient: '1.25' },
  ],
  useTypeWeights: { background: '0.5', under_speech: '0.25' },
  administration: { percent: '15' },
};
const RELATED_RULES: TariffRules = {
  basis: { kind: 'revenue_pool', percent: '1' },
  rightTypeSplit: { performer: '50', producer: '50' },
  minimumFee: { mci: '10' },
  administration: { percent: '10' },
};

async function main(): Promise<void> {
  rmSync(dirname(FILE), { recursive: true, force: true });
  mkdirSync(dirname(FILE), { recursive: true });
  const store = openAccrualStore(`sqlite:${FILE}`);
  await migrateToLatest(store);
  const db = store.db;
  const t0 = Date.now();
  const now = parseDateMs('2026-10-01');
  const from = parseDateMs('2026-01-01');

  // ---- catalogue ----
  await db
    .insertInto('cmos')
    .values([
      { id: 'AUTH', name: 'Authors CMO', bin: null, right_types_json: '["performing"]', created_at_ms: now },
      {
        id: 'REL',
        name: 'Related rights CMO',
        bin: null,
        right_types_json: '["performer","producer"]',
        created_at_ms: now,
      },
    ])
    .execute();
  const HOLDERS = Math.max(10, Math.round(RECORDINGS * 0.6));
  const holders = Array.from({ length: HOLDERS }, (_, i) => [
    `H${i}`,
    'person',
    `Holder ${i}`,
    null,
    null,
    withIpiCheckDigits(String(200_000_000 + i)),
    '[]',
    now,
  ]);
  await db.transaction().execute(async (trx) => {
    await insertRows(
      trx,
      'sqlite',
      'rights_holders',
      ['id', 'kind', 'name', 'iin', 'bin', 'ipi_name_number', 'roles_json', 'created_at_ms'],
      holders,
    );
    const works: unknown[][] = [];
    const recs: unknown[][] = [];
    const rw: unknown[][] = [];
    const shares: unknown[][] = [];
    const mandates: unknown[][] = [];
    const pick = () => `H${Math.floor(rnd() * HOLDERS)}`;
    for (let r = 0; r < RECORDINGS; r++) {
      works.push([`W${r}`, null, `Work ${r}`, null, null, null, now]);
      recs.push([`R${r}`, null, `Recording ${r}`, 180_000, `R${r}`, now]);
      rw.push([`R${r}`, `W${r}`, 10000]);
      const composer = pick();
      let lyricist = pick();
      if (lyricist === composer) lyricist = `H${(Number(composer.slice(1)) + 1) % HOLDERS}`;
      const share = (kind: string, subject: string, rt: string, h: string, bp: number) =>
        shares.push([
          `S-${kind}-${subject}-${rt}-${h}`,
          kind,
          subject,
          rt,
          h,
          bp,
          0,
          null,
          1,
          null,
          null,
          now,
        ]);
      share('work', `W${r}`, 'performing', composer, 5000);
      if (r % 10 !== 0) share('work', `W${r}`, 'performing', lyricist, 5000); // 10 %: lyricist unregistered
      share('recording', `R${r}`, 'performer', pick(), 10000);
      share('recording', `R${r}`, 'producer', `H${r % 50}`, 10000);
    }
    for (let h = 0; h < HOLDERS; h++) {
      if (h % 40 === 39) continue; // 2.5 % of holders never gave a mandate
      mandates.push([`MA${h}`, `H${h}`, 'AUTH', 'performing', from, null, now]);
      mandates.push([`MP${h}`, `H${h}`, 'REL', 'performer', from, null, now]);
      mandates.push([`MR${h}`, `H${h}`, 'REL', 'producer', from, null, now]);
    }
    await insertRows(
      trx,
      'sqlite',
      'works',
      ['id', 'iswc', 'title', 'title_kk', 'title_ru', 'title_lat', 'created_at_ms'],
      works,
    );
    await insertRows(
      trx,
      'sqlite',
      'recordings',
      ['id', 'isrc', 'title', 'duration_ms', 'fingerprint_ref', 'created_at_ms'],
      recs,
    );
    await insertRows(trx, 'sqlite', 'recording_works', ['recording_id', 'work_id', 'portion_bp'], rw);
    await insertRows(
      trx,
      'sqlite',
      'shares',
      [
        'id',
        'subject_kind',
        'subject_id',
        'right_type',
        'holder_id',
        'share_bp',
        'valid_from_ms',
        'valid_to_ms',
        'version',
        'supersedes_id',
        'retired_at_ms',
        'created_at_ms',
      ],
      shares,
    );
    await insertRows(
      trx,
      'sqlite',
      'mandates',
      ['id', 'holder_id', 'cmo_id', 'right_type', 'valid_from_ms', 'valid_to_ms', 'created_at_ms'],
      mandates,
    );
  });

  // ---- broadcasters, channels, tariffs, licences ----
  const repo = new RoyaltyRepository(store, () => now);
  await repo.catalog.addTariff({ id: 'T-AUTH', cmoId: 'AUTH', name: 'authors, per second' });
  await repo.catalog.addTariff({ id: 'T-REL', cmoId: 'REL', name: 'related, 1 % pool' });
  canonicalRules(AUTHORS_RULES);
  await repo.publishTariffVersion('T-AUTH', from, AUTHORS_RULES);
  await repo.publishTariffVersion('T-REL', from, RELATED_RULES);
  const broadcasters = Math.max(1, Math.round(CHANNELS / 10));
  const channelIds: string[] = [];
  for (let b = 0; b < broadcasters; b++) {
    await repo.catalog.upsertLicensee({
      id: `B${b}`,
      name: `Broadcaster ${b}`,
      bin: null,
      category: 'broadcaster',
      platformFromMs: from,
    });
    await repo.catalog.addLicence({
      id: `LA${b}`,
      licenseeId: `B${b}`,
      cmoId: 'AUTH',
      tariffId: 'T-AUTH',
      validFromMs: from,
      validToMs: null,
    });
    await repo.catalog.addLicence({
      id: `LR${b}`,
      licenseeId: `B${b}`,
      cmoId: 'REL',
      tariffId: 'T-REL',
      validFromMs: from,
      validToMs: null,
    });
    await repo.catalog.declareRevenue(`B${b}`, '2026-11', 5_000_000_000 + b * 100_000_000);
  }
  for (let c = 0; c < CHANNELS; c++) {
    const id = `C${String(c).padStart(3, '0')}`;
    channelIds.push(id);
    await db
      .insertInto('channels')
      .values({
        id,
        name: `Channel ${c}`,
        broadcaster_id: `B${c % broadcasters}`,
        kind: c % 4 === 0 ? 'tv' : 'radio',
        time_zone: c % 7 === 0 ? 'Asia/Qostanay' : 'Asia/Almaty',
        sources_json: '[]',
        enabled: 1,
        created_at_ms: now,
      })
      .execute();
  }

  // ---- detections: back-to-back airings per channel over the month ----
  const period = parsePeriod('2026-11');
  const perChannel = Math.ceil(N / CHANNELS);
  const span = period.endMs - period.startMs;
  const slot = Math.floor(span / perChannel);
  const cols = [
    'id',
    'channel_id',
    'recording_id',
    'start_ms',
    'end_ms',
    'ref_start_sec',
    'ref_end_sec',
    'speed',
    'confidence',
    'status',
    'use_type',
    'evidence_path',
    'evidence_start_ms',
    'created_at_ms',
  ];
  const useTypes = ['featured', 'featured', 'featured', 'background', 'under_speech', null];
  let made = 0;
  let batch: unknown[][] = [];
  const flush = async () => {
    const rows = batch;
    batch = [];
    await db
      .transaction()
      .execute((trx) => insertRows(trx, 'sqlite', 'detections', cols, rows, store.sqlite));
  };
  for (let c = 0; c < CHANNELS && made < N; c++) {
    for (let k = 0; k < perChannel && made < N; k++, made++) {
      const start = period.startMs + k * slot + Math.floor(rnd() * slot * 0.2);
      const dur = Math.max(1000, Math.floor(slot * (0.3 + rnd() * 0.5)));
      const u = rnd();
      const rec =
        u < 0.01 ? `UNKNOWN${Math.floor(rnd() * 100)}` : `R${Math.floor(Math.pow(rnd(), 2) * RECORDINGS)}`;
      const s = rnd();
      const status = s < 0.93 ? 'confirmed' : s < 0.97 ? 'pending' : s < 0.99 ? 'reassigned' : 'rejected';
      batch.push([
        `D${c}-${k}`,
        channelIds[c],
        rec,
        start,
        start + dur,
        0,
        dur / 1000,
        1,
        0.95,
        status,
        useTypes[k % useTypes.length],
        null,
        null,
        start + 120_000,
      ]);
      if (batch.length >= 100_000) await flush();
    }
  }
  await flush();
  await store.close();
  const genSec = (Date.now() - t0) / 1000;
  console.log(
    `generated ${made} detections on ${CHANNELS} channels, ${RECORDINGS} recordings, ${HOLDERS} holders in ${genSec.toFixed(1)} s`,
  );

  if (GENERATE_ONLY) return;

  // ---- the timed run, in a fresh connection ----
  const s2 = openAccrualStore(`sqlite:${FILE}`);
  const repo2 = new RoyaltyRepository(s2, () => parseDateMs('2026-12-10'));
  let peakRss = process.memoryUsage().rss;
  const baseRss = peakRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const onPage = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));
  const rssAt: Array<[number, number]> = [];
  let lastMark = 0;
  let pass2 = 0;
  const t1 = Date.now();
  const cpu1 = process.cpuUsage();
  const result = await repo2.accrue('2026-11', {
    asOfMs: parseDateMs('2026-12-10'),
    indexHolders: false,
    onProgress: (p) => {
      onPage();
      if (p.pass !== 2) return;
      pass2 += 5000; // one page
      const rss = process.memoryUsage().rss;
      peakRss = Math.max(peakRss, rss); // timers do not fire while the run keeps the event loop busy
      if (pass2 - lastMark >= 200_000) {
        lastMark = pass2;
        rssAt.push([Date.now() - t1, rss]);
      }
    },
  });
  const accrueSec = (Date.now() - t1) / 1000;
  const cpu = process.cpuUsage(cpu1);
  const accrueCpuSec = (cpu.user + cpu.system) / 1e6;
  clearInterval(sampler);
  const lines = result.licences.reduce((s, l) => s + l.linesAdded, 0);
  const airings = result.licences
    .filter((l) => l.licenceId.startsWith('LA'))
    .reduce((s, l) => s + l.airings, 0);
  const tIdx = Date.now();
  const cpuIdx = process.cpuUsage();
  await repo2.indexHolderLines();
  const indexSec = (Date.now() - tIdx) / 1000;
  const idxCpu = process.cpuUsage(cpuIdx);
  const t2 = Date.now();
  const rerun = await repo2.accrue('2026-11', { asOfMs: parseDateMs('2026-12-10') });
  const rerunSec = (Date.now() - t2) / 1000;
  const t3 = Date.now();
  const st = await repo2.holderStatement('H1', '2026-11');
  const statementSec = (Date.now() - t3) / 1000;
  const t4 = Date.now();
  const v = await repo2.verify();
  const verifySec = (Date.now() - t4) / 1000;
  await s2.close();
  const report = {
    detections: made,
    eligibleAirings: airings,
    channels: CHANNELS,
    linesWritten: lines,
    accrueSec: Number(accrueSec.toFixed(1)),
    accrueCpuSec: Number(accrueCpuSec.toFixed(1)),
    loadAverage: Number(loadavg()[0].toFixed(1)),
    linesPerSec: Math.round(lines / accrueSec),
    peakRssMb: Math.round(peakRss / 1e6),
    rssBeforeRunMb: Math.round(baseRss / 1e6),
    rssDuringPass2Mb: rssAt
      .filter((_, i) => i % Math.max(1, Math.floor(rssAt.length / 6)) === 0)
      .map(([ms, rss]) => `${(ms / 1000).toFixed(0)}s:${Math.round(rss / 1e6)}`),
    holderIndexSec: Number(indexSec.toFixed(1)),
    holderIndexCpuSec: Number(((idxCpu.user + idxCpu.system) / 1e6).toFixed(1)),
    rerunSec: Number(rerunSec.toFixed(1)),
    rerunChanged: rerun.changed,
    statementLines: st.lines.length,
    statementSec: Number(statementSec.toFixed(2)),
    verifySec: Number(verifySec.toFixed(1)),
    verifyOk: v.ok,
    dbSizeMb: Math.round(statSync(FILE).size / 1e6),
    generateSec: Number(genSec.toFixed(1)),
  };
  console.log(JSON.stringify(report, null, 2));
  if (!KEEP) rmSync(dirname(FILE), { recursive: true, force: true });
}

await main();
