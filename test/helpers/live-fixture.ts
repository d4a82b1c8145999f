import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReferenceIndex, enrollFile } from '../../src/index/index.js';
import { MonitorRepository } from '../../src/monitor/index.js';
import { migrateToLatest, openStore, type Store } from '../../src/store/index.js';
import { LIVE_TEST_PLAN, prepareBroadcast, type PreparedBroadcast } from './stream-server.js';

/** What the live monitor tests share: the test broadcast, its songs enrolled, a migrated SQLite store. */
export interface LiveFixture {
  broadcast: PreparedBroadcast;
  /** A fresh temporary folder of this test file. */
  dir: string;
  indexDir: string;
  index: ReferenceIndex;
  store: Store;
  repo: MonitorRepository;
  close(): Promise<void>;
}

export async function openLiveFixture(name: string): Promise<LiveFixture> {
  const broadcast = prepareBroadcast(
    join(tmpdir(), 'tyndau-test-cache'),
    LIVE_TEST_PLAN.map((p) => ({ ...p })),
  );
  const dir = mkdtempSync(join(tmpdir(), `tyndau-${name}-`));
  const indexDir = join(dir, 'fingerprints');
  const index = ReferenceIndex.open(indexDir);
  for (const [id, path] of broadcast.songs) await enrollFile(index, path, { id });
  const store = openStore({ url: `sqlite:${join(dir, 'tyndau.db')}` });
  await migrateToLatest(store);
  const repo = new MonitorRepository(store.db);
  return {
    broadcast,
    dir,
    indexDir,
    index,
    store,
    repo,
    close: async () => {
      await store.close();
      index.close();
    },
  };
}
