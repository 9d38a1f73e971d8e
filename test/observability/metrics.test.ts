import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Actor } from '../../src/actors/actor.js';
import { ActorBudget, Region } from '../../src/actors/region.js';
import { Metrics } from '../../src/observability/metrics.js';

class Probe extends Actor {}

const sample = (text: string, line: string): number | undefined => {
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? undefined : Number(found.slice(line.length + 1));
};

test('metrics: counters are incremented where counting happens, gauges each read their own source', async () => {
  const metrics = new Metrics({ version: 't', roles: ['actors', 'projections'], namespace: 'n' }, { processMetrics: false });
  assert.equal(sample(await metrics.render(), 'chat_actor_activations_total'), undefined, 'no actor metrics before the role starts');

  const counters = metrics.actorCounters();
  assert.equal(metrics.actorCounters(), counters, 'one set of counters per process');
  const budget = new ActorBudget(1, counters);
  const region = new Region(() => new Probe(), 60_000, budget);
  region.get('a');
  region.get('b'); // over the bound: a is passivated
  region.clear(); // a worker that stops loses none of its increments
  counters.batches.inc();
  counters.writes.inc(3);

  const applied = metrics.projectionCounters('counters');
  metrics.projectionCounters('search-indexer');
  applied.applied.inc(5);

  let lagReads = 0;
  metrics.bindActors({ ownedPartitions: () => 4, stalledPartitions: () => 1, liveActors: () => 2, unsettledCommands: () => 7 });
  metrics.bindProjections(() => 2);
  metrics.bindConsumerLag(async () => {
    lagReads++;
    return [{ kind: 'commands', consumer: 'cmd-p0', pending: 2, ackPending: 1 }];
  });
  metrics.consumerLagErrors.inc();

  const text = await metrics.render();
  assert.equal(sample(text, 'chat_actor_activations_total'), 2);
  assert.equal(sample(text, 'chat_actor_passivations_total'), 1);
  assert.equal(sample(text, 'chat_group_commit_batches_total'), 1);
  assert.equal(sample(text, 'chat_group_commit_writes_total'), 3);
  assert.equal(sample(text, 'chat_projection_events_applied_total{projection="counters"}'), 5);
  assert.equal(sample(text, 'chat_projection_events_applied_total{projection="search-indexer"}'), 0);
  assert.equal(sample(text, 'chat_projection_batch_failures_total{projection="counters"}'), 0);
  assert.equal(sample(text, 'chat_partitions_owned'), 4);
  assert.equal(sample(text, 'chat_partitions_stalled'), 1);
  assert.equal(sample(text, 'chat_actors_live'), 2);
  assert.equal(sample(text, 'chat_actor_unsettled_commands'), 7);
  assert.equal(sample(text, 'chat_projections_running'), 2);
  assert.equal(sample(text, 'chat_consumer_lag_messages{kind="commands",consumer="cmd-p0"}'), 3);
  assert.equal(sample(text, 'chat_consumer_ack_pending_messages{kind="commands",consumer="cmd-p0"}'), 1);
  assert.equal(sample(text, 'chat_consumer_lag_errors_total'), 1);
  assert.equal(lagReads, 2, 'each lag gauge reads on its own');

  // binding again replaces the source (no duplicate registration)
  metrics.bindActors({ ownedPartitions: () => 1, stalledPartitions: () => 0, liveActors: () => 0, unsettledCommands: () => 0 });
  assert.equal(sample(await metrics.render(), 'chat_partitions_owned'), 1);
});

test('metrics: live-stream counters keep every increment across scrapes, both bounds have a series, gauges read their source', async () => {
  const metrics = new Metrics({ version: 't', roles: ['api'], namespace: 'n' }, { processMetrics: false });
  let open = 3;
  metrics.bindLive({ openStreams: () => open, watchedChats: () => 1 });
  const counters = metrics.liveCounters();
  assert.equal(metrics.liveCounters(), counters, 'one set of counters per process');

  let text = await metrics.render();
  assert.equal(sample(text, 'chat_live_streams'), 3);
  assert.equal(sample(text, 'chat_live_watched_chats'), 1);
  assert.equal(sample(text, 'chat_live_rejected_total{bound="process"}'), 0, 'both bounds have a series from the start');
  assert.equal(sample(text, 'chat_live_rejected_total{bound="application"}'), 0);

  counters.opened.inc();
  counters.eventsSent.inc(4);
  counters.rejectedApplication.inc();
  text = await metrics.render();
  counters.eventsSent.inc(); // between two scrapes: counted in the next one, never lost
  open = 0;
  const next = await metrics.render();
  assert.equal(sample(text, 'chat_live_streams_opened_total'), 1);
  assert.equal(sample(text, 'chat_live_events_sent_total'), 4);
  assert.equal(sample(text, 'chat_live_rejected_total{bound="application"}'), 1);
  assert.equal(sample(next, 'chat_live_events_sent_total'), 5);
  assert.equal(sample(next, 'chat_live_streams'), 0);
});
