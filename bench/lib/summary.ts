/**
 * The rows of a run with several rounds (`--rounds n`) folded into one row per scenario, variant and
 * implementation: each figure the median over the rounds, with the range of throughput and p99 beside it. A
 * run of one round is answered as it is. What the table and the chart show.
 */
import { round, type CpuShare } from './cpu.js';
import type { Results, Row } from './results.js';

/** A row of the summary: medians over `rounds` rows (1: the row itself), and the spread of the two headline figures. */
export interface SummaryRow extends Row {
  rounds: number;
  range: { ops_per_s: [number, number]; p99: [number, number] };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const keyOf = (r: Row): string => `${r.scenario}\u0000${r.variant ?? ''}\u0000${r.impl}`;

/** One row per scenario, variant and implementation, in the order of their first round. */
export function summarize(results: Results): SummaryRow[] {
  const groups = new Map<string, Row[]>();
  for (const r of results.rows) {
    const list = groups.get(keyOf(r));
    if (list) list.push(r);
    else groups.set(keyOf(r), [r]);
  }
  return [...groups.values()].map(fold);
}

function fold(rows: Row[]): SummaryRow {
  const first = rows[0]!;
  const measured = rows.filter((r) => r.status !== 'ERROR');
  const ops = measured.map((r) => r.ops_per_s);
  const p99 = measured.map((r) => r.latency_ms.p99);
  const range = { ops_per_s: minMax(ops), p99: minMax(p99) };
  if (rows.length === 1) return { ...first, rounds: 1, range };
  if (measured.length === 0) return { ...first, rounds: rows.length, range, error: rows.map((r) => r.error ?? '').join('\n') };

  const med = (pick: (r: Row) => number): number => median(measured.map(pick));
  const status: Row['status'] = rows.some((r) => r.status === 'ERROR') ? 'ERROR' : rows.some((r) => r.status === 'FAILED') ? 'FAILED' : 'PASSED';
  const statuses: Record<string, number> = {};
  for (const r of measured) for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const invariants = measured.every((r) => r.invariants === null) ? null : foldInvariants(measured);
  const busy = measured.map((r) => r.machine_busy_pct).filter((b): b is number => b !== null);
  return {
    ...first,
    status,
    rounds: rows.length,
    range,
    duration_s: round(med((r) => r.duration_s), 2),
    ops_per_s: Math.round(median(ops)),
    ok: measured.reduce((a, r) => a + r.ok, 0),
    requests: measured.reduce((a, r) => a + r.requests, 0),
    statuses,
    errors: measured.reduce((a, r) => a + r.errors, 0),
    timeouts: measured.reduce((a, r) => a + r.timeouts, 0),
    latency_ms: {
      p50: med((r) => r.latency_ms.p50), p90: med((r) => r.latency_ms.p90), p99: median(p99),
      max: med((r) => r.latency_ms.max), mean: round(med((r) => r.latency_ms.mean), 2),
    },
    cpu: foldCpu(measured),
    cpu_ms_per_op_total: round(med((r) => r.cpu_ms_per_op_total), 3),
    machine_busy_pct: busy.length > 0 ? Math.round(median(busy)) : null,
    invariants,
    extra: foldExtra(measured),
    notes: [...new Set(measured.flatMap((r) => r.notes))],
    ...(rows.some((r) => r.error) ? { error: rows.map((r) => r.error).filter(Boolean).join('\n') } : {}),
  };
}

function minMax(values: readonly number[]): [number, number] {
  return values.length === 0 ? [0, 0] : [Math.min(...values), Math.max(...values)];
}

/** Held only when every round held; the counts are summed, the problems listed. */
function foldInvariants(rows: Row[]): NonNullable<Row['invariants']> {
  const all = rows.map((r) => r.invariants).filter((i): i is NonNullable<Row['invariants']> => i !== null);
  return {
    ok: all.length === rows.length && all.every((i) => i.ok),
    chats: all.reduce((a, i) => a + i.chats, 0),
    messages: all.reduce((a, i) => a + i.messages, 0),
    acknowledged: all.reduce((a, i) => a + i.acknowledged, 0),
    problems: all.flatMap((i) => i.problems),
  };
}

/** Each process's share: the median over the rounds that watched it (a process missing from a round counts as no CPU). */
function foldCpu(rows: Row[]): CpuShare[] {
  const names = [...new Set(rows.flatMap((r) => r.cpu.map((c) => c.name)))];
  return names.map((name) => {
    const seen = rows.map((r) => r.cpu.find((c) => c.name === name));
    const any = seen.find((c) => c !== undefined)!;
    const pick = (f: (c: CpuShare) => number): number => median(seen.map((c) => (c ? f(c) : 0)));
    return { ...any, cpu_ms: round(pick((c) => c.cpu_ms), 2), ms_per_op: round(pick((c) => c.ms_per_op), 3), pct_of_window: round(pick((c) => c.pct_of_window), 2) };
  });
}

/**
 * The scenarios' own figures: percentiles (freshness, counter lag) and plain numbers as medians, a `…_max` as
 * the largest, a count of empty results summed; anything else as the first round had it.
 */
function foldExtra(rows: Row[]): Record<string, unknown> {
  const out: Record<string, unknown> = { ...rows[0]!.extra };
  for (const [key, value] of Object.entries(out)) {
    const values = rows.map((r) => r.extra[key]).filter((v) => v !== undefined && v !== null);
    if (typeof value === 'number') {
      const nums = values.filter((v): v is number => typeof v === 'number');
      out[key] = key === 'empty_results' ? nums.reduce((a, b) => a + b, 0) : key.endsWith('_max') ? Math.max(...nums) : round(median(nums), 2);
    } else if (isPercentiles(value)) {
      const all = values.filter(isPercentiles);
      out[key] = {
        ...value,
        p50: round(median(all.map((v) => v.p50)), 2),
        p99: round(median(all.map((v) => v.p99)), 2),
        ...(typeof value.n === 'number' ? { n: all.reduce((a, v) => a + (v.n ?? 0), 0) } : {}),
      };
    }
  }
  return out;
}

function isPercentiles(v: unknown): v is { p50: number; p99: number; n?: number } {
  return typeof v === 'object' && v !== null && typeof (v as { p50?: unknown }).p50 === 'number' && typeof (v as { p99?: unknown }).p99 === 'number';
}
