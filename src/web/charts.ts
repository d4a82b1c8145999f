import { html, type Html } from './html.js';

/**
 * Charts as server-rendered SVG: no script, no library, scale to the screen (viewBox), colours from the
 * stylesheet. Each chart carries a title for screen readers and the same numbers as a table.
 */

export interface BarPoint {
  label: string;
  value: number;
  /** The value as the reader should read it (formatted). */
  text: string;
}

/** An element id unique within a page (several charts may share one). */
function nextId(prefix: string): string {
  return `${prefix}-${Math.random().toString(36).slice(2, 10)}`;
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function dataTable(caption: string, head: string[], rows: string[][]): Html {
  return html`<details class="chart-data">
    <summary>${caption}</summary>
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            ${head.map((h) => html`<th scope="col">${h}</th>`)}
          </tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) =>
              html`<tr>
                ${r.map((c, i) => (i === 0 ? html`<th scope="row">${c}</th>` : html`<td>${c}</td>`))}
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </details>`;
}

/** Vertical bars, one per point (days, periods). */
export function barChart(opts: {
  title: string;
  points: BarPoint[];
  valueHeader: string;
  labelHeader: string;
  tableCaption: string;
  /** Show every n-th label under the axis. */
  labelEvery?: number;
  cls?: string;
}): Html {
  const W = 960;
  const H = 240;
  const left = 48;
  const bottom = 28;
  const top = 10;
  const n = Math.max(1, opts.points.length);
  const max = niceMax(Math.max(0, ...opts.points.map((p) => p.value)));
  const plotW = W - left - 8;
  const plotH = H - top - bottom;
  const slot = plotW / n;
  const barW = Math.max(1, slot * 0.72);
  const every = opts.labelEvery ?? Math.max(1, Math.ceil(n / 10));
  const id = nextId('chart');
  const ticks = [0, 0.5, 1].map((f) => ({ y: top + plotH - f * plotH, v: f * max }));
  return html`<figure class="chart ${opts.cls ?? ''}">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}" preserveAspectRatio="xMidYMid meet">
      <title id="${id}">${opts.title}</title>
      ${ticks.map((t) => html`<line class="grid" x1="${left}" x2="${W - 8}" y1="${t.y}" y2="${t.y}" /><text class="axis" x="${left - 6}" y="${t.y + 4}" text-anchor="end">${formatTick(t.v)}</text>`)}
      ${opts.points.map((p, i) => {
        const h = max > 0 ? (p.value / max) * plotH : 0;
        const x = left + i * slot + (slot - barW) / 2;
        return html`<rect
            class="bar"
            x="${x.toFixed(1)}"
            y="${(top + plotH - h).toFixed(1)}"
            width="${barW.toFixed(1)}"
            height="${h.toFixed(1)}"
            ><title>${p.label}: ${p.text}</title></rect
          >${
            i % every === 0
              ? html`<text class="axis" x="${(x + barW / 2).toFixed(1)}" y="${H - 8}" text-anchor="middle"
                  >${p.label}</text
                >`
              : ''
          }`;
      })}
    </svg>
    <figcaption>${opts.title}</figcaption>
    ${dataTable(
      opts.tableCaption,
      [opts.labelHeader, opts.valueHeader],
      opts.points.map((p) => [p.label, p.text]),
    )}
  </figure>`;
}

function formatTick(v: number): string {
  if (v >= 1e6) return `${Math.round(v / 1e5) / 10}M`;
  if (v >= 1e3) return `${Math.round(v / 100) / 10}k`;
  return String(Math.round(v * 10) / 10);
}

export interface StackSeries {
  name: string;
  cls: string;
  values: number[];
  texts: string[];
}

/** Horizontal stacked bars: one bar per category (a CMO), one colour per series (accrued, deducted, ...). */
export function stackedBars(opts: {
  title: string;
  categories: string[];
  series: StackSeries[];
  tableCaption: string;
  categoryHeader: string;
}): Html {
  const W = 960;
  const rowH = 26;
  const left = 10;
  const H = opts.categories.length * rowH * 1.8 + 40;
  const totals = opts.categories.map((_, i) => opts.series.reduce((s, x) => s + Math.max(0, x.values[i]), 0));
  const max = Math.max(1, ...totals);
  const id = nextId('stack');
  return html`<figure class="chart">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}">
      <title id="${id}">${opts.title}</title>
      ${opts.categories.map((c, i) => {
        const y = 10 + i * rowH * 1.8;
        let x = left;
        return html`<text class="axis label" x="${left}" y="${y + 12}">${c}</text>${opts.series.map((s) => {
            const w = (Math.max(0, s.values[i]) / max) * (W - left - 10);
            const r = html`<rect
              class="${s.cls}"
              x="${x.toFixed(1)}"
              y="${y + 18}"
              width="${w.toFixed(1)}"
              height="${rowH * 0.8}"
              ><title>${c}, ${s.name}: ${s.texts[i]}</title></rect
            >`;
            x += w;
            return r;
          })}`;
      })}
      ${opts.series.map((s, i) => html`<rect class="${s.cls}" x="${10 + i * 220}" y="${H - 20}" width="12" height="12" /><text class="axis" x="${28 + i * 220}" y="${H - 10}">${s.name}</text>`)}
    </svg>
    <figcaption>${opts.title}</figcaption>
    ${dataTable(
      opts.tableCaption,
      [opts.categoryHeader, ...opts.series.map((s) => s.name)],
      opts.categories.map((c, i) => [c, ...opts.series.map((s) => s.texts[i])]),
    )}
  </figure>`;
}

export interface TimelineItem {
  startMs: number;
  endMs: number;
  label: string;
  href?: string;
  cls: string;
}

/** A day (or any span) as a horizontal band: detections as blocks, gaps as hatched blocks, hour ticks. */
export function timeline(opts: {
  title: string;
  startMs: number;
  endMs: number;
  items: TimelineItem[];
  gaps: TimelineItem[];
  hourLabel: (ms: number) => string;
  nowMs?: number;
}): Html {
  const W = 960;
  const H = 110;
  const left = 10;
  const right = 10;
  const span = opts.endMs - opts.startMs;
  const x = (ms: number) =>
    left + ((Math.min(Math.max(ms, opts.startMs), opts.endMs) - opts.startMs) / span) * (W - left - right);
  const id = nextId('tl');
  const hours = Math.round(span / 3600_000);
  const step = hours > 12 ? 3 : 1;
  const ticks: number[] = [];
  for (let h = 0; h <= hours; h += step) ticks.push(opts.startMs + h * 3600_000);
  const block = (it: TimelineItem, y: number, h: number) => {
    const x0 = x(it.startMs);
    const w = Math.max(2, x(it.endMs) - x0);
    const rect = html`<rect
      class="${it.cls}"
      x="${x0.toFixed(1)}"
      y="${y}"
      width="${w.toFixed(1)}"
      height="${h}"
      ><title>${it.label}</title></rect
    >`;
    return it.href ? html`<a href="${it.href}" aria-label="${it.label}">${rect}</a>` : rect;
  };
  return html`<figure class="chart timeline">
    <svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}">
      <title id="${id}">${opts.title}</title>
      <defs>
        <pattern
          id="${id}-hatch"
          patternUnits="userSpaceOnUse"
          width="6"
          height="6"
          patternTransform="rotate(45)"
        >
          <rect width="3" height="6" class="hatch" />
        </pattern>
      </defs>
      <rect class="band" x="${left}" y="20" width="${W - left - right}" height="50" />
      ${opts.gaps.map((g) => {
        const x0 = x(g.startMs);
        const w = Math.max(2, x(g.endMs) - x0);
        return html`<rect
          class="gap"
          fill="url(#${id}-hatch)"
          x="${x0.toFixed(1)}"
          y="14"
          width="${w.toFixed(1)}"
          height="62"
          ><title>${g.label}</title></rect
        >`;
      })}
      ${opts.items.map((it) => block(it, 24, 42))}
      ${opts.nowMs !== undefined && opts.nowMs > opts.startMs && opts.nowMs < opts.endMs ? html`<line class="now" x1="${x(opts.nowMs)}" x2="${x(opts.nowMs)}" y1="10" y2="80" />` : ''}
      ${ticks.map((t) => html`<line class="grid" x1="${x(t).toFixed(1)}" x2="${x(t).toFixed(1)}" y1="72" y2="80" /><text class="axis" x="${x(t).toFixed(1)}" y="96" text-anchor="middle">${opts.hourLabel(t)}</text>`)}
    </svg>
    <figcaption>${opts.title}</figcaption>
  </figure>`;
}
