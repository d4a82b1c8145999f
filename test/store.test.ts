import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator } from 'kysely';
import { migrateToLatest, openStore } from '../src/store/index.js';
import { migrations } from '../src/store/migrations/index.js';

describe('store', () => {
  it('migrates a real SQLite file and round-trips a detection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-store-'));
    const store = openStore({ url: `sqlite:${join(dir, 'tyndau.db')}` });
    await migrateToLatest(store);
    await migrateToLatest(store); // idempotent
    await store.db
      .insertInto('detections')
      .values({
        id: 'd1',
        channel_id: 'ch1',
        recording_id: 'rec1',
        start_ms: 1_764_000_000_000,
        end_ms: 1_764_000_180_000,
        ref_start_sec: 0,
        ref_end_sec: 180,
        speed: 1.02,
        confidence: 0.99,
        status: 'pending',
        use_type: null,
        evidence_path: null,
        created_at_ms: 1_764_000_200_000,
      })
      .execute();
    const row = await store.db.selectFrom('detections').selectAll().executeTakeFirstOrThrow();
    expect(row.end_ms - row.start_ms).toBe(180_000);
    await store.close();
  });

  it('takes a migration that landed after higher-numbered ones were applied', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tyndau-store-'));
    const store = openStore({ url: `sqlite:${join(dir, 'old.db')}` });
    const names = Object.keys(migrations).sort();
    expect(names.length).toBeGreaterThan(2);
    const skipped = names[1];
    const partial = Object.fromEntries(Object.entries(migrations).filter(([n]) => n !== skipped));
    const { error } = await new Migrator({
      db: store.db,
      provider: { getMigrations: async () => partial },
    }).migrateToLatest();
    expect(error).toBeUndefined();
    await migrateToLatest(store);
    const applied = (
      await new Migrator({
        db: store.db,
        provider: { getMigrations: async () => migrations },
      }).getMigrations()
    )
      .filter((m) => m.executedAt)
      .map((m) => m.name);
    expect(applied).toContain(skipped);
    expect(store.sqlite?.open).toBe(true);
    await store.close();
  });

  it('names a bad store URL', () => {
    expect(() => openStore({ url: 'mysql://x' })).toThrow(/sqlite: or postgres:/);
  });
});
