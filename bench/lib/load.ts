/**
 * The load generator process (forked by bench/run.ts, so its CPU is its own): autocannon as a library, with the
 * scenario's requests. Tells the runner when the window starts and ends (the runner reads every process's CPU
 * then), writes the acknowledged numbers to a file and sends back the summary.
 */
import { writeFileSync } from 'node:fs';
import autocannon, { type Request } from 'autocannon';
import { scenario } from '../scenarios/index.js';
import type { Acks, Params } from '../scenarios/types.js';

export interface LoadSpec {
  scenario: string;
  params: Params;
  connections: number;
  duration: number;
  acksFile: string;
}

export interface LoadResult {
  duration_s: number;
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number; mean: number };
  extra: Record<string, unknown>;
}

const send = (msg: unknown): Promise<void> => new Promise((resolve, reject) => process.send!(msg, (err: Error | null) => (err ? reject(err) : resolve())));

process.once('message', (spec: LoadSpec) => {
  void run(spec).catch(async (err: unknown) => {
    await send({ type: 'error', message: err instanceof Error ? err.stack ?? err.message : String(err) });
    process.exit(1);
  });
});

async function run(spec: LoadSpec): Promise<void> {
  const s = scenario(spec.scenario);
  const acks: Acks = {};
  const record = { created: (parent: string | number, number: number) => void (acks[String(parent)] ??= []).push(number) };
  const statuses: Record<string, number> = {};
  const requests = s.requests(spec.params, record).map((r) => ({
    ...r,
    onResponse: (status: number, body: string, context: object, headers: Request['headers']) => {
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (typeof r.onResponse === 'function') r.onResponse(status, body, context, headers);
    },
  }));
  const abort = new AbortController();
  await send({ type: 'start' });
  const extra = s.during ? s.during(spec.params, record, abort.signal) : Promise.resolve({});
  const result = await autocannon({ url: spec.params.url, connections: spec.connections, duration: spec.duration, timeout: 10, requests });
  await send({ type: 'end' });
  abort.abort();
  const more = await extra;
  writeFileSync(spec.acksFile, JSON.stringify(acks));
  const l = result.latency;
  const out: LoadResult = {
    duration_s: result.duration,
    requests: Object.values(statuses).reduce((a, b) => a + b, 0),
    statuses, errors: result.errors, timeouts: result.timeouts,
    latency_ms: { p50: l.p50, p90: l.p90, p99: l.p99, max: l.max, mean: Math.round(l.average * 10) / 10 },
    extra: more,
  };
  await send({ type: 'result', result: out });
  process.disconnect();
}
