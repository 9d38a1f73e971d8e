/**
 * `npm run bench:chart [-- <results.json>]`: docs/bench.png from a results file (default: the newest), two
 * panels — throughput and p99 latency — with one bar per scenario and implementation. The SVG is built here
 * and rasterised by @resvg/resvg-js (its binary comes as an npm platform package), with the system's fonts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Resvg } from '@resvg/resvg-js';
import { IMPLS, type Impl } from './lib/deployments.js';
import { ROOT } from './lib/processes.js';
import { loadResults, type Results } from './lib/results.js';
import { summarize, type SummaryRow } from './lib/summary.js';

const COLORS: Record<Impl, string> = { 'service': '#1f6feb', 'service-1p': '#79b8ff', 'lock': '#d73a49', 'incr': '#9a9a9a' };
const LEGEND: Record<Impl, string> = {
  'service': 'service: api + actors/projections (2 processes)',
  'service-1p': 'service: one process',
  'lock': 'lock-based reference (SELECT MAX … FOR UPDATE)',
  'incr': 'Redis-INCR reference (201 before persisting: not durable)',
};

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
/** Height of a bar (px). */
const BAR = 15;
const fmt = (x: number): string => x.toLocaleString('en-US', { maximumFractionDigits: x < 10 ? 1 : 0 });

export function chartSvg(results: Results): string {
  const summary = summarize(results).filter((x) => x.status !== 'ERROR');
  const rounds = Math.max(1, ...summary.map((r) => r.rounds));
  const groups = new Map<string, SummaryRow[]>();
  for (const r of summary) {
    const key = r.variant ? `${r.title.split(',')[0]}, ${r.variant} chars` : r.title;
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(r);
  }
  const W = 1400;
  const labelW = 380;
  const panelW = (W - labelW - 60) / 2;
  /** Where the latency panel starts. */
  const x2 = labelW + panelW + 40;
  const top = 135;
  let height = top;
  for (const rows of groups.values()) height += rows.length * (BAR + 3) + 16;
  const H = height + 58;
  const maxOps = Math.max(1, ...summary.map((r) => r.range.ops_per_s[1]));
  const maxP99 = Math.max(1, ...summary.map((r) => r.range.p99[1]));
  const m = results.machine;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    `<text x="20" y="30" font-size="20" font-weight="bold">Chat service benchmarks: throughput and p99 latency by scenario and implementation</text>`,
    `<text x="20" y="52" font-size="13" fill="#444">${esc(`${results.date.slice(0, 16).replace('T', ' ')} UTC · ${results.command} · commit ${results.git}`)}</text>`,
    `<text x="20" y="70" font-size="13" fill="#444">${esc(`${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node} · everything on one machine (MariaDB, NATS, Redis, OpenSearch, load generator)${busy(results)}`)}</text>`,
    `<text x="${labelW}" y="${top - 12}" font-size="14" font-weight="bold">successful operations per second</text>`,
    `<text x="${x2}" y="${top - 12}" font-size="14" font-weight="bold">p99 latency (ms)</text>`,
  ];
  let lx = 20;
  for (const impl of IMPLS) {
    if (!results.rows.some((r) => r.impl === impl)) continue;
    out.push(`<rect x="${lx}" y="84" width="12" height="12" fill="${COLORS[impl]}"/><text x="${lx + 16}" y="95" font-size="12">${esc(LEGEND[impl])}</text>`);
    lx += 36 + LEGEND[impl].length * 7;
  }
  const scale1 = (v: number): number => (v / maxOps) * (panelW - 90);
  const scale2 = (v: number): number => (v / maxP99) * (panelW - 200);
  let y = top;
  for (const [title, rows] of groups) {
    const gh = rows.length * (BAR + 3);
    out.push(`<text x="20" y="${y + gh / 2 + 5}" font-size="13">${esc(title)}</text>`);
    out.push(`<line x1="${labelW}" y1="${y - 6}" x2="${W - 20}" y2="${y - 6}" stroke="#eee"/>`);
    for (const r of rows) {
      const color = COLORS[r.impl];
      const failed = r.status !== 'PASSED';
      const end1 = bars(out, labelW, y, r.ops_per_s, r.range.ops_per_s, scale1, color, r.rounds);
      out.push(`<text x="${labelW + end1 + 5}" y="${y + 12}" font-size="11">${fmt(r.ops_per_s)}/s${failed ? ` ${r.status}` : ''}</text>`);
      const end2 = bars(out, x2, y, r.latency_ms.p99, r.range.p99, scale2, color, r.rounds);
      const fresh = r.extra['freshness_ms'] as { p99: number } | undefined;
      out.push(`<text x="${x2 + end2 + 5}" y="${y + 12}" font-size="11">${fmt(r.latency_ms.p99)} ms${fresh ? ` (freshness p99 ${fmt(fresh.p99)} ms)` : ''}</text>`);
      y += BAR + 3;
    }
    y += 16;
  }
  out.push(`<text x="20" y="${H - 32}" font-size="12" fill="#666">Invariants (numbers exactly 1..N per parent, every 201 persisted once) are checked at the end of every row; bench/results/ holds the numbers, CPU by process and the machine.</text>`);
  if (rounds > 1) out.push(`<text x="20" y="${H - 14}" font-size="12" fill="#666">Bars are the medians of ${rounds} rounds (every implementation's scenarios once per round), whiskers the range of the rounds.</text>`);
  out.push('</svg>');
  return out.join('\n');
}

/** A bar of `value`, with a whisker over the rounds' range when there were several; answers where its drawing ends. */
function bars(out: string[], x: number, y: number, value: number, [lo, hi]: [number, number], scale: (v: number) => number, color: string, rounds: number): number {
  const w = scale(value);
  out.push(`<rect x="${x}" y="${y}" width="${Math.max(1, w)}" height="${BAR}" fill="${color}"/>`);
  if (rounds <= 1 || lo === hi) return w;
  const mid = y + BAR / 2;
  out.push(`<line x1="${x + scale(lo)}" y1="${mid}" x2="${x + scale(hi)}" y2="${mid}" stroke="#222" stroke-width="1.5"/>`);
  for (const v of [lo, hi]) out.push(`<line x1="${x + scale(v)}" y1="${mid - 4}" x2="${x + scale(v)}" y2="${mid + 4}" stroke="#222" stroke-width="1.5"/>`);
  return Math.max(w, scale(hi));
}

/** How busy the whole machine was during the windows (other work included): a warning when it was saturated. */
function busy(results: Results): string {
  const b = results.rows.map((r) => r.machine_busy_pct).filter((x): x is number => x !== null);
  if (b.length === 0) return '';
  const lo = Math.round(Math.min(...b));
  const hi = Math.round(Math.max(...b));
  return ` · machine ${lo === hi ? lo : `${lo}–${hi}`}% busy during the windows`;
}

export async function renderChart(results: Results, path: string): Promise<string> {
  const png = new Resvg(chartSvg(results), { font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' }, fitTo: { mode: 'original' } }).render().asPng();
  writeFileSync(path, png);
  return path;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { file, results } = loadResults(process.argv[2]);
  console.log(`${await renderChart(results, join(ROOT, 'docs', 'bench.png'))} from ${file}`);
}
