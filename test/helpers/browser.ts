/**
 * The world the API, page and browser tests use, and the browser they drive.
 *
 * World: a temporary SQLite store with the demo catalogue (two CMOs, five rights holders, a broadcaster
 * with two channels, licences and tariffs), plus a second, unrelated world (another CMO, broadcaster,
 * channel and rights holder) that each role must not be able to reach; detections of February 2026 with
 * real MP3 evidence clips; one account per role. The server's clock is fixed (10 March 2026, Kazakhstan
 * time) so periods, deadlines and dates do not depend on the day the tests run.
 *
 * Browser: Debian's chromium through playwright-core (installed with apt by scripts/setup-system.sh when
 * missing, TYNDAU_WITH_BROWSER=1).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fromLocal } from '../../src/catalog/index.js';
import { ReferenceIndex } from '../../src/index/index.js';
import { seedDemoCatalogue } from '../../src/royalty/index.js';
import { migrateToLatest, openStore, type Store } from '../../src/store/index.js';
import type { ApiConfig } from '../../src/api/index.js';
import { REPO_ROOT } from './catalogue.js';

export const PASSWORD = 'correct horse battery';
/** 2026-03-10 12:00 in Almaty (UTC+5). */
export const NOW_MS = fromLocal('Asia/Almaty', 2026, 3, 10, 12 * 3600_000);
export const PERIOD = '2026-02';

export const USERS = {
  operator: { username: 'operator', role: 'operator' },
  reviewer: { username: 'reviewer', role: 'cmo_reviewer', cmoId: 'cmo-related' },
  authorsReviewer: { username: 'authors', role: 'cmo_reviewer', cmoId: 'cmo-authors' },
  otherReviewer: { username: 'otherreviewer', role: 'cmo_reviewer', cmoId: 'cmo-other' },
  registrar: { username: 'registrar', role: 'registrar' },
  broadcaster: { username: 'broadcaster', role: 'broadcaster', licenseeId: 'bc-demo' },
  otherBroadcaster: { username: 'otherbc', role: 'broadcaster', licenseeId: 'bc-other' },
  composer1: { username: 'composer1', role: 'rights_holder', holderId: 'rh-composer-1' },
  composer2: { username: 'composer2', role: 'rights_holder', holderId: 'rh-composer-2' },
  otherHolder: { username: 'otherholder', role: 'rights_holder', holderId: 'rh-other' },
  node: { username: 'node', role: 'capture_node', licenseeId: 'bc-demo' },
} as const;
export type UserName = keyof typeof USERS;

export interface World {
  dir: string;
  store: Store;
  index: ReferenceIndex;
  evidenceDir: string;
  uploadDir: string;
  /** Detection ids by name. */
  det: Record<string, string>;
  userIds: Record<UserName, string>;
  config: Partial<ApiConfig>;
  now: () => number;
  close(): Promise<void>;
}

/** A short real MP3 (a tone), as the monitor's evidence clips are. */
function makeClip(path: string, freq: number): void {
  mkdirSync(join(path, '..'), { recursive: true });
  execFileSync('ffmpeg', [
    '-nostdin',
    '-hide_banner',
    '-loglevel',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `sine=frequency=${freq}:duration=6:sample_rate=16000`,
    '-ac',
    '1',
    '-b:a',
    '32k',
    path,
  ]);
}

export interface WorldOptions {
  /** A store URL; default a SQLite file in a fresh temporary folder. */
  url?: string;
  config?: Partial<ApiConfig>;
}

export async function makeWorld(opts: WorldOptions = {}): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'tyndau-api-'));
  const store = openStore({ url: opts.url ?? `sqlite:${join(dir, 'tyndau.db')}` });
  await migrateToLatest(store);
  const now = () => NOW_MS;
  await seedDemoCatalogue(store, {
    recordings: ['rec-a', 'rec-b', 'rec-c'],
    titles: { 'rec-a': 'Dala samaly', 'rec-b': 'Tún sazy', 'rec-c': 'Kóktem' },
    now,
  });
  // An unrelated world: another CMO, broadcaster, channel and rights holder.
  const { CatalogRepository } = await import('../../src/catalog/index.js');
  const cat = new CatalogRepository(store.db, now);
  const from = fromLocal('Asia/Almaty', 2026, 1, 1);
  await cat.addCmo({ id: 'cmo-other', name: 'Other Society (test)', bin: null, rightTypes: ['performing'] });
  await cat.upsertHolder({
    id: 'rh-other',
    kind: 'person',
    name: 'Other Author (test)',
    iin: null,
    bin: null,
    ipiNameNumber: null,
    roles: ['composer'],
  });
  await cat.upsertWork({
    id: 'w-other',
    iswc: null,
    title: 'Other work',
    titleKk: null,
    titleRu: null,
    titleLat: null,
    creators: [{ holderId: 'rh-other', role: 'composer' }],
  });
  await cat.upsertRecording({
    id: 'rec-x',
    isrc: null,
    title: 'Other song',
    durationMs: 180_000,
    performerIds: [],
    producerId: null,
    works: [{ workId: 'w-other', portionBp: 10000 }],
    fingerprintRef: null,
  });
  await cat.addShare({
    subjectKind: 'work',
    subjectId: 'w-other',
    rightType: 'performing',
    holderId: 'rh-other',
    shareBp: 10000,
    validFromMs: 0,
    validToMs: null,
  });
  await cat.addMandate({
    holderId: 'rh-other',
    cmoId: 'cmo-other',
    rightType: 'performing',
    validFromMs: 0,
    validToMs: null,
  });
  await cat.upsertLicensee({
    id: 'bc-other',
    name: 'Other Radio LLP (test)',
    bin: null,
    category: 'broadcaster',
    platformFromMs: from,
  });
  await cat.addTariff({ id: 'tar-other', cmoId: 'cmo-other', name: 'Other tariff (test)' });
  const { RoyaltyRepository } = await import('../../src/royalty/index.js');
  await new RoyaltyRepository(store, now).publishTariffVersion('tar-other', from, {
    basis: { kind: 'per_second', rateTiyn: '1' },
    rightTypeSplit: { performing: '100' },
  });
  await cat.addLicence({
    id: 'lic-other',
    licenseeId: 'bc-other',
    cmoId: 'cmo-other',
    tariffId: 'tar-other',
    validFromMs: from,
    validToMs: null,
  });
  await store.db
    .insertInto('channels')
    .values({
      id: 'other-fm',
      name: 'Other FM',
      broadcaster_id: 'bc-other',
      kind: 'radio',
      time_zone: 'Asia/Almaty',
      sources_json: '["http://other.example/stream"]',
      enabled: 1,
      created_at_ms: from,
    })
    .execute();
  await store.db
    .updateTable('channels')
    .set({ sources_json: '["http://radio.example/live.mp3"]' })
    .where('id', '=', 'demo-radio')
    .execute();

  // Detections of February 2026, as the monitor writes them, with evidence clips.
  const evidenceDir = join(dir, 'evidence');
  const day = (d: number, h: number, m: number) =>
    fromLocal('Asia/Almaty', 2026, 2, d, (h * 60 + m) * 60_000);
  const plan: Array<[string, string, string, number, number, string, number]> = [
    // name, channel, recording, start, seconds, status, confidence
    ['a1', 'demo-radio', 'rec-a', day(3, 8, 15), 185, 'pending', 0.97],
    ['a2', 'demo-radio', 'rec-a', day(3, 18, 40), 181, 'confirmed', 0.99],
    ['b1', 'demo-radio', 'rec-b', day(3, 9, 2), 95, 'pending', 0.62],
    ['b2', 'demo-tv', 'rec-b', day(4, 21, 5), 60, 'confirmed', 0.93],
    ['c1', 'demo-tv', 'rec-c', day(5, 7, 30), 210, 'confirmed', 0.88],
    ['c2', 'demo-radio', 'rec-c', day(6, 12, 0), 30, 'rejected', 0.51],
    ['x1', 'other-fm', 'rec-x', day(3, 10, 0), 170, 'confirmed', 0.95],
    ['x2', 'other-fm', 'rec-a', day(4, 11, 0), 120, 'pending', 0.9],
  ];
  const det: Record<string, string> = {};
  let freq = 330;
  for (const [name, channel, recording, start, sec, status, confidence] of plan) {
    const id = `det-${name}`;
    const clip = join(evidenceDir, channel, '2026-02', `${id}.mp3`);
    makeClip(clip, (freq += 55));
    await store.db
      .insertInto('detections')
      .values({
        id,
        channel_id: channel,
        recording_id: recording,
        start_ms: start,
        end_ms: start + sec * 1000,
        ref_start_sec: 0,
        ref_end_sec: sec,
        speed: 1,
        confidence,
        status,
        use_type: null,
        evidence_path: clip,
        evidence_start_ms: start - 2000,
        created_at_ms: start + sec * 1000 + 30_000,
      })
      .execute();
    det[name] = id;
  }
  await store.db
    .insertInto('monitoring_gaps')
    .values({
      id: 'gap-1',
      channel_id: 'demo-radio',
      start_ms: day(3, 12, 0),
      end_ms: day(3, 12, 20),
      reason: 'source_down',
      detail: 'connection refused',
      created_at_ms: day(3, 12, 20),
    })
    .execute();
  await store.db
    .insertInto('channel_state')
    .values({
      channel_id: 'demo-radio',
      state: 'listening',
      state_since_ms: NOW_MS - 3600_000,
      last_audio_ms: NOW_MS - 1000,
      heartbeat_ms: NOW_MS - 2000,
      first_started_ms: day(1, 0, 0),
      source_index: 0,
      source_url: 'http://radio.example/live.mp3',
      detail: null,
      cursor: null,
    })
    .execute();

  const config: Partial<ApiConfig> = { scryptN: 2 ** 12, secureCookies: false, ...opts.config };
  const { Accounts } = await import('../../src/api/index.js');
  const accounts = new Accounts(store.db, { N: config.scryptN!, r: 8, p: 1 }, 10, now);
  const userIds = {} as Record<UserName, string>;
  for (const [name, u] of Object.entries(USERS) as Array<[UserName, (typeof USERS)[UserName]]>) {
    const created = await accounts.createUser({ ...u, displayName: `${name} (test)`, password: PASSWORD });
    userIds[name] = created.id;
  }
  const indexDir = join(dir, 'index');
  const index = ReferenceIndex.open(indexDir);
  return {
    dir,
    store,
    index,
    evidenceDir,
    uploadDir: join(dir, 'uploads'),
    det,
    userIds,
    config,
    now,
    close: async () => {
      index.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// --- the browser ---------------------------------------------------------------------------------

export const CHROMIUM = '/usr/bin/chromium';
export const SCREENSHOT_DIR = join(REPO_ROOT, 'test', 'screenshots');

/** Installs chromium with apt (through the project's setup script) when it is missing. */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  execFileSync('bash', [join(REPO_ROOT, 'scripts', 'setup-system.sh')], {
    stdio: 'inherit',
    env: { ...process.env, TYNDAU_WITH_BROWSER: '1' },
  });
  if (!existsSync(CHROMIUM)) throw new Error(`chromium is still missing at ${CHROMIUM} after apt-get`);
}

export async function launchChromium() {
  ensureChromium();
  const { chromium } = await import('playwright-core');
  // playwright gives each launch a fresh temporary profile of its own
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  return {
    browser,
    close: () => browser.close(),
  };
}
