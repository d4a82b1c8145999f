/**
 * `npm run bench` — the recognition benchmark (docs/benchmarks.md).
 *
 *   npm run bench -- --preset smoke
 *   npm run bench -- --preset standard --seed 7 --conditions radio,tv-snr0
 *   npm run bench -- --music ~/my-music --no-scaling
 */
import { Command, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { CONDITION_IDS, type ConditionId } from '../sim/conditions.js';
import { runBench } from './bench.js';
import { tyndauEngine } from './engine.js';
import { presetByName } from './presets.js';
import { writeReport } from './report.js';

function parseConditions(value: string): ConditionId[] {
  const list = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = list.filter((c) => !(CONDITION_IDS as readonly string[]).includes(c));
  if (unknown.length > 0 || list.length === 0) {
    throw new InvalidArgumentError(
      `unknown condition(s) ${unknown.join(', ') || '(none given)'}; choose from ${CONDITION_IDS.join(', ')}`,
    );
  }
  return list as ConditionId[];
}

function parsePreset(value: string): string {
  try {
    presetByName(value);
    return value;
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

const program = new Command()
  .name('bench')
  .description(
    'Tyndau recognition benchmark: simulated broadcast days with ground truth, scores, speed, scaling',
  )
  .option(
    '--preset <name>',
    'smoke (minutes, CI), standard (hours; targets judged here) or full (a day+)',
    parsePreset,
    'smoke',
  )
  .option('--seed <seed>', 'seed of the corpus split and the broadcast days', '1')
  .option('--music <dir>', 'use this folder of music instead of the Debian game-music packages')
  .option(
    '--index <dir>',
    'use and keep this index (enrol only what is missing); default: a fresh index every run',
  )
  .option('--conditions <list>', `comma-separated subset of: ${CONDITION_IDS.join(', ')}`, parseConditions)
  .option('--no-scaling', 'skip the 1x/10x/100x/1,000-hour catalogue scaling measurement')
  .option('--out <dir>', 'where report.json, report.md and recall.png go', 'bench/out')
  .option('--cache <dir>', 'decoded corpus, rendered broadcasts, speech and indexes', 'bench/cache')
  .option('--no-progress', 'no progress bars');

program.parse();
const o = program.opts<{
  preset: string;
  seed: string;
  music?: string;
  index?: string;
  conditions?: ConditionId[];
  scaling: boolean;
  out: string;
  cache: string;
  progress: boolean;
}>();

const started = Date.now();
const log = (line: string): void => {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(7);
  process.stderr.write(`[bench ${t}s] ${line}\n`);
};

try {
  const report = await runBench(
    {
      preset: presetByName(o.preset),
      seed: o.seed,
      cacheDir: resolve(o.cache),
      outDir: resolve(o.out),
      musicDir: o.music,
      indexDir: o.index ? resolve(o.index) : undefined,
      conditions: o.conditions,
      scaling: o.scaling,
      progress: o.progress,
      log,
    },
    tyndauEngine,
  );
  const paths = await writeReport(report, resolve(o.out));
  log(`report: ${paths.md}, ${paths.json}, ${paths.png}`);
  for (const t of report.targets) {
    const mark = t.pass === null ? '  -  ' : t.pass ? ' pass' : ' MISS';
    log(`${mark} ${t.measure}: ${t.value ?? 'not measured'} (target ${t.target})`);
  }
} catch (e) {
  process.stderr.write(`bench: ${(e as Error).stack ?? String(e)}\n`);
  process.exitCode = 1;
}
