import { createHash } from 'node:crypto';

/**
 * The web app's only static files, kept in code so that `tsx` and the compiled `dist/` serve the
 * same bytes without a copy step. Served with a content hash in the URL and a year of caching.
 */

const CSS = `
:root {
  --fg: #1b1f24; --muted: #57606a; --bg: #ffffff; --panel: #f6f8fa; --line: #d0d7de;
  --accent: #0b5cad; --accent-fg: #ffffff; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e;
  --bar: #0b5cad; --bar2: #6e40c9; --bar3: #bf8700; --bar4: #cf222e;
  --focus: #ffbf47;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif;
  font-size: 16px; line-height: 1.45; color: var(--fg); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
a:focus, button:focus, input:focus, select:focus, summary:focus, textarea:focus { outline: 3px solid var(--focus); outline-offset: 1px; }
.skip { position: absolute; left: -9999px; top: 0; background: var(--focus); color: #000; padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: 0; }
header.top { background: #0d2a4a; color: #fff; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
header.top a { color: #fff; }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; margin-right: .5rem; }
.brand small { font-weight: 400; opacity: .8; font-size: .8rem; display: block; }
nav.main ul { list-style: none; display: flex; flex-wrap: wrap; gap: .25rem; margin: 0; padding: 0; }
nav.main a { display: inline-block; padding: .35rem .6rem; border-radius: 4px; text-decoration: none; }
nav.main a[aria-current="page"] { background: rgba(255,255,255,.18); font-weight: 600; }
nav.main a:hover { background: rgba(255,255,255,.12); }
.top-right { margin-left: auto; display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; font-size: .9rem; }
.langs { display: flex; gap: .25rem; margin: 0; padding: 0; list-style: none; }
.langs a { padding: .2rem .45rem; border-radius: 4px; text-decoration: none; border: 1px solid rgba(255,255,255,.35); }
.langs a[aria-current="true"] { background: #fff; color: #0d2a4a; font-weight: 600; }
.top-right form { margin: 0; }
.top-right button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.5); }
main { max-width: 1200px; margin: 0 auto; padding: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1.05rem; margin: 1rem 0 .5rem; }
.muted { color: var(--muted); }
.small { font-size: .875rem; }
.flash { padding: .6rem .9rem; border-radius: 6px; margin: 0 0 1rem; border: 1px solid; }
.flash.ok { background: #dafbe1; border-color: #4ac26b; }
.flash.warn { background: #fff8c5; border-color: #d4a72c; }
.flash.bad { background: #ffebe9; border-color: #ff8182; }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: .75rem; margin: 0 0 1rem; padding: 0; list-style: none; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: .75rem; }
.card .num { font-size: 1.5rem; font-weight: 700; display: block; }
.card .lbl { color: var(--muted); font-size: .9rem; }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: 0 0 1rem; position: relative; }
table { border-collapse: collapse; width: 100%; font-size: .93rem; }
caption { text-align: left; font-weight: 600; padding: .25rem 0; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--panel); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td, tfoot th { font-weight: 700; border-top: 2px solid var(--line); }
form.filters, form.inline { display: flex; flex-wrap: wrap; gap: .5rem .75rem; align-items: flex-end; margin: 0 0 1rem; }
.field { display: flex; flex-direction: column; gap: .2rem; }
.field label, .field .label { font-size: .85rem; color: var(--muted); }
form.stack { display: grid; gap: .75rem; max-width: 34rem; }
form.stack .check { display: flex; gap: .5rem; align-items: center; }
input, select, textarea, button { font: inherit; }
input[type=text], input[type=password], input[type=search], input[type=date], input[type=month], select, textarea {
  padding: .4rem .5rem; border: 1px solid #8c959f; border-radius: 4px; min-width: 0; background: #fff; color: var(--fg);
}
button, .button { padding: .45rem .9rem; border-radius: 4px; border: 1px solid #8c959f; background: #f6f8fa; color: var(--fg); cursor: pointer; text-decoration: none; display: inline-block; }
button.primary, .button.primary { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; margin: .5rem 0 1rem; padding: .6rem; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; }
.badge { display: inline-block; padding: .05rem .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid var(--line); white-space: nowrap; }
.badge.pending, .badge.open { background: #fff8c5; border-color: #d4a72c; }
.badge.confirmed, .badge.listening, .badge.accepted, .badge.deemed_accepted, .badge.dispute_rejected { background: #dafbe1; border-color: #4ac26b; }
.badge.rejected, .badge.failed, .badge.disputed, .badge.not_running { background: #ffebe9; border-color: #ff8182; }
.badge.reassigned, .badge.dispute_accepted, .badge.reconnecting, .badge.silent { background: #ddf4ff; border-color: #54aeff; }
audio { width: 100%; max-width: 320px; height: 36px; }
.players { display: grid; grid-template-columns: repeat(auto-fit, minmax(260px, 1fr)); gap: 1rem; }
.players figure { margin: 0; padding: .75rem; background: var(--panel); border: 1px solid var(--line); border-radius: 8px; }
.players audio { max-width: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.pager { display: flex; gap: 1rem; align-items: center; margin: .5rem 0 1rem; }
figure.chart { margin: 0 0 1.25rem; max-width: 960px; }
figure.chart svg { width: 100%; height: auto; display: block; }
figure.chart figcaption { font-size: .9rem; color: var(--muted); }
svg .bar { fill: var(--bar); }
svg .grid { stroke: var(--line); stroke-width: 1; }
svg .axis { fill: var(--muted); font-size: 12px; }
svg .axis.label { fill: var(--fg); font-size: 14px; font-weight: 600; }
svg .s-accrued { fill: var(--bar); } svg .s-deducted { fill: var(--bar3); } svg .s-undistributed { fill: var(--bar4); } svg .s-net { fill: var(--ok); }
svg .band { fill: #eef2f6; }
svg .det-pending { fill: #d4a72c; } svg .det-confirmed { fill: #1a7f37; } svg .det-rejected { fill: #8c959f; } svg .det-reassigned { fill: #0969da; }
svg .gap { stroke: var(--bad); stroke-width: 1; }
svg .hatch { fill: var(--bad); opacity: .55; }
svg .now { stroke: var(--fg); stroke-dasharray: 3 3; }
svg a:focus rect { stroke: #000; stroke-width: 3; }
details.chart-data summary { cursor: pointer; font-size: .85rem; color: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: .75rem; font-size: .85rem; margin: .25rem 0 .75rem; padding: 0; list-style: none; }
.legend span.sw { display: inline-block; width: .9rem; height: .9rem; vertical-align: -2px; margin-right: .3rem; border-radius: 2px; }
.sw.det-pending { background: #d4a72c; } .sw.det-confirmed { background: #1a7f37; } .sw.det-rejected { background: #8c959f; } .sw.det-reassigned { background: #0969da; } .sw.gap { background: repeating-linear-gradient(45deg, #cf222e 0 3px, #fff 3px 6px); }
pre.explain { white-space: pre-wrap; background: var(--panel); border: 1px solid var(--line); padding: .75rem; border-radius: 6px; font-size: .85rem; }
ol.chain { padding-left: 1.25rem; } ol.chain li { margin: .35rem 0; }
.login { max-width: 24rem; margin: 2rem auto; }
figure.timeline { max-width: none; }
.nowrap { white-space: nowrap; }
.sr-only { position: absolute; width: 1px; height: 1px; padding: 0; margin: -1px; overflow: hidden; clip: rect(0,0,0,0); border: 0; }
footer { max-width: 1200px; margin: 2rem auto 1rem; padding: 0 1rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 640px) {
  main { padding: .75rem; }
  h1 { font-size: 1.3rem; }
  .top-right { margin-left: 0; width: 100%; justify-content: space-between; }
  table.stack, table.stack tbody, table.stack tfoot, table.stack tr { display: block; width: 100%; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0,0,0,0); }
  table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin: 0 0 .6rem; padding: .25rem .5rem; }
  table.stack td, table.stack th[scope=row] { display: block; border: 0; padding: .25rem 0; text-align: right; overflow-wrap: anywhere; }
  table.stack td::before, table.stack th[scope=row]::before { content: attr(data-label); float: left; width: 45%; padding-right: .5rem; text-align: left; color: var(--muted); font-weight: 400; }
  table.stack td::after, table.stack th[scope=row]::after { content: ''; display: block; clear: both; }
  table.stack td.num { white-space: normal; }
  table.stack tfoot td:empty { display: none; }
  audio { max-width: 100%; }
}
`;

const JS = `
// Progressive enhancement only: every page works without this script.
(function () {
  'use strict';
  document.querySelectorAll('input[data-select-all]').forEach(function (all) {
    var name = all.getAttribute('data-select-all');
    all.addEventListener('change', function () {
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (box) { box.checked = all.checked; });
    });
  });
  document.querySelectorAll('[data-confirm]').forEach(function (el) {
    el.addEventListener('click', function (ev) {
      if (!window.confirm(el.getAttribute('data-confirm'))) ev.preventDefault();
    });
  });
  // Playing one clip pauses the others (evidence beside reference).
  document.addEventListener('play', function (ev) {
    document.querySelectorAll('audio').forEach(function (a) { if (a !== ev.target) a.pause(); });
  }, true);
})();
`;

const FAVICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0d2a4a"/><path d="M6 20c3-8 5-8 7 0s4 8 7 0 4-8 6 0" stroke="#ffbf47" stroke-width="3" fill="none" stroke-linecap="round"/></svg>`;

function hashed(body: string): { body: string; hash: string } {
  return { body, hash: createHash('sha256').update(body).digest('hex').slice(0, 10) };
}

export const ASSETS = {
  css: { ...hashed(CSS), type: 'text/css; charset=utf-8' },
  js: { ...hashed(JS), type: 'text/javascript; charset=utf-8' },
  icon: { ...hashed(FAVICON), type: 'image/svg+xml' },
};
