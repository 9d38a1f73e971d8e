import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Violation } from './invariants.js';

/** A timing objective from issue 12 (reported, not an invariant: timings on a shared machine are not asserted). */
export interface Objective {
  name: string;
  ok: boolean;
  detail: string;
}

export interface FaultResult {
  id: string;
  title: string;
  startedAt: string;
  durationMs: number;
  /** Recovery times (ms; null = not reached within the recovery timeout) and other measurements. */
  measurements: Record<string, number | string | null | Record<string, number | string>>;
  objectives: Objective[];
  violations: Violation[];
  /** `<op> <status>` → attempts during the fault's phase. */
  statuses: Record<string, number>;
  /** Non-2xx attempts by status during the phase. */
  failedByStatus: Record<string, number>;
  requests: { writesConfirmed: number; writesUnresolved: number; latency503p50: number | null; latency503p99: number | null; staleReads: number };
  notes: string[];
}

export interface Report {
  profile: Record<string, unknown>;
  startedAt: string;
  finishedAt?: string;
  node: string;
  namespace?: string;
  logDir: string;
  faults: FaultResult[];
  final?: { violations: Violation[]; messages: number; chats: number; writesConfirmed: number; processes: Array<Record<string, unknown>> };
  error?: string;
}

export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const fmt = (v: unknown): string => {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return v >= 10_000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`;
  return String(v);
};

/** The summary table: fault → recovery times, failed requests by status, invariants and objectives. */
export function summary(report: Report): string {
  const lines: string[] = [];
  lines.push(`chaos suite — profile ${String(report.profile['name'])}, started ${report.startedAt}, logs in ${report.logDir}`);
  lines.push('');
  lines.push('| fault | recovery | failed requests (by status) | invariants | objectives |');
  lines.push('|---|---|---|---|---|');
  for (const f of report.faults) {
    const recovery = Object.entries(f.measurements)
      .filter(([k, v]) => k.endsWith('Ms') && (typeof v === 'number' || v === null))
      .map(([k, v]) => `${k.replace(/Ms$/, '')} ${fmt(v)}`)
      .join(', ');
    const failed = Object.entries(f.failedByStatus).map(([s, n]) => `${s}×${n}`).join(' ') || 'none';
    const inv = f.violations.length === 0 ? 'PASS' : `FAIL: ${f.violations.map((v) => v.invariant).join('; ')}`;
    const obj = f.objectives.length === 0 ? '—' : f.objectives.map((o) => `${o.ok ? 'met' : 'MISSED'} ${o.name}`).join('; ');
    lines.push(`| ${f.id} | ${recovery || '—'} | ${failed} | ${inv} | ${obj} |`);
  }
  if (report.final) {
    lines.push('');
    lines.push(`final: ${report.final.writesConfirmed} confirmed writes, ${report.final.chats} chats, ${report.final.messages} messages; ` +
      (report.final.violations.length === 0 ? 'invariants PASS' : `invariants FAIL: ${report.final.violations.map((v) => v.invariant).join('; ')}`));
  }
  for (const f of report.faults) {
    if (f.violations.length === 0 && f.objectives.every((o) => o.ok)) continue;
    lines.push('');
    lines.push(`${f.id} (${f.title}):`);
    for (const v of f.violations) lines.push(`  ✗ ${v.invariant}: ${v.detail}`);
    for (const o of f.objectives) if (!o.ok) lines.push(`  ~ objective missed: ${o.name}: ${o.detail}`);
  }
  if (report.error) lines.push('', `error: ${report.error}`);
  return lines.join('\n');
}

export async function writeReport(dir: string, report: Report): Promise<string> {
  await mkdir(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const file = join(dir, `${stamp}.json`);
  await writeFile(file, JSON.stringify(report, null, 2) + '\n');
  await writeFile(join(dir, `${stamp}.txt`), summary(report) + '\n');
  return file;
}
