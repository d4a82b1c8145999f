import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchReport, StageSpeed } from './bench.js';
import { renderRecallChart, type RecallBar } from './chart.js';
import { RECALL_TARGETS } from './targets.js';

const pct = (x: number | null): string => (x === null ? '–' : `${(x * 100).toFixed(1)} %`);
const sec = (x: number | null): string => (x === null ? '–' : x.toFixed(2));
const mb = (b: number): string => `${(b / 1048576).toFixed(1)} MB`;
const xrt = (x: number | null): string => (x === null ? '–' : `${x.toFixed(0)}x`);
const hours = (s: number): string => (s / 3600).toFixed(2);
const ci = (c: [number, number] | null): string =>
  c === null ? '' : ` (${(c[0] * 100).toFixed(0)}–${(c[1] * 100).toFixed(0)})`;

/** The markdown report: targets with pass/miss, scores per condition, speed, index, scaling, memory. */
export function renderMarkdown(r: BenchReport): string {
  const L: string[] = [];
  L.push(`# Tyndau recognition benchmark — ${r.preset}, seed ${r.seed}`);
  L.push('');
  L.push(
    `${r.generatedAt} · commit ${r.git.commit?.slice(0, 10) ?? 'unknown'}${r.git.engineDirty ? ' (src/ has uncommitted changes)' : ''} · ` +
      `${r.machine.cpuModel}, ${r.machine.cores} cores · Node ${r.machine.node}`,
  );
  L.push('');
  L.push(
    `${r.presetDescription}. Catalogue: ${r.corpus.registered} registered recordings (${hours(r.corpus.referenceSec)} h) and ` +
      `${r.corpus.unregistered} unregistered tracks from ${r.corpus.sources.join(', ')}. ` +
      `Broadcast: ${r.broadcasts.files.length} files, ${hours(r.broadcasts.totalSec)} h.`,
  );
  L.push('');
  L.push('## Targets');
  L.push('');
  L.push('| measure | target | measured | result |');
  L.push('|---|---|---|---|');
  for (const t of r.targets) {
    const result = t.pass === null ? 'not measured' : t.pass ? '**pass**' : `**miss** (${t.shortBy})`;
    L.push(`| ${t.measure} | ${t.target} | ${t.value ?? '–'} | ${result} |`);
  }
  L.push('');
  if (r.preset !== 'standard') L.push(`Targets are judged on the standard preset; this is ${r.preset}.`, '');

  L.push('## Scores by condition');
  L.push('');
  L.push(
    '| condition | files | hours | airings | found | segment recall (95 % CI) | detections | precision | F1 | FP | FP/h | airtime recall | airtime precision | start err median / p90, s | end err median / p90, s |',
  );
  L.push('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  const rows = [
    ...Object.entries(r.conditions).map(([c, v]) => [c, v.score] as const),
    ['**overall**', r.overall] as const,
  ];
  for (const [c, s] of rows) {
    L.push(
      `| ${c} | ${s.files} | ${hours(s.audioSec)} | ${s.airings} | ${s.found} | ${pct(s.segmentRecall)}${ci(s.segmentRecallCi95)} | ${s.detections} | ` +
        `${pct(s.precision)} | ${pct(s.f1)} | ${s.falsePositives} | ${s.falsePositivesPerHour.toFixed(2)} | ${pct(s.airtime.recall)} | ` +
        `${pct(s.airtime.precision)} | ${sec(s.boundary.start.median)} / ${sec(s.boundary.start.p90)} | ` +
        `${sec(s.boundary.end.median)} / ${sec(s.boundary.end.p90)} |`,
    );
  }
  L.push('');
  L.push(
    `False positives on the conditions without registered music (${r.noMusic.conditions.join(', ')}): ` +
      `${r.noMusic.falsePositives} in ${hours(r.noMusic.audioSec)} h` +
      (r.noMusic.falsePositivesPerHour === null
        ? '.'
        : ` = ${r.noMusic.falsePositivesPerHour.toFixed(2)} per hour` +
          (r.noMusic.falsePositivesPerHourUpper95 === null
            ? '.'
            : `; with this much audio the 95 % upper bound of the rate is ` +
              `${r.noMusic.falsePositivesPerHourUpper95.toFixed(2)} per hour ` +
              `(showing <= 0.1 per hour needs about 30 h without a false positive).`)),
  );
  const k = r.overall.falsePositiveKinds;
  L.push(
    `All false positives: ${r.overall.falsePositives} (${k.misattributed} over another registered recording, ` +
      `${k.onUnregistered} over unregistered music, ${k.elsewhere} over speech, jingles or silence). ` +
      `Fragmented airings (found as several detections): ${r.overall.fragmented}. ` +
      `Detections of a related track over an airing it shares audio with (not counted as false positives): ${r.overall.sharedAudio}.`,
  );
  L.push('');
  const tags = Object.entries(r.overall.byTag).sort(([a], [b]) => a.localeCompare(b));
  if (tags.length > 0) {
    L.push(
      'Recall by kind of airing (all conditions): ' +
        tags.map(([t, v]) => `${t} ${pct(v.recall)} (${v.found}/${v.airings})`).join(', ') +
        '.',
    );
    L.push('');
  }

  const worst = r.overall.worstEdges.slice(0, 10);
  if (worst.length > 0) {
    L.push(
      `Edges off by more than 1 s: ${r.overall.worstEdges.length}` +
        `${r.overall.worstEdges.length >= 200 ? '+' : ''} (all in report.json, \`worstEdges\`); the worst ${worst.length} ` +
        `(detected minus truth, s): ` +
        worst
          .map(
            (e) => `${e.file} ${e.recording} ${e.edge} ${e.errorSec >= 0 ? '+' : ''}${e.errorSec.toFixed(2)}`,
          )
          .join('; ') +
        '.',
    );
    L.push('');
  }

  L.push('## Speed (one core; audio seconds per CPU second, ffmpeg children included)');
  L.push('');
  L.push('| stage | audio, h | CPU, s | wall, s | x real time per core |');
  L.push('|---|---|---|---|---|');
  const sp = r.speed;
  const row = (name: string, s: StageSpeed): void => {
    L.push(
      `| ${name} | ${hours(s.audioSec)} | ${s.cpuSec.toFixed(1)} | ${s.wallSec.toFixed(1)} | ${xrt(s.xRealtimePerCore)} |`,
    );
  };
  row(
    `enrolment (${sp.enrolment.recordings} recordings${sp.enrolment.reused ? `, ${sp.enrolment.reused} reused` : ''})`,
    sp.enrolment,
  );
  row('decode (ffmpeg to a sink)', sp.decode);
  row('fingerprint (extractPeaks)', sp.fingerprint);
  row('match (matchPeaks)', sp.match);
  L.push(`| decode + fingerprint + match | | | | ${xrt(sp.pipeline.xRealtimePerCore)} |`);
  row('matchFile end to end', sp.matchFile);
  L.push(`| decode + fingerprint + match at a 1,000-hour catalogue | | | | ${xrt(sp.pipelineAt1000h)} |`);
  L.push('');

  L.push('## Index');
  L.push('');
  const ix = r.index;
  L.push(
    `${ix.recordings} recordings, ${hours(ix.referenceSec)} h of reference audio, ${ix.postings} postings; ` +
      `RAM ${mb(ix.memoryBytes)} (${mb(ix.memoryBytesPerHour)} per hour), disk ${mb(ix.diskBytes)} (${mb(ix.diskBytesPerHour)} per hour).`,
  );
  if (r.scaling && r.scaling.length >= 2) {
    const a = r.scaling[0];
    const b = r.scaling[r.scaling.length - 1];
    const marginal = (b.memoryBytes - a.memoryBytes) / (b.catalogueHours - a.catalogueHours);
    L.push(
      `RAM grows by ${mb(marginal)} per added hour of (synthetic) reference audio; at ${b.catalogueHours.toFixed(0)} h the ` +
        `lookup holds ${mb(b.memoryBytes)} = ${mb(b.memoryBytes / b.catalogueHours)} per hour (the small real catalogue is dominated by fixed-size tables).`,
    );
  }
  if (Object.keys(r.corpus.aliases).length > 0) {
    L.push('');
    L.push(
      'Enrolment found duplicates (scored as the recording they duplicate): ' +
        Object.entries(r.corpus.aliases)
          .map(([a, b]) => `${a} → ${b}`)
          .join(', ') +
        '.',
    );
  }
  L.push('');

  if (r.scaling && r.scaling.length > 0) {
    L.push('## Scaling (the same query audio against a padded catalogue)');
    L.push('');
    L.push(
      '| catalogue | hours | postings | index RAM | match CPU per query second | x real time | cost vs 1x | recall on the query | FP |',
    );
    L.push('|---|---|---|---|---|---|---|---|---|');
    for (const p of r.scaling) {
      L.push(
        `| ${p.label} | ${p.catalogueHours.toFixed(1)} | ${p.postings} | ${mb(p.memoryBytes)} | ${p.costMsPerQuerySec.toFixed(2)} ms | ` +
          `${xrt(p.matchXRealtime)} | ${p.costRatio.toFixed(2)} | ${pct(p.recall)} | ${p.falsePositives} |`,
      );
    }
    L.push('');
    L.push(
      `Query: ${hours(r.scaling[0].querySec)} h of broadcast. Padding is synthetic postings (ReferenceIndex.padSynthetic).`,
    );
    const last = r.scaling[r.scaling.length - 1];
    if (last.matchFileXRealtime !== null && last.matchFileXRealtime !== undefined)
      L.push(
        `matchFile end to end on the same files at ${last.label} (decode, fingerprint, match and the spectrum checks; ` +
          `CPU with ffmpeg's): ${xrt(last.matchFileXRealtime)} real time.`,
      );
    L.push('');
  }

  L.push('## Memory');
  L.push('');
  L.push(
    `Peak RSS ${mb(r.memory.rssPeakBytes)} (sampled every 200 ms), VmHWM ${r.memory.vmHwmBytes === null ? '–' : mb(r.memory.vmHwmBytes)}. ` +
      'By phase: ' +
      Object.entries(r.memory.rssPeakBytesByPhase)
        .map(([p, b]) => `${p} ${mb(b)}`)
        .join(', ') +
      '.',
  );
  L.push('');
  L.push(
    'Wall time by phase: ' +
      Object.entries(r.phasesWallSec)
        .map(([p, s]) => `${p} ${s.toFixed(1)} s`)
        .join(', ') +
      '.',
  );
  if (r.calibration.length > 0) {
    L.push('');
    L.push('## Confidence calibration');
    L.push('');
    L.push(
      'Every file matched again with no threshold; detections binned by confidence. Real: an airing of the recording (or of a related one) at that time.',
    );
    L.push('');
    L.push('| confidence | detections | real | false | share real | false on unregistered music or speech |');
    L.push('|---|---|---|---|---|---|');
    for (const b of r.calibration) {
      const share = b.detections > 0 ? (b.real / b.detections).toFixed(2) : '–';
      L.push(
        `| ${b.from.toFixed(1)}–${b.to.toFixed(1)} | ${b.detections} | ${b.real} | ${b.falsePositives} | ${share} | ${b.onNoMusic} |`,
      );
    }
  }
  if (r.consistency.length > 0) {
    L.push('');
    L.push(
      'matchFile and matchPeaks disagreed on the number of detections in: ' +
        r.consistency.map((c) => `${c.file} (${c.matchFile} vs ${c.matchPeaks})`).join(', ') +
        '.',
    );
  }
  L.push('');
  L.push('![segment recall by condition](recall.png)');
  L.push('');
  return L.join('\n');
}

export function recallBars(r: BenchReport): RecallBar[] {
  return Object.entries(r.conditions).map(([condition, v]) => ({
    condition,
    recall: v.score.segmentRecall,
    target: RECALL_TARGETS[condition] ?? null,
    falsePositivesPerHour: v.score.falsePositivesPerHour,
  }));
}

/** Writes report.json, report.md and recall.png into `outDir`; returns their paths. */
export async function writeReport(
  r: BenchReport,
  outDir: string,
): Promise<{ json: string; md: string; png: string }> {
  mkdirSync(outDir, { recursive: true });
  const json = join(outDir, 'report.json');
  const md = join(outDir, 'report.md');
  const png = join(outDir, 'recall.png');
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(md, renderMarkdown(r));
  const chart = await renderRecallChart(
    recallBars(r),
    `Segment recall by condition — ${r.preset}, seed ${r.seed}`,
  );
  writeFileSync(png, chart.png);
  return { json, md, png };
}
