import { Resvg } from '@resvg/resvg-js';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface RecallBar {
  condition: string;
  /** Segment recall in 0..1 (null: nothing registered to find, e.g. speech). */
  recall: number | null;
  /** Target recall in 0..1, when the issue sets one for this condition. */
  target: number | null;
  falsePositivesPerHour: number;
}

/** The vega-lite spec of the "recall by condition" chart: bars, target ticks, FP/h labels. */
export function recallChartSpec(bars: readonly RecallBar[], title: string): TopLevelSpec {
  const values = bars.map((b) => ({
    condition: b.condition,
    recall: b.recall === null ? 0 : Math.round(b.recall * 1000) / 10,
    label:
      b.recall === null
        ? `nothing registered to find; FP/h ${b.falsePositivesPerHour.toFixed(2)}`
        : `${(b.recall * 100).toFixed(1)} %`,
    target: b.target === null ? null : b.target * 100,
    status:
      b.recall === null
        ? 'no registered music'
        : b.target === null
          ? 'no target'
          : b.recall >= b.target
            ? 'meets target'
            : 'misses target',
  }));
  const order = bars.map((b) => b.condition);
  const y = {
    field: 'condition',
    type: 'nominal',
    sort: order,
    title: null,
    axis: { labelFontSize: 12 },
  } as const;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: title,
      fontSize: 15,
      subtitle: 'black tick: the target on the standard preset',
      subtitleFontSize: 11,
    },
    width: 520,
    height: { step: 26 },
    background: 'white',
    data: { values },
    layer: [
      {
        mark: { type: 'bar', height: { band: 0.7 } },
        encoding: {
          y,
          x: {
            field: 'recall',
            type: 'quantitative',
            title: 'segment recall, %',
            scale: { domain: [0, 100] },
          },
          color: {
            field: 'status',
            type: 'nominal',
            title: null,
            scale: {
              domain: ['meets target', 'misses target', 'no target', 'no registered music'],
              range: ['#2e7d32', '#c62828', '#607d8b', '#b0bec5'],
            },
            legend: { orient: 'bottom', labelFontSize: 11, labelLimit: 220, columns: 2 },
          },
        },
      },
      {
        mark: { type: 'tick', color: 'black', thickness: 3, size: 22 },
        transform: [{ filter: 'datum.target != null' }],
        encoding: { y, x: { field: 'target', type: 'quantitative' } },
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: { y, x: { value: 4 }, text: { field: 'label' }, color: { value: 'white' } },
        transform: [{ filter: 'datum.recall >= 25' }],
      },
      {
        mark: { type: 'text', align: 'left', dx: 4, fontSize: 11 },
        encoding: { y, x: { field: 'recall', type: 'quantitative' }, text: { field: 'label' } },
        transform: [{ filter: 'datum.recall < 25' }],
      },
    ],
  } as TopLevelSpec;
}

/** Renders the chart to PNG bytes: vega-lite -> vega -> SVG (headless) -> PNG (resvg). */
export async function renderRecallChart(
  bars: readonly RecallBar[],
  title: string,
): Promise<{ svg: string; png: Buffer }> {
  const spec = compile(recallChartSpec(bars, title)).spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  const svg = await view.toSVG(2);
  view.finalize();
  const png = new Resvg(svg, {
    background: 'white',
    font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' },
  })
    .render()
    .asPng();
  return { svg, png: Buffer.from(png) };
}
