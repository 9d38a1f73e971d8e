/**
 * `npm run bench:table [-- <results.json>] [--write]`: the markdown table of a results file (default: the newest
 * in bench/results/). --write puts it into README.md between the `bench:table` markers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IMPL_TITLES } from './lib/deployments.js';
import { ROOT } from './lib/processes.js';
import { loadResults, type Results, type Row } from './lib/results.js';
import { summarize, type SummaryRow } from './lib/summary.js';

const short = (name: string): string => name.replace(/^service /, '').replace(/ \(.*$/, '').replace('actors,projections', 'actors+projections').replace('api,actors,projections', 'service').replace('load generator', 'load');

function cpuCell(r: Row): string {
  if (r.cpu.length === 0) return '';
  const parts = r.cpu.filter((c) => c.ms_per_op >= 0.005).map((c) => `${short(c.name)} ${c.ms_per_op.toFixed(2)}`);
  const pct = r.cpu.reduce((a, c) => a + c.pct_of_window, 0);
  return `**${r.cpu_ms_per_op_total.toFixed(2)}** (${parts.join(', ')}; ${Math.round(pct)}% of a core in all)`;
}

function statusCell(r: Row): string {
  if (r.status === 'ERROR') return 'ERROR';
  const inv = r.invariants ? (r.invariants.ok ? 'held' : '**BROKEN**') : 'n/a';
  return r.status === 'PASSED' ? inv : `**FAILED** (${inv})`;
}

function extraCell(r: Row): string {
  const out: string[] = [];
  const non2xx = Object.entries(r.statuses).filter(([k]) => !k.startsWith('2'));
  const total = Object.values(r.statuses).reduce((a, b) => a + b, 0);
  for (const [k, v] of non2xx) {
    const pct = (100 * v) / Math.max(1, total);
    out.push(`${pct < 1 ? '<1' : Math.round(pct)}% ${k}`);
  }
  if (r.errors) out.push(`${r.errors} errors`);
  const f = r.extra['freshness_ms'] as { p50: number; p99: number; n: number } | undefined;
  if (f) out.push(`freshness p50 ${f.p50} ms, p99 ${f.p99} ms (${f.n} probes)`);
  const c = r.extra['counter_lag_ms'] as { p50: number; p99: number } | undefined;
  if (c) out.push(`counter lag p50 ${c.p50} ms, p99 ${c.p99} ms`);
  const empty = r.extra['empty_results'];
  if (typeof empty === 'number' && empty > 0) out.push(`${empty} empty results`);
  if (r.impl === 'incr') out.push('not durable');
  if (r.machine_busy_pct !== null) out.push(`machine ${Math.round(r.machine_busy_pct)}% busy`);
  return out.join('; ');
}

const num = (x: number): string => x.toLocaleString('en-US');

/** A figure, and with several rounds the range they spanned. */
function withRange(value: number, [lo, hi]: [number, number], r: SummaryRow): string {
  return r.rounds > 1 && lo !== hi ? `${num(value)} (${num(lo)}–${num(hi)})` : num(value);
}

export function markdownTable(results: Results): string {
  const m = results.machine;
  const rows = summarize(results);
  const rounds = Math.max(...rows.map((r) => r.rounds));
  const lines = [
    `${results.smoke ? 'Smoke run (timings not meaningful)' : 'Run'} of ${results.date.slice(0, 16).replace('T', ' ')} UTC, commit ${results.git}: \`${results.command}\`; `
      + `${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}. CPU is ms of CPU per successful operation, by process, `
      + 'and the processes\' sum as a share of one core over the window (shared servers include whatever else used them meanwhile).'
      + (rounds > 1 ? ` Every figure is the median of ${rounds} rounds (each round runs every implementation's scenarios once, one after another); throughput and p99 give the rounds' range in brackets; each process's CPU is its own median, so they need not add up to the total's; invariants held only if they held in every round.` : ''),
    '',
    '| scenario | implementation | ops/s | p50 ms | p99 ms | CPU ms/op: total (by process) | invariants | notes |',
    '|---|---|--:|--:|--:|---|---|---|',
  ];
  for (const r of rows) {
    const title = r.variant ? `${r.title.split(',')[0]}, ${r.variant} chars` : r.title;
    if (r.status === 'ERROR') {
      lines.push(`| ${title} | ${IMPL_TITLES[r.impl] ?? r.impl} | — | — | — | | ERROR | ${(r.error ?? '').split('\n')[0]!.replace(/\|/g, '\\|')} |`);
      continue;
    }
    lines.push(`| ${title} | ${IMPL_TITLES[r.impl] ?? r.impl} | ${withRange(r.ops_per_s, r.range.ops_per_s, r)} | ${r.latency_ms.p50} | ${withRange(r.latency_ms.p99, r.range.p99, r)} | ${cpuCell(r)} | ${statusCell(r)} | ${extraCell(r)} |`);
  }
  return lines.join('\n');
}

const START = '<!-- bench:table -->';
const END = '<!-- /bench:table -->';

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const { file, results } = loadResults(args.find((a) => !a.startsWith('--')));
  const table = markdownTable(results);
  if (args.includes('--write')) {
    const readme = join(ROOT, 'README.md');
    const text = readFileSync(readme, 'utf8');
    const a = text.indexOf(START);
    const b = text.indexOf(END);
    if (a < 0 || b < a) throw new Error(`README.md has no ${START} … ${END} markers`);
    writeFileSync(readme, `${text.slice(0, a + START.length)}\n${table}\n${text.slice(b)}`);
    console.log(`README.md: table from ${file}`);
  } else {
    console.log(table);
  }
}
