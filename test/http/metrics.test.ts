import assert from 'node:assert/strict';
import { test } from 'node:test';
import { call, startDeployment, waitFor } from '../support/harness.js';
import { freePort } from '../support/ports.js';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format, samples only (`name{a="b",c="d"} value`). */
function parse(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: match[1]!, labels, value: Number(match[3]) });
  }
  return out;
}

async function scrape(base: string): Promise<Sample[]> {
  const res = await fetch(`${base}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  return parse(await res.text());
}

const find = (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] =>
  samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined => {
  const found = find(samples, name, labels);
  return found.length === 0 ? undefined : found.reduce((n, s) => n + s.value, 0);
};


test('metrics: /metrics on the api port covers HTTP, commands, actors, group commit, consumers, projections and the pool', async (t) => {
  const { url, config } = await startDeployment(t);
  const token = (await call(url, 'POST', '/applications', { name: 'metrics' })).body.token as string;
  assert.equal((await call(url, 'POST', `/applications/${token}/chats`, {})).status, 201);
  for (let i = 0; i < 3; i++) assert.equal((await call(url, 'POST', `/applications/${token}/chats/1/messages`, { body: `m${i}` })).status, 201);
  assert.equal((await call(url, 'GET', `/applications/${token}/chats/9`)).status, 404);
  assert.equal((await call(url, 'GET', '/nowhere')).status, 404);

  // the projections catch up (counters: 1 chat + 3 messages, search indexer: 3 messages)
  const samples = await waitFor('projections to apply the events', async () => {
    const s = await scrape(url);
    const counters = value(s, 'chat_projection_events_applied_total', { projection: 'counters' }) ?? 0;
    const indexed = value(s, 'chat_projection_events_applied_total', { projection: 'search-indexer' }) ?? 0;
    return counters >= 4 && indexed >= 3 && s;
  });

  // HTTP: by route pattern, never by URL
  const http = 'chat_http_request_duration_seconds_count';
  assert.equal(value(samples, http, { method: 'POST', route: '/applications/:token/chats/:number/messages', status_code: '201' }), 3);
  assert.equal(value(samples, http, { method: 'POST', route: '/applications', status_code: '201' }), 1);
  assert.equal(value(samples, http, { method: 'GET', route: '/applications/:token/chats/:number', status_code: '404' }), 1);
  assert.equal(value(samples, http, { method: 'GET', route: 'unmatched', status_code: '404' }), 1);
  for (const s of find(samples, http)) assert.ok(!s.labels['route']!.includes(token), `route label ${s.labels['route']} is a pattern`);
  assert.ok(find(samples, 'chat_http_request_duration_seconds_bucket', { le: '+Inf' }).length > 0);

  assert.equal(value(samples, 'chat_commands_in_flight'), 0);
  assert.equal(value(samples, 'chat_build_info', { roles: 'api,actors,projections', namespace: config.namespace }), 1);

  // actors: the single actor process owns every partition
  const owned = value(samples, 'chat_partitions_owned');
  assert.ok(owned !== undefined && owned >= 1 && owned <= config.partitions, `partitions owned: ${owned}`);
  assert.equal(value(samples, 'chat_partitions_stalled'), 0, 'every owned partition runs a worker');
  assert.ok((value(samples, 'chat_actors_live') ?? 0) >= 3, 'registrar, application and chat actors are live');
  assert.ok((value(samples, 'chat_actor_activations_total') ?? 0) >= 3);
  assert.equal(value(samples, 'chat_actor_passivations_total'), 0);
  assert.equal(value(samples, 'chat_actor_unsettled_commands'), 0);
  const writes = value(samples, 'chat_group_commit_writes_total') ?? 0;
  const batches = value(samples, 'chat_group_commit_batches_total') ?? 0;
  assert.ok(writes >= 5 && batches >= 1 && batches <= writes, `writes ${writes}, batches ${batches}`);

  // JetStream lag: a series per owned command partition, and the two projection consumers
  const commandLag = find(samples, 'chat_consumer_lag_messages', { kind: 'commands' });
  assert.ok(commandLag.length >= 1 && commandLag.length <= config.partitions, `command consumers: ${commandLag.length}`);
  for (const s of commandLag) assert.match(s.labels['consumer']!, /^cmd-p\d+$/);
  for (const consumer of ['search-indexer', 'counters']) {
    assert.equal(find(samples, 'chat_consumer_lag_messages', { kind: 'projection', consumer }).length, 1, consumer);
    assert.equal(find(samples, 'chat_consumer_ack_pending_messages', { kind: 'projection', consumer }).length, 1, consumer);
  }
  assert.equal(value(samples, 'chat_consumer_lag_errors_total'), 0);
  assert.equal(value(samples, 'chat_projection_batch_failures_total', { projection: 'counters' }), 0);

  // MySQL pool
  assert.equal(value(samples, 'chat_db_pool_connections', { state: 'max' }), config.databasePoolSize);
  for (const state of ['used', 'free', 'pending']) assert.notEqual(value(samples, 'chat_db_pool_connections', { state }), undefined, state);

  // process metrics
  assert.ok((value(samples, 'chat_process_resident_memory_bytes') ?? 0) > 0);

  // the lag drains: every command is acknowledged once its reply is sent
  await waitFor('command lag 0', async () => {
    const s = await scrape(url);
    return find(s, 'chat_consumer_lag_messages', { kind: 'commands' }).every((x) => x.value === 0);
  }, 20_000, 1000);
});

test('metrics: /metrics is not in the API spec and an api process opens no ops port', async (t) => {
  const port = await freePort();
  const { url, runtime } = await startDeployment(t, { env: { ROLES: 'api', OPS_PORT: String(port) } });
  assert.equal(runtime.ops, undefined);
  const spec = (await call(url, 'GET', '/openapi.json')).body;
  assert.equal(spec.paths['/metrics'], undefined);
  const samples = await scrape(url);
  assert.equal(value(samples, 'chat_partitions_owned'), undefined, 'no actors role, no actor metrics');
  assert.equal(find(samples, 'chat_consumer_lag_messages').length, 0);
  await assert.rejects(fetch(`http://127.0.0.1:${port}/health/live`));
});

for (const role of ['actors', 'projections'] as const) {
  test(`ops server: ROLES=${role} serves /health/live, /health/ready and /metrics on OPS_PORT`, async (t) => {
    const port = await freePort();
    const { runtime, config } = await startDeployment(t, { env: { ROLES: role, OPS_PORT: String(port) } });
    assert.equal(runtime.url, undefined, 'no API listener');
    assert.equal(runtime.opsUrl, `http://127.0.0.1:${port}`);
    const base = runtime.opsUrl;

    const live = await call(base, 'GET', '/health/live');
    assert.equal(live.status, 200);
    assert.equal(live.body.status, 'ok');
    const ready = await call(base, 'GET', '/health/ready');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    // actors: every owned partition has a running worker (checks.partitions)
    const checks = role === 'actors' ? { started: true, mysql: true, nats: true, partitions: true } : { started: true, mysql: true, nats: true };
    assert.deepEqual(ready.body, { status: 'ready', checks });
    // nothing of the API
    const api = await call(base, 'GET', '/applications');
    assert.equal(api.status, 404);
    assert.equal(api.body.error, 'not_found');
    assert.equal((await call(base, 'GET', '/openapi.json')).status, 404);

    const samples = await scrape(base);
    assert.equal(value(samples, 'chat_build_info', { roles: role, namespace: config.namespace }), 1);
    assert.notEqual(value(samples, 'chat_db_pool_connections', { state: 'max' }), undefined);
    assert.equal(value(samples, 'chat_commands_in_flight'), undefined, 'no api role, no command bus');
    if (role === 'actors') {
      await waitFor('partitions owned', async () => ((value(await scrape(base), 'chat_partitions_owned') ?? 0) > 0));
      assert.equal(value(samples, 'chat_projections_running'), undefined);
    } else {
      assert.equal(value(samples, 'chat_projections_running'), 2);
      assert.equal(value(samples, 'chat_partitions_owned'), undefined);
      assert.equal(find(samples, 'chat_consumer_lag_messages', { kind: 'projection' }).length, 2);
    }

    // readiness turns 503 (or the listener closes) once the process stops
    await runtime.stop();
    const after = await fetch(`${base}/health/ready`).then((r) => r.status, () => 'closed');
    assert.ok(after === 503 || after === 'closed', `after stop: ${after}`);
  });
}
