/** The results file of a run (bench/results/<date>.json) and what it holds. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { CpuShare } from './cpu.js';
import type { Impl } from './deployments.js';
import { ROOT } from './processes.js';

export const RESULTS_DIR = join(ROOT, 'bench', 'results');

export interface Row {
  scenario: string;
  variant?: string;
  title: string;
  impl: Impl;
  /** The round of a run of several (`--rounds n`), from 1; absent in a run of one. */
  round?: number;
  status: 'PASSED' | 'FAILED' | 'ERROR';
  connections: number;
  duration_s: number;
  /** Successful operations (201 for creations, 200 for reads) per second. */
  ops_per_s: number;
  ok: number;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number; mean: number };
  cpu: CpuShare[];
  /** Sum of ms_per_op over the processes this run started (service / reference and load generator) and the shared servers. */
  cpu_ms_per_op_total: number;
  machine_busy_pct: number | null;
  invariants: { ok: boolean; chats: number; messages: number; acknowledged: number; problems: string[] } | null;
  extra: Record<string, unknown>;
  notes: string[];
  error?: string;
}

export interface Results {
  command: string;
  date: string;
  smoke: boolean;
  git: string;
  machine: { cpu_model: string; cores: number; memory_gib: number; node: string; os: string };
  options: Record<string, unknown>;
  rows: Row[];
}

export function machine(): Results['machine'] {
  return {
    cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
    cores: os.cpus().length,
    memory_gib: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()}`,
  };
}

export function gitDescription(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${commit} (src/ modified)` : commit;
  } catch {
    return 'unknown';
  }
}

/** The newest full (non-smoke) results file, or the one named. */
export function loadResults(file?: string): { file: string; results: Results } {
  let path = file;
  if (!path) {
    const files = readdirSync(RESULTS_DIR).filter((f) => f.endsWith('.json')).sort();
    if (files.length === 0) throw new Error(`no results in ${RESULTS_DIR}: run npm run bench first`);
    path = join(RESULTS_DIR, files[files.length - 1]!);
  }
  return { file: path, results: JSON.parse(readFileSync(path, 'utf8')) as Results };
}
