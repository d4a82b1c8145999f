// The monitor's store adapter on a real SQLite file and on PostgreSQL, channel status arithmetic,
// evidence retention on real files, and the channels CLI.
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main } from '../src/cli/main.js';
import { CaptureNode } from '../src/distributed/capture-node.js';
import { Centre } from '../src/distributed/centre.js';
import { distributedConfig } from '../src/distributed/config.js';
import { DistributedRepository } from '../src/distributed/repository.js';
import { emptyStitchState } from '../src/distributed/stitcher.js';
import {
  GapTracker,
  Monitor,
  MonitorRepository,
  applyRetention,
  channelStatus,
  detectionId,
  localDayBounds,
  monitorConfig,
  validateChannel,
  type AiredDetection,
} from '../src/monitor/index.js';
import { migrateToLatest, openStore, type Store } from '../src/store/index.js';

const PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

function repositoryContract(name: string, open: () => Promise<{ store: Store; done: () => Promise<void> }>) {
  describe(`monitor repository on ${name}`, () => {
    let store: Store;
    let done: () => Promise<void>;
    let repo: MonitorRepository;
    beforeAll(async () => {
      ({ store, done } = await open());
      await migrateToLatest(store);
      repo = new MonitorRepository(store.db);
    });
    afterAll(async () => {
      await done?.();
    });

    it('keeps channels with their sources in priority order', async () => {
      const ch = validateChannel(
        {
          id: 'fm1',
          name: 'Radio 1',
          kind: 'radio',
          broadcaster: 'b1',
          sources: ['http://a.kz/live', 'hls+https://b.kz/x'],
        },
        1000,
      );
      await repo.saveChannel(ch);
      await repo.saveChannel({
        ...validateChannel({ id: 'tv1', kind: 'tv', sources: ['udp://239.0.0.1:1234'] }, 2000),
      });
      expect(await repo.getChannel('fm1')).toEqual(ch);
      await repo.saveChannel({ ...ch, name: 'Radio One' });
      expect((await repo.getChannel('fm1'))?.name).toBe('Radio One');
      await repo.saveChannel({ ...ch, latencySec: 12.25 });
      expect((await repo.getChannel('fm1'))?.latencySec).toBe(12.25);
      await repo.saveChannel(ch);
      expect(await repo.setEnabled('tv1', false)).toBe(true);
      expect((await repo.listChannels({ enabledOnly: true })).map((c) => c.id)).toEqual(['fm1']);
      expect((await repo.listChannels()).map((c) => c.id)).toEqual(['fm1', 'tv1']);
      expect(await repo.removeChannel('tv1')).toBe(true);
      expect(await repo.removeChannel('tv1')).toBe(false);
      expect(await repo.getChannel('nope')).toBeNull();
    });

    it('stores gaps open, closes them, forgets the too short', async () => {
      const g = new GapTracker('fm1', 500);
      await repo.applyGapChanges(g.begin(10_000, 'source_down', 'refused'), 1);
      expect(await repo.openGap('fm1')).toMatchObject({
        startMs: 10_000,
        endMs: null,
        reason: 'source_down',
      });
      await repo.applyGapChanges(g.end(25_000), 2);
      expect(await repo.openGap('fm1')).toBeNull();
      await repo.applyGapChanges(g.begin(30_000, 'silence'), 3);
      await repo.applyGapChanges(g.end(30_100), 4);
      await repo.applyGapChanges(g.record(40_000, 42_000, 'discontinuity'), 5);
      const gaps = await repo.gaps('fm1', 0, 100_000);
      expect(gaps.map((x) => [x.reason, x.startMs, x.endMs])).toEqual([
        ['source_down', 10_000, 25_000],
        ['discontinuity', 40_000, 42_000],
      ]);
      expect(await repo.gaps('fm1', 26_000, 39_000)).toEqual([]);
    });

    it('writes a detection once however often the same airing is written, and clears its pending row', async () => {
      const det: AiredDetection = {
        id: detectionId('fm1', 'rec-1', 100_000),
        channelId: 'fm1',
        recordingId: 'rec-1',
        startMs: 100_000,
        endMs: 280_000,
        refStartSec: 0,
        refEndSec: 180,
        speed: 1.02,
        confidence: 0.97,
      };
      // two candidates with one id (same recording, same start) keep the more confident, not a key error
      await repo.savePending(
        'fm1',
        [
          { ...det, endMs: 150_000, confidence: 0.6, state: 'open' },
          { ...det, endMs: 150_000, state: 'open' },
        ],
        1,
      );
      expect((await repo.pending('fm1')).map((p) => p.confidence)).toEqual([0.97]);
      const id1 = await repo.writeFinal(det, { path: 'e/1.mp3', startMs: 95_000 }, 5000, 2);
      expect(await repo.pending('fm1')).toEqual([]);
      // a replay finds it again with a start 1.2 s off: same row, no evidence lost
      const again = { ...det, id: detectionId('fm1', 'rec-1', 101_200), startMs: 101_200, endMs: 281_000 };
      const id2 = await repo.writeFinal(again, null, 5000, 3);
      expect(id2).toBe(id1);
      const rows = await store.db
        .selectFrom('detections')
        .selectAll()
        .where('channel_id', '=', 'fm1')
        .execute();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        start_ms: 100_000,
        end_ms: 281_000,
        evidence_path: 'e/1.mp3',
        evidence_start_ms: 95_000,
      });
      // a later airing of the same recording is a new detection
      await repo.writeFinal(
        { ...det, id: detectionId('fm1', 'rec-1', 900_000), startMs: 900_000, endMs: 1_000_000 },
        null,
        5000,
        4,
      );
      expect(await repo.countDetections('fm1', 0, 2_000_000)).toBe(2);
      await repo.clearEvidence(['e/1.mp3']);
      const cleared = await store.db
        .selectFrom('detections')
        .select('evidence_path')
        .where('id', '=', id1)
        .executeTakeFirst();
      expect(cleared?.evidence_path).toBeNull();
    });

    it('derives a channel status: uptime from gaps, detections of the local day, a dead monitor', async () => {
      const ch = (await repo.getChannel('fm1'))!;
      const hour = 3600_000;
      const now = Date.UTC(2025, 5, 1, 12, 0, 0);
      await repo.saveState({
        channel_id: 'fm1',
        state: 'listening',
        state_since_ms: now - 20 * hour,
        last_audio_ms: now - 1000,
        heartbeat_ms: now - 1000,
        first_started_ms: now - 20 * hour,
        source_index: 0,
        source_url: 'http://a.kz/live',
        detail: null,
        cursor: null,
      });
      const g = new GapTracker('fm1', 500);
      await repo.applyGapChanges(g.record(now - 2 * hour, now - hour, 'source_down'), now);
      const [dayStart] = localDayBounds(ch.timeZone, now);
      const det = (start: number): AiredDetection => ({
        id: detectionId('fm1', 'rec-2', start),
        channelId: 'fm1',
        recordingId: 'rec-2',
        startMs: start,
        endMs: start + 60_000,
        refStartSec: 0,
        refEndSec: 60,
        speed: 1,
        confidence: 0.9,
      });
      await repo.writeFinal(det(dayStart + hour), null, 5000, now);
      await repo.writeFinal(det(dayStart - hour), null, 5000, now); // yesterday, local time
      await repo.savePending('fm1', [{ ...det(now - 30_000), endMs: now, state: 'open' }], now);
      const opts = { uptimeWindowMs: 24 * hour, heartbeatStaleMs: 30_000 };
      const s = await channelStatus(repo, ch, now, opts);
      expect(s).toMatchObject({
        state: 'listening',
        detectionsToday: 1,
        currentRecordings: ['rec-2'],
        heldDetections: 0,
      });
      // monitored for 20 h, one hour of it unheard
      expect(s.uptimeRatio).toBeCloseTo(19 / 20, 9);
      // the monitor dies: no heartbeat for 2 hours counts as not heard
      const later = await channelStatus(repo, ch, now + 2 * hour, opts);
      expect(later.state).toBe('not_running');
      expect(later.uptimeRatio).toBeCloseTo(1 - (3 * hour + 1000) / (22 * hour), 9);
    });
  });
}

repositoryContract('SQLite', async () => {
  const store = openStore({
    url: `sqlite:${join(mkdtempSync(join(tmpdir(), 'tyndau-monitor-store-')), 'tyndau.db')}`,
  });
  return { store, done: () => store.close() };
});

repositoryContract('PostgreSQL', async () => {
  const dbName = `tyndau_monitor_${process.pid}_${Date.now()}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const store = openStore({ url: `postgres://postgres@127.0.0.1:5432/${dbName}` });
  return {
    store,
    done: async () => {
      await store.close();
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
    },
  };
});

/**
 * A stored airing of 3 minutes starting at `startMs` with its 1000-byte clip on disk where the monitor
 * would write it (DIR/CHANNEL/DAY/ID.mp3), the file dated when the clip was finished.
 */
async function storedClip(
  repo: MonitorRepository,
  dir: string,
  channelId: string,
  recordingId: string,
  startMs: number,
): Promise<{ id: string; path: string }> {
  const id = detectionId(channelId, recordingId, startMs);
  const path = join(dir, channelId, new Date(startMs).toISOString().slice(0, 10), `${id}.mp3`);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, Buffer.alloc(1000));
  const t = new Date(startMs + 200_000);
  utimesSync(path, t, t);
  const det: AiredDetection = {
    id,
    channelId,
    recordingId,
    startMs,
    endMs: startMs + 180_000,
    refStartSec: 0,
    refEndSec: 180,
    speed: 1,
    confidence: 0.9,
  };
  await repo.writeFinal(det, { path, startMs: startMs - 5000 }, 5000, startMs + 200_000);
  return { id, path };
}

/** A usage dispute of a detection, open or resolved `resolvedDaysAgo` days before `now`. */
async function disputeOf(
  store: Store,
  id: string,
  detectionId: string,
  status: 'open' | 'accepted' | 'rejected',
  now: number,
): Promise<void> {
  const day = 86_400_000;
  await store.db
    .insertInto('usage_disputes')
    .values({
      id,
      licensee_id: 'B1',
      period: '2026-05',
      detection_id: detectionId,
      reason: 'not aired',
      opened_at_ms: now - 10 * day,
      status,
      resolved_at_ms: status === 'open' ? null : now - day,
      resolution: status === 'open' ? null : 'the airing is confirmed by the clip',
    })
    .execute();
}

describe('evidence retention on disk', () => {
  it('deletes clips by age and by total size, oldest first', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-evidence-'));
    const day = 86_400_000;
    const now = Date.now();
    const clip = (name: string, ageDays: number, bytes: number) => {
      const p = join(dir, 'fm1', '2025-06-01', name);
      mkdirSync(join(dir, 'fm1', '2025-06-01'), { recursive: true });
      writeFileSync(p, Buffer.alloc(bytes));
      const t = new Date(now - ageDays * day);
      utimesSync(p, t, t);
      return p;
    };
    const old = clip('old.mp3', 200, 1000);
    const mid = clip('mid.mp3', 10, 3000);
    const fresh = clip('fresh.mp3', 1, 3000);
    const part = clip('open.mp3.part', 300, 1000); // a clip still being written is never deleted
    const deleted = applyRetention(dir, { maxAgeMs: 180 * day, maxBytes: 4000 }, now);
    expect(deleted.sort()).toEqual([mid, old].sort());
    expect(existsSync(fresh)).toBe(true);
    expect(existsSync(part)).toBe(true);
  });

  it('keeps the clips of disputed detections, whatever their age and size, until the dispute is resolved', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tyndau-evidence-disputed-'));
    const dir = join(root, 'evidence');
    await withStore(join(root, 'tyndau.db'), async (store, repo) => {
      const day = 86_400_000;
      const now = Date.now();
      // five airings, 200 days old, with their 1000-byte clips on disk
      const ids: string[] = [];
      for (let i = 0; i < 5; i++)
        ids.push((await storedClip(repo, dir, 'fm1', `rec-${i}`, now - 200 * day + i * 600_000)).id);
      // the broadcaster disputed airings 0 and 1 (still open) and 2 (rejected: resolved); 3, 4 undisputed
      const dispute = (n: number, status: 'open' | 'rejected') =>
        disputeOf(store, `DSP-${n}`, ids[n], status, now);
      await dispute(0, 'open');
      await dispute(1, 'open');
      await dispute(2, 'rejected');
      const clipOf = async (n: number) =>
        (
          await store.db
            .selectFrom('detections')
            .select('evidence_path')
            .where('id', '=', ids[n])
            .executeTakeFirstOrThrow()
        ).evidence_path;
      const paths = await Promise.all(ids.map((_, n) => clipOf(n)));
      expect((await repo.disputedClipPaths()).sort()).toEqual([paths[0], paths[1]].sort());

      // the monitor's retention pass (it runs once at start): 180 days, and room for one clip only
      const runOnce = async () => {
        const monitor = new Monitor({
          store,
          channels: [],
          config: monitorConfig({ evidenceMaxAgeDays: 180, evidenceMaxBytes: 1000 }),
          createMatcher: null,
          evidenceDir: dir,
          http: null,
        });
        await monitor.start();
        await monitor.stop();
      };
      await runOnce();
      // the open disputes' clips stay (beyond both limits, and not counted against the size);
      // the resolved and the undisputed ones are deleted and their paths cleared
      expect(paths.map((p) => existsSync(p!))).toEqual([true, true, false, false, false]);
      expect(await Promise.all(ids.map((_, n) => clipOf(n)))).toEqual([paths[0], paths[1], null, null, null]);

      // one dispute is resolved (accepted): its clip ages out at the next pass like any other
      await store.db
        .updateTable('usage_disputes')
        .set({ status: 'accepted', resolved_at_ms: now, resolution: 'not aired' })
        .where('id', '=', 'DSP-0')
        .execute();
      await runOnce();
      expect(paths.map((p) => existsSync(p!))).toEqual([false, true, false, false, false]);
      expect(await clipOf(0)).toBeNull();
      expect(await clipOf(1)).toBe(paths[1]);
    });
  });
});

/** A migrated SQLite store at `path` and its monitor repository for `fn`, closed afterwards. */
async function withStore(
  path: string,
  fn: (store: Store, repo: MonitorRepository) => Promise<void>,
): Promise<void> {
  const store = openStore({ url: `sqlite:${path}` });
  try {
    await migrateToLatest(store);
    await fn(store, new MonitorRepository(store.db));
  } finally {
    await store.close();
  }
}

describe('evidence retention at the distributed centre', () => {
  it('ages out the clips capture nodes uploaded, as the monitor does, keeping a disputed one', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tyndau-centre-retention-'));
    const dir = join(root, 'centre-evidence');
    await withStore(join(root, 'tyndau.db'), async (store, repo) => {
      const day = 86_400_000;
      const now = Date.now();
      const clips: Array<{ id: string; path: string }> = [];
      for (const [i, ageDays] of [200, 200, 3].entries())
        clips.push(await storedClip(repo, dir, 'fm-d', `rec-${i}`, now - ageDays * day + i * 600_000));
      await disputeOf(store, 'DSP-C', clips[1].id, 'open', now);
      const centre = new Centre({
        redisUrl: 'redis://127.0.0.1:6379',
        prefix: `tyndau-test-retention-${process.pid}-${now}`,
        store,
        monitor: monitorConfig({ evidenceMaxAgeDays: 180 }),
        config: distributedConfig(),
        evidenceDir: dir,
        http: null,
      });
      await centre.start(); // the first pass runs at start
      await centre.stop();
      // the old undisputed clip is gone and its path cleared; the disputed and the recent ones stay
      expect(clips.map((c) => existsSync(c.path))).toEqual([false, true, true]);
      const paths = await store.db
        .selectFrom('detections')
        .select(['id', 'evidence_path'])
        .where('channel_id', '=', 'fm-d')
        .execute();
      const byId = new Map(paths.map((r) => [r.id, r.evidence_path]));
      expect(clips.map((c) => byId.get(c.id))).toEqual([null, clips[1].path, clips[2].path]);
    });
  });
});

describe('evidence retention at a capture node', () => {
  /** A node database with a 200-day-old and a 3-day-old clip, and the node started once over it. */
  async function nodeRun(uploadEvidence: number): Promise<boolean[]> {
    const root = mkdtempSync(join(tmpdir(), 'tyndau-node-retention-'));
    const spoolDir = join(root, 'spool');
    const evidenceDir = join(root, 'evidence');
    mkdirSync(spoolDir, { recursive: true });
    const day = 86_400_000;
    const now = Date.now();
    const paths: string[] = [];
    await withStore(join(spoolDir, 'node.db'), async (_store, repo) => {
      for (const [i, ageDays] of [200, 3].entries())
        paths.push((await storedClip(repo, evidenceDir, 'fm-n', `rec-${i}`, now - ageDays * day)).path);
    });
    const node = new CaptureNode({
      nodeId: 'node-r',
      // a channel that never yields audio: the node needs one, the test needs no capture
      channels: [validateChannel({ id: 'fm-n', sources: ['file:/dev/null'] }, now)],
      monitor: monitorConfig({ evidenceMaxAgeDays: 180 }),
      config: distributedConfig({ uploadEvidence }),
      redisUrl: 'redis://127.0.0.1:6379',
      prefix: `tyndau-test-node-retention-${process.pid}-${now}`,
      spoolDir,
      evidenceDir,
      http: null,
    });
    await node.start(); // the first pass runs at start
    await node.stop(0);
    return paths.map((p) => existsSync(p));
  }

  it('ages out local clips when they are uploaded to the centre (which keeps the copy of record)', async () => {
    expect(await nodeRun(1)).toEqual([false, true]);
  });

  it('keeps every local clip when they are not uploaded (disputes are known only at the centre)', async () => {
    expect(await nodeRun(0)).toEqual([true, true]);
  });
});

describe('channels CLI', () => {
  const db = `sqlite:${join(mkdtempSync(join(tmpdir(), 'tyndau-channels-cli-')), 'tyndau.db')}`;
  async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const o = vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
    const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    try {
      const code = await main([...argv, '--db', db]);
      return { code, out, err };
    } finally {
      o.mockRestore();
      e.mockRestore();
    }
  }

  it('adds, imports, lists, disables and reports channels, and names bad input', async () => {
    expect((await run('channels', 'list')).out).toMatch(/no channels/);
    const add = await run(
      'channels',
      'add',
      'fm1',
      '--name',
      'Radio 1',
      '--source',
      'http://a.kz/live',
      '--source',
      'http://b.kz/live',
    );
    expect(add.code).toBe(0);
    expect(add.out).toMatch(
      /added fm1 {2}Radio 1 {2}\[radio, Asia\/Almaty\]\n {4}1\. http:\/\/a\.kz\/live\n {4}2\. http:\/\/b\.kz\/live/,
    );
    const seed = join(mkdtempSync(join(tmpdir(), 'tyndau-seed-')), 'channels.json');
    writeFileSync(
      seed,
      JSON.stringify({
        channels: [{ id: 'tv1', name: 'TV 1', kind: 'tv', sources: ['udp://239.0.0.1:1234'] }],
      }),
    );
    expect((await run('channels', 'import', seed)).out).toMatch(/imported 1 channel from/);
    expect((await run('channels', 'disable', 'tv1')).out).toMatch(/tv1 disabled/);
    const list = JSON.parse((await run('channels', 'list', '--json')).out);
    expect(list.map((c: { id: string; enabled: boolean }) => [c.id, c.enabled])).toEqual([
      ['fm1', true],
      ['tv1', false],
    ]);
    const status = await run('channels', 'status');
    expect(status.out).toMatch(/^channel +state +last audio \(UTC\) +uptime 24h +today +now airing/);
    expect(status.out).toMatch(/fm1 +never_monitored/);
    expect(status.out).toMatch(/tv1 \(off\) +never_monitored/);
    expect((await run('channels', 'gaps', 'fm1')).out).toMatch(/no gaps in the last 24 h/);

    // in distributed mode the centre's cursor adds lag and batches per channel
    const store = openStore({ url: db });
    await new DistributedRepository(store.db).saveCursor({
      channelId: 'fm1',
      spoolId: 'spool-1',
      nextSeq: 42,
      session: null,
      nodeId: 'node-a',
      positionMs: Date.now() - 12_000,
      state: emptyStitchState(),
      batchesApplied: 41,
      batchesLost: 1,
      lastSealedAtMs: Date.now() - 10_000,
      updatedAtMs: Date.now(),
    });
    await store.close();
    const withDist = JSON.parse((await run('channels', 'status', '--json')).out);
    const fm1 = withDist.find((r: { channelId: string }) => r.channelId === 'fm1');
    expect(fm1.distributed).toMatchObject({ nextBatch: 42, applied: 41, lost: 1 });
    expect(fm1.distributed.lagSec).toBeGreaterThanOrEqual(11);
    expect(withDist.find((r: { channelId: string }) => r.channelId === 'tv1').distributed).toBeUndefined();
    expect((await run('channels', 'status')).out).toMatch(
      /distributed mode\n[\s\S]*fm1 +node-a +42 +1\d\.\d s +41 +1/,
    );

    const late = await run('channels', 'add', 'fm3', '--source', 'http://c.kz/live', '--latency', '4.5');
    expect(late.out).toMatch(/added fm3 {2}fm3 {2}\[radio, Asia\/Almaty, latency 4\.5 s\]/);
    expect(
      (await run('channels', 'add', 'fm3', '--source', 'http://c.kz/live', '--latency', 'soon')).err,
    ).toMatch(/latencySec must be a number of seconds from 0 to 600, got NaN/);
    expect((await run('channels', 'remove', 'fm3')).code).toBe(0);
    const bad = await run('channels', 'add', 'fm2', '--source', 'gopher://x');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unsupported scheme/);
    const noSource = await run('channels', 'add', 'fm2');
    expect(noSource.err).toMatch(/at least one source/);
    const unknown = await run('channels', 'enable', 'zz');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toMatch(/unknown channel "zz"/);
    writeFileSync(seed, '{"channels": [{"id": "x", "sources": ["http://a.kz"], "kind": "satellite"}]}');
    expect((await run('channels', 'import', seed)).err).toMatch(
      /channel 1 x: kind must be one of tv, radio, cable/,
    );
    writeFileSync(seed, '{not json');
    expect((await run('channels', 'import', seed)).err).toMatch(/cannot read JSON/);
    expect((await run('monitor', '--channel', 'zz')).err).toMatch(/unknown channel "zz"/);
    const noIndex = await run(
      'monitor',
      '--channel',
      'fm1',
      '--index',
      join(tmpdir(), 'tyndau-no-such-index'),
      '--no-http',
    );
    expect(noIndex.code).toBe(2);
    expect(noIndex.err).toMatch(/no reference index at .*tyndau-no-such-index \(enrol recordings/);
    expect((await run('monitor', '--config', '{"stallTimeoutMs": -1}')).err).toMatch(
      /stallTimeoutMs must not be negative/,
    );
  });
});
