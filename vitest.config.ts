import { defineConfig } from 'vitest/config';

/**
 * Live-stream tests play broadcasts at 8x real time and check airtimes to the second: when other test
 * files load both cores beside them, the monitor falls behind and they flake. They run after the rest,
 * one file at a time.
 */
const LIVE = ['test/monitor-live.test.ts', 'test/monitor-capture.test.ts', 'test/monitor-hls-pdt.test.ts'];

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
