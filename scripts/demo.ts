/**
 * `npm start`: the whole of Tyndau on one machine, with no outside services.
 *
 *  1. songs made by the project's synthesiser are enrolled in a fresh fingerprint index;
 *  2. the demo catalogue is seeded around them (CMOs, rights holders, works, shares, mandates, a
 *     broadcaster with two channels, licences and tariffs), plus one account per role;
 *  3. last month is "heard" from logger files (the monitor's folder source, real ffmpeg and matcher),
 *     reviewed, accrued, and partly confirmed and disputed by the broadcaster;
 *  4. two simulated live channels stream generated broadcasts on localhost, looping, and the monitor
 *     listens to them now (the radio's stream drops out now and then: monitoring gaps);
 *  5. the web app and the API serve it all, and the accounts are printed.
 *
 * State lives in .cache/demo/ (songs and programmes are kept between runs; the database, index and
 * evidence are made afresh each start). Options: --port N (default 8080, env PORT), --host H.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, copyFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import {
  Accounts,
  apiConfig,
  detections,
  royalty,
  type AuditActor,
  type Principal,
} from '../src/api/index.js';
import { CatalogRepository, periodOf, toLocal } from '../src/catalog/index.js';
import { ReferenceIndex, enrollFile } from '../src/index/index.js';
import { StreamMatcher } from '../src/match/index.js';
import {
  Monitor,
  MonitorRepository,
  monitorConfig,
  indexMp3Frames,
  type Channel,
} from '../src/monitor/index.js';
import { DEMO, seedDemoCatalogue } from '../src/royalty/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';
import { buildWebApp } from '../src/web/index.js';
import { synthesizeJingle } from './sim/jingle.js';
import { SYNTH_VERSION, synthesizeSong } from './synth/music.js';
import { writeWav } from './synth/wav.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CACHE = join(ROOT, '.cache', 'demo');
const STATE = join(CACHE, 'state');
const RATE = 22050;
const ZONE = 'Asia/Almaty';
const PASSWORD = 'tyndau-demo';

/** The demo's music: enrolled songs, and two songs nobody registered (they must never be detected). */
const SONGS = [
  { id: 'rec-dala-samaly', seed: 101, sec: 52, title: 'Dala samaly' },
  { id: 'rec-tun-sazy', seed: 102, sec: 47, title: 'Tún sazy' },
  { id: 'rec-koktem', seed: 103, sec: 55, title: 'Kóktem' },
  { id: 'rec-altyn-kuz', seed: 104, sec: 44, title: 'Altyn kúz' },
  { id: 'rec-aq-jelken', seed: 105, sec: 50, title: 'Aq jelken' },
  { id: 'rec-janbyr', seed: 106, sec: 46, title: 'Jańbyr' },
  { id: 'rec-sary-arqa', seed: 107, sec: 53, title: 'Sary arqa' },
  { id: 'rec-tan-shygy', seed: 108, sec: 49, title: 'Tań shyǵy' },
];
const UNREGISTERED = [
  { id: 'unregistered-1', seed: 901, sec: 40 },
  { id: 'unregistered-2', seed: 902, sec: 38 },
];

type Part = { song: string } | { jingle: number } | { silence: number };

const USERS = [
  { username: 'operator', role: 'operator', what: 'dashboard, accrual, ledger, everything' },
  {
    username: 'reviewer',
    role: 'cmo_reviewer',
    cmoId: DEMO.authorsCmo,
    what: "review workbench (authors' CMO)",
  },
  {
    username: 'reviewer-related',
    role: 'cmo_reviewer',
    cmoId: DEMO.relatedCmo,
    what: 'review workbench (related-rights CMO)',
  },
  { username: 'registrar', role: 'registrar', what: 'catalogue, enrolment, bulk import' },
  {
    username: 'broadcaster',
    role: 'broadcaster',
    licenseeId: DEMO.broadcaster,
    what: 'usage of its channels, confirm or dispute',
  },
  {
    username: 'author',
    role: 'rights_holder',
    holderId: 'rh-composer-1',
    what: "author's cabinet (Aigerim)",
  },
  { username: 'performer', role: 'rights_holder', holderId: 'rh-performer-1', what: "performer's cabinet" },
] as const;

function log(message: string): void {
  process.stderr.write(`demo: ${message}\n`);
}

function args(): { host: string; port: number } {
  const a = process.argv.slice(2);
  const get = (name: string) => {
    const i = a.indexOf(name);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const port = Number(get('--port') ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, got ${get('--port')}`);
  return { host: get('--host') ?? '127.0.0.1', port };
}

// ---- audio ----------------------------------------------------------------------------------------

const pcmCache = new Map<string, Float32Array>();

/** A song (mono, RATE), cached as WAV under .cache/demo/songs by seed, length and synthesiser version. */
function song(seed: number, sec: number): { wav: string; pcm: Float32Array } {
  const wav = join(CACHE, 'songs', `song-v${SYNTH_VERSION}-s${seed}-d${sec}-r${RATE}.wav`);
  let pcm = pcmCache.get(wav);
  if (!pcm) {
    const s = synthesizeSong(seed, sec, RATE);
    pcm = new Float32Array(s.left.length);
    for (let i = 0; i < pcm.length; i++) pcm[i] = 0.5 * (s.left[i] + s.right[i]);
    if (!existsSync(wav)) writeWav(wav, [pcm], RATE);
    pcmCache.set(wav, pcm);
  }
  return { wav, pcm };
}

function songById(id: string): Float32Array {
  const s = [...SONGS, ...UNREGISTERED].find((x) => x.id === id)!;
  return song(s.seed, s.sec).pcm;
}

/** A programme (songs, jingles, silences) as an MP3 file, cached by its plan. */
function programme(name: string, plan: Part[]): string {
  const key = createHash('sha256')
    .update(JSON.stringify([SYNTH_VERSION, plan]))
    .digest('hex')
    .slice(0, 10);
  const mp3 = join(CACHE, 'programmes', `${name}-${key}.mp3`);
  if (existsSync(mp3)) return mp3;
  const pieces = plan.map((p, i) =>
    'song' in p
      ? songById(p.song)
      : 'jingle' in p
        ? synthesizeJingle(p.jingle, 7000 + i, RATE)
        : new Float32Array(Math.round(p.silence * RATE)),
  );
  const all = new Float32Array(pieces.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of pieces) {
    all.set(x, o);
    o += x.length;
  }
  const wav = `${mp3}.wav`;
  writeWav(wav, [all], RATE);
  execFileSync('ffmpeg', [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-i',
    wav,
    '-ac',
    '1',
    '-ar',
    String(RATE),
    '-b:a',
    '64k',
    mp3,
  ]);
  rmSync(wav);
  return mp3;
}

// ---- a live stream: an MP3 programme looped at real time, like an Icecast mount ---------------------

interface LiveStream {
  url: string;
  close(): Promise<void>;
}

async function liveStream(
  mp3Path: string,
  outage: { everySec: number; forSec: number } | null,
): Promise<LiveStream> {
  const mp3 = readFileSync(mp3Path);
  const { frames, frameSec } = indexMp3Frames(mp3);
  const startMs = Date.now();
  const frameAt = (ms: number) => Math.floor((ms - startMs) / 1000 / frameSec);
  const isDown = () => {
    if (!outage) return false;
    const t = ((Date.now() - startMs) / 1000) % outage.everySec;
    return t > outage.everySec - outage.forSec;
  };
  const sockets = new Set<Socket>();
  const live = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    if (req.url !== '/live.mp3') return void res.writeHead(404).end();
    if (isDown()) return void res.writeHead(503).end();
    res.writeHead(200, {
      'content-type': 'audio/mpeg',
      'cache-control': 'no-cache',
      'icy-name': 'Tyndau demo',
    });
    live.add(res);
    let next = frameAt(Date.now());
    const tick = setInterval(() => {
      if (isDown()) {
        clearInterval(tick);
        live.delete(res);
        res.destroy();
        return;
      }
      const upTo = frameAt(Date.now()) + 1;
      const out: Buffer[] = [];
      for (; next < upTo; next++) {
        const f = frames[next % frames.length];
        out.push(mp3.subarray(f.offset, f.offset + f.bytes));
      }
      if (out.length) res.write(Buffer.concat(out));
    }, 50);
    req.on('close', () => {
      clearInterval(tick);
      live.delete(res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/live.mp3`,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

// ---- the steps ------------------------------------------------------------------------------------

async function enrol(index: ReferenceIndex): Promise<void> {
  for (const s of SONGS) {
    const { wav } = song(s.seed, s.sec);
    await enrollFile(index, wav, { id: s.id, title: s.title }, { replace: true });
  }
  for (const u of UNREGISTERED) song(u.seed, u.sec);
}

async function makeUsers(store: Store): Promise<Map<string, Principal>> {
  const c = apiConfig();
  const accounts = new Accounts(store.db, { N: c.scryptN, r: c.scryptR, p: c.scryptP }, c.passwordMinLength);
  const out = new Map<string, Principal>();
  for (const u of USERS) {
    const user = await accounts.createUser({ ...u, displayName: `${u.username} (demo)`, password: PASSWORD });
    out.set(u.username, { user, via: 'session', sessionId: null, csrfToken: null, tokenId: null });
  }
  return out;
}

/** Logger files of last month (the channels' recorded air), heard by the monitor through folder sources. */
async function backfill(
  store: Store,
  index: ReferenceIndex,
  evidenceDir: string,
  nowMs: number,
): Promise<string> {
  const now = toLocal(ZONE, nowMs);
  const prevMonth = now.month === 1 ? { y: now.year - 1, m: 12 } : { y: now.year, m: now.month - 1 };
  const ids = SONGS.map((s) => s.id);
  const variants: Part[][] = [0, 1, 2, 3].map((v) => [
    { jingle: 4 },
    { song: ids[(v * 2) % ids.length] },
    { silence: 2 },
    { song: ids[(v * 2 + 1) % ids.length] },
    { jingle: 3 },
    ...(v === 1 ? [{ song: UNREGISTERED[0].id }] : []),
    { song: ids[(v * 2 + 3) % ids.length] },
    { silence: 3 },
  ]);
  const files = variants.map((plan, v) => programme(`logger-${v}`, plan));
  const days = [3, 7, 11, 16, 21, 25];
  const hours = [8, 13, 18, 21];
  const channels: Channel[] = [];
  const last = new Map<string, string>();
  for (const [ci, id] of DEMO.channels.entries()) {
    const dir = join(STATE, 'logger', id);
    mkdirSync(dir, { recursive: true });
    for (const [di, day] of days.entries()) {
      const hour = hours[(di + ci) % hours.length];
      const name = `${prevMonth.y}${String(prevMonth.m).padStart(2, '0')}${String(day).padStart(2, '0')}-${String(hour).padStart(2, '0')}${ci ? '15' : '00'}00.mp3`;
      const path = join(dir, name);
      copyFileSync(files[(di + ci) % files.length], path);
      const old = new Date(Date.now() - 3600_000);
      utimesSync(path, old, old);
      last.set(id, name);
    }
    const row = (await new MonitorRepository(store.db).getChannel(id))!;
    channels.push({ ...row, sources: [{ kind: 'folder', url: dir }] });
  }
  const monitor = new Monitor({
    store,
    channels,
    config: monitorConfig(),
    createMatcher: () => new StreamMatcher(index),
    evidenceDir,
    http: null,
    log: pino({ level: 'warn' }),
  });
  await monitor.start();
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    const states = await Promise.all(DEMO.channels.map((id) => monitor.repo.state(id)));
    if (states.every((s, i) => s?.cursor === last.get(DEMO.channels[i]))) break;
    if (Date.now() > deadline)
      throw new Error("the monitor did not finish last month's logger files in 10 minutes");
    await new Promise((r) => setTimeout(r, 500));
  }
  await monitor.stop();
  // The import is not live monitoring: its end is not an outage. Forget the runners' state (else the live
  // monitor would count the time since the last logger file as "monitor down") and the stop's gap; the days
  // between logger files stay recorded as gaps, as they were not heard.
  await store.db.deleteFrom('monitoring_gaps').where('reason', '=', 'monitor_stopped').execute();
  await store.db.deleteFrom('channel_state').execute();
  return `${prevMonth.y}-${String(prevMonth.m).padStart(2, '0')}`;
}

async function main(): Promise<void> {
  const opt = args();
  const t0 = Date.now();
  mkdirSync(CACHE, { recursive: true });
  rmSync(STATE, { recursive: true, force: true });
  mkdirSync(STATE, { recursive: true });
  const evidenceDir = join(STATE, 'evidence');

  log('making songs with the synthesiser (kept in .cache/demo for the next start)');
  const store = openStore({ url: `sqlite:${join(STATE, 'tyndau.db')}` });
  await migrateToLatest(store);
  const index = ReferenceIndex.open(join(STATE, 'index'));
  await enrol(index);
  log(`enrolled ${SONGS.length} recordings in the fingerprint index`);

  const nowMs = Date.now();
  const current = periodOf(nowMs).id;
  await seedDemoCatalogue(store, {
    recordings: SONGS.map((s) => s.id),
    titles: Object.fromEntries(SONGS.map((s) => [s.id, s.title])),
    channels: [
      { id: 'demo-radio', name: 'Demo Radio FM', kind: 'radio', timeZone: ZONE },
      { id: 'demo-tv', name: 'Demo TV', kind: 'tv', timeZone: ZONE },
    ],
  });
  const people = await makeUsers(store);

  log('hearing last month from logger files (ffmpeg, fingerprints, matcher)');
  const previous = await backfill(store, index, evidenceDir, nowMs);
  // the broadcaster's declared revenue, for the related-rights tariff (a pool of 1 % of it)
  const cat = new CatalogRepository(store.db);
  for (const p of [previous, current]) await cat.declareRevenue(DEMO.broadcaster, p, 25_000_000_00);

  // the web app's services do the rest, as the people would (every step lands in the audit log)
  let liveMonitor: Monitor | null = null;
  const { app, ctx } = await buildWebApp({
    store,
    index,
    evidenceDirs: [evidenceDir],
    uploadDir: join(STATE, 'uploads'),
    logLevel: 'warn',
    liveHealth: (id) => liveMonitor?.runners.find((r) => r.channel.id === id)?.health() ?? null,
  });
  const system = (name: string): AuditActor => {
    const p = people.get(name)!;
    return { userId: p.user.id, name: p.user.username, role: p.user.role, via: 'system', ip: null };
  };
  const found = await detections.listDetections(
    ctx,
    people.get('operator')!,
    { statuses: ['pending'], sort: 'time', order: 'asc' },
    { limit: 1000, offset: 0 },
  );
  const ids = found.items.map((d) => d.id);
  if (ids.length > 2) {
    await detections.reviewDetections(ctx, people.get('reviewer')!, system('reviewer'), {
      ids: ids.slice(0, -2),
      action: 'confirm',
      note: 'demo: checked against the air-check',
    });
    await detections.reviewDetections(ctx, people.get('reviewer')!, system('reviewer'), {
      ids: [ids[ids.length - 2]],
      action: 'reject',
      note: 'demo: talk over the intro, not a featured airing',
    });
  }
  const run = await royalty.runAccrual(ctx, people.get('operator')!, system('operator'), previous, false);
  const report = await royalty.usageReport(ctx, people.get('broadcaster')!, DEMO.broadcaster, previous);
  if (report.rows.length > 4) {
    await royalty.confirmUsage(
      ctx,
      people.get('broadcaster')!,
      system('broadcaster'),
      DEMO.broadcaster,
      previous,
      report.rows.slice(0, 3).map((r) => r.detectionId),
    );
    await royalty.disputeUsage(
      ctx,
      people.get('broadcaster')!,
      system('broadcaster'),
      DEMO.broadcaster,
      previous,
      report.rows[3].detectionId,
      'demo: this was a trailer, not the song',
    );
  }
  log(
    `${found.total} airings heard last month; accrual of ${previous}: ${run.licences.map((l) => `${l.licenceId} ${(l.dueTiyn / 100).toFixed(2)} KZT`).join(', ')}`,
  );

  log('starting two live channels and the monitor');
  const radioPlan: Part[] = [
    { jingle: 4 },
    { song: SONGS[0].id },
    { silence: 2 },
    { song: SONGS[2].id },
    { jingle: 3 },
    { song: UNREGISTERED[1].id },
    { song: SONGS[4].id },
    { silence: 2 },
    { song: SONGS[6].id },
    { jingle: 3 },
  ];
  const tvPlan: Part[] = [
    { jingle: 3 },
    { song: SONGS[1].id },
    { silence: 4 },
    { song: SONGS[3].id },
    { jingle: 4 },
    { song: SONGS[5].id },
    { silence: 3 },
    { song: SONGS[7].id },
    { song: UNREGISTERED[0].id },
    { jingle: 3 },
  ];
  const radio = await liveStream(programme('live-radio', radioPlan), { everySec: 420, forSec: 20 });
  const tv = await liveStream(programme('live-tv', tvPlan), null);
  const repo = new MonitorRepository(store.db);
  const channels: Channel[] = [];
  for (const [id, stream] of [
    ['demo-radio', radio],
    ['demo-tv', tv],
  ] as const) {
    const ch = (await repo.getChannel(id))!;
    const live = { ...ch, sources: [{ kind: 'http' as const, url: stream.url }] };
    await repo.saveChannel(live);
    channels.push(live);
  }
  liveMonitor = new Monitor({
    store,
    channels,
    config: monitorConfig(),
    createMatcher: () => new StreamMatcher(index),
    evidenceDir,
    http: null,
    log: pino({ level: 'warn' }),
  });
  await liveMonitor.start();

  await app.listen({ host: opt.host, port: opt.port });
  const addr = app.server.address() as AddressInfo;
  const base = `http://${opt.host === '0.0.0.0' ? '127.0.0.1' : opt.host}:${addr.port}`;
  const width = Math.max(...USERS.map((u) => u.username.length));
  process.stdout.write(
    [
      '',
      `Tyndau demo is running at ${base}/   (started in ${Math.round((Date.now() - t0) / 1000)} s)`,
      `  API docs:   ${base}/api/docs`,
      `  live radio: ${radio.url} (drops out for 20 s every 7 minutes)`,
      `  live TV:    ${tv.url}`,
      '',
      `Accounts (password for all: ${PASSWORD}):`,
      ...USERS.map((u) => `  ${u.username.padEnd(width)}  ${u.what}`),
      '',
      `Last month (${previous}) is accrued; this month (${current}) is being heard live: detections appear`,
      "in the reviewer's queue as each song ends. Press Ctrl-C to stop.",
      '',
    ].join('\n'),
  );

  await new Promise<void>((r) => {
    process.once('SIGINT', () => r());
    process.once('SIGTERM', () => r());
  });
  log('stopping');
  await liveMonitor.stop();
  await app.close();
  await radio.close();
  await tv.close();
  index.close();
  await store.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
