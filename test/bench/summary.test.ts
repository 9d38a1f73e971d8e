import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Results, Row } from '../../bench/lib/results.js';
import { median, summarize } from '../../bench/lib/summary.js';
import { markdownTable } from '../../bench/table.js';

function row(over: Partial<Row> & Pick<Row, 'ops_per_s'>): Row {
  return {
    scenario: 'create-spread', title: 'message creation, spread over 1,000 chats', impl: 'service', status: 'PASSED', connections: 64,
    duration_s: 20, ok: over.ops_per_s * 20, requests: over.ops_per_s * 20, statuses: { '201': over.ops_per_s * 20 }, errors: 0, timeouts: 0,
    latency_ms: { p50: 10, p90: 20, p99: 50, max: 90, mean: 12 }, cpu: [], cpu_ms_per_op_total: 0.5, machine_busy_pct: 80,
    invariants: { ok: true, chats: 1000, messages: over.ops_per_s * 20, acknowledged: over.ops_per_s * 20, problems: [] }, extra: {}, notes: [],
    ...over,
  };
}

function results(rows: Row[]): Results {
  return { command: 'npm run bench', date: '2026-12-07T00:00:00.000Z', smoke: false, git: 'abc1234', machine: { cpu_model: 'x', cores: 2, memory_gib: 24, node: 'v24', os: 'Linux' }, options: {}, rows };
}

const share = (name: string, ms: number): Row['cpu'][number] => ({ name, pid: 1, shared: false, cpu_ms: ms * 1000, ms_per_op: ms, pct_of_window: ms * 100 });

test('bench summary: median of odd and even counts', () => {
  assert.equal(median([3, 1, 2]), 2);
  assert.equal(median([4, 1, 3, 2]), 2.5);
});

test('bench summary: a run of one round is answered row by row as it is', () => {
  const only = row({ ops_per_s: 3000 });
  const [s, ...rest] = summarize(results([only]));
  assert.equal(rest.length, 0);
  assert.deepEqual(s, { ...only, rounds: 1, range: { ops_per_s: [3000, 3000], p99: [50, 50] } });
});

test('bench summary: rounds fold into medians per scenario and implementation, with the range, in first-seen order', () => {
  const rounds = [
    row({ round: 1, ops_per_s: 3000, latency_ms: { p50: 10, p90: 20, p99: 40, max: 90, mean: 12 }, cpu: [share('api', 0.1), share('nats', 0.08)], extra: { freshness_ms: { p50: 400, p99: 700, n: 100 }, actors_rss_mb_max: 230 } }),
    row({ round: 1, ops_per_s: 3500, impl: 'lock' }),
    row({ round: 2, ops_per_s: 2000, latency_ms: { p50: 14, p90: 30, p99: 90, max: 150, mean: 16 }, cpu: [share('api', 0.2)], extra: { freshness_ms: { p50: 500, p99: 900, n: 90 }, actors_rss_mb_max: 250 } }),
    row({ round: 2, ops_per_s: 3700, impl: 'lock' }),
    row({ round: 3, ops_per_s: 2600, latency_ms: { p50: 12, p90: 25, p99: 60, max: 100, mean: 14 }, cpu: [share('api', 0.12), share('nats', 0.1)], extra: { freshness_ms: { p50: 450, p99: 800, n: 80 }, actors_rss_mb_max: 240 } }),
    row({ round: 3, ops_per_s: 3600, impl: 'lock', invariants: { ok: false, chats: 1000, messages: 10, acknowledged: 11, problems: ['chat 7: 5 twice'] } }),
  ];
  const [service, lock, ...rest] = summarize(results(rounds));
  assert.equal(rest.length, 0);

  assert.equal(service!.impl, 'service');
  assert.equal(service!.rounds, 3);
  assert.equal(service!.ops_per_s, 2600);
  assert.deepEqual(service!.range, { ops_per_s: [2000, 3000], p99: [40, 90] });
  assert.deepEqual(service!.latency_ms, { p50: 12, p90: 25, p99: 60, max: 100, mean: 14 });
  assert.equal(service!.ok, (3000 + 2000 + 2600) * 20, 'counts are summed');
  // a process one round did not see counts as no CPU in that round
  assert.deepEqual(service!.cpu.map((c) => [c.name, c.ms_per_op]), [['api', 0.12], ['nats', 0.08]]);
  assert.deepEqual(service!.extra['freshness_ms'], { p50: 450, p99: 800, n: 270 });
  assert.equal(service!.extra['actors_rss_mb_max'], 250, 'a maximum stays the largest of the rounds');
  assert.equal(service!.invariants!.ok, true);

  assert.equal(lock!.ops_per_s, 3600);
  assert.equal(lock!.invariants!.ok, false, 'invariants hold only if they held in every round');
  assert.deepEqual(lock!.invariants!.problems, ['chat 7: 5 twice']);
});

test('bench summary: a failed or errored round marks the row', () => {
  const failed = summarize(results([row({ round: 1, ops_per_s: 10 }), row({ round: 2, ops_per_s: 0, status: 'FAILED' })]))[0]!;
  assert.equal(failed.status, 'FAILED');
  const errored = summarize(results([row({ round: 1, ops_per_s: 10 }), row({ round: 2, ops_per_s: 0, status: 'ERROR', error: 'deployment did not start' })]))[0]!;
  assert.equal(errored.status, 'ERROR');
  assert.equal(errored.ops_per_s, 10, 'medians over the rounds that measured');
  assert.match(errored.error ?? '', /deployment did not start/);
});

test('bench table: with several rounds a row shows the medians and the rounds\' range; with one, the figures alone', () => {
  const three = markdownTable(results([
    row({ round: 1, ops_per_s: 3000, latency_ms: { p50: 10, p90: 20, p99: 40, max: 90, mean: 12 } }),
    row({ round: 2, ops_per_s: 2000, latency_ms: { p50: 14, p90: 30, p99: 90, max: 150, mean: 16 } }),
    row({ round: 3, ops_per_s: 2600, latency_ms: { p50: 12, p90: 25, p99: 60, max: 100, mean: 14 } }),
  ]));
  assert.match(three, /median of 3 rounds/);
  const lines = three.split('\n').filter((l) => l.startsWith('| message creation'));
  assert.equal(lines.length, 1, 'one line per scenario and implementation');
  assert.match(lines[0]!, /\| 2,600 \(2,000–3,000\) \| 12 \| 60 \(40–90\) \|/);

  const one = markdownTable(results([row({ ops_per_s: 3000 })]));
  assert.doesNotMatch(one, /median of/);
  assert.match(one, /\| 3,000 \| 10 \| 50 \|/);
});
