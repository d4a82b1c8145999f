import { defineConfig } from 'vitest/config';

/**
 * Tests that run against the clock: live streams at 8x real time checked to the second, and the
 * distributed test waiting for BullMQ to notice a killed worker's stalled batch. When other test files
 * load both cores beside them they fall behind and flake, so they run after the rest, one file at a time.
 */
const LIVE = [
  'test/monitor-live.test.ts',
  'test/monitor-capture.test.ts',
  'test/monitor-hls-pdt.test.ts',
  'test/distributed.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Audio tests spawn ffmpeg; two cores, so keep parallelism modest.
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'main', include: ['test/**/*.test.ts'], exclude: LIVE, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: { name: 'live', include: LIVE, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
