import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runBench, type BenchReport } from '../scripts/bench/bench.js';
import { tyndauEngine } from '../scripts/bench/engine.js';
import { PRESETS } from '../scripts/bench/presets.js';
import { writeReport } from '../scripts/bench/report.js';
import { CONDITION_IDS, NO_MUSIC_CONDITIONS } from '../scripts/sim/conditions.js';

// The smoke preset end to end with the real engine: corpus (Debian game music, installed if missing),
// rendered broadcast days (cached in bench/cache), a fresh index, recognition, scores, scaling, report.
// It checks that the harness produced a complete, coherent report from real engine output — not that the
// engine meets its targets (that is the standard preset's job, run by hand: npm run bench -- --preset standard).
const work = mkdtempSync(join(tmpdir(), 'tyndau-bench-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('npm run bench -- --preset smoke', () => {
  let report: BenchReport;

  it('runs the smoke preset against the real engine and writes report.json, report.md and recall.png', async () => {
    report = await runBench(
      {
        preset: PRESETS.smoke,
        seed: '1',
        cacheDir: resolve('bench/cache'),
        outDir: join(work, 'out'),
        indexDir: join(work, 'index'),
        scaling: true,
        progress: false,
        log: () => undefined,
      },
      tyndauEngine,
    );
    const paths = await writeReport(report, join(work, 'out'));
    const json = JSON.parse(readFileSync(paths.json, 'utf8')) as BenchReport;
    expect(json.preset).toBe('smoke');
    expect(Object.keys(json.conditions).sort()).toEqual([...CONDITION_IDS].sort());
    const md = readFileSync(paths.md, 'utf8');
    expect(md).toContain('## Targets');
    expect(md).toContain('## Confidence calibration');
    for (const c of CONDITION_IDS) expect(md).toContain(`| ${c} |`);
    const png = readFileSync(paths.png);
    expect(png.subarray(1, 4).toString('ascii')).toBe('PNG');
    expect(png.length).toBeGreaterThan(10_000);
  }, 600_000);

  it('scores every condition from the detections the engine made', () => {
    expect(report.index.recordings).toBe(
      report.corpus.registered - Object.keys(report.corpus.aliases).length,
    );
    let detections = 0;
    for (const c of CONDITION_IDS) {
      const s = report.conditions[c].score;
      expect(s.files, c).toBe(PRESETS.smoke.files[c].length);
      expect(s.audioSec, c).toBeCloseTo(
        PRESETS.smoke.files[c].reduce((a, b) => a + b, 0),
        0,
      );
      expect(s.correct + s.falsePositives, c).toBe(s.detections);
      expect(s.found, c).toBeLessThanOrEqual(s.airings);
      if (NO_MUSIC_CONDITIONS.includes(c)) {
        expect(s.airings, c).toBe(0);
        expect(s.segmentRecall, c).toBeNull();
      } else {
        expect(s.airings, c).toBeGreaterThan(0);
        expect(s.segmentRecall, c).toBe(s.found / s.airings);
      }
      detections += s.detections;
    }
    // A recogniser that found nothing, or a harness that dropped the detections, fails here.
    expect(detections).toBeGreaterThan(0);
    expect(report.overall.found).toBeGreaterThan(0);
    expect(report.overall.detections).toBe(detections);
    expect(report.overall.boundary.all.n).toBe(2 * report.overall.found);
  });

  it('calibrates the confidence: every detection with no threshold, binned and scored', () => {
    const bins = report.calibration;
    expect(bins.map((b) => b.from)).toEqual([0, 0.1, 0.3, 0.5, 0.7, 0.9]);
    expect(bins[bins.length - 1].to).toBe(1);
    for (const [i, b] of bins.entries()) {
      if (i > 0) expect(b.from).toBe(bins[i - 1].to);
      expect(b.onNoMusic).toBeLessThanOrEqual(b.falsePositives);
    }
    // with no threshold there are at least as many detections as the scored run kept
    const all = bins.reduce((s, b) => s + b.detections, 0);
    expect(all).toBeGreaterThanOrEqual(report.overall.detections);
    const confident = bins.filter((b) => b.from >= 0.5).reduce((s, b) => s + b.real, 0);
    expect(confident).toBeGreaterThan(0);
  });

  it('measures speed per stage, the index, memory and scaling', () => {
    const sp = report.speed;
    for (const stage of [sp.enrolment, sp.decode, sp.fingerprint, sp.match, sp.matchFile]) {
      expect(stage.audioSec).toBeGreaterThan(0);
      expect(stage.cpuSec).toBeGreaterThan(0);
      expect(stage.xRealtimePerCore).toBeGreaterThan(0);
    }
    expect(sp.decode.audioSec).toBeCloseTo(report.broadcasts.totalSec, 6);
    expect(report.index.postings).toBeGreaterThan(0);
    expect(report.index.memoryBytesPerHour).toBeGreaterThan(0);
    expect(report.memory.rssPeakBytes).toBeGreaterThan(0);
    expect(report.scaling?.map((p) => p.label)).toEqual(['1x', '10x', '100x']);
    const [x1, , x100] = report.scaling!;
    expect(x100.catalogueHours / x1.catalogueHours).toBeCloseTo(100, 6);
    expect(x100.postings).toBeGreaterThan(50 * x1.postings);
    expect(report.targets.map((t) => t.id)).toContain('recall:radio');
    expect(report.targets.find((t) => t.id === 'pipeline-speed')?.pass).toBeNull(); // no 1,000-hour point in smoke
    expect(existsSync(join(work, 'index'))).toBe(true);
  });
});
