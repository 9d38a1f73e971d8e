import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the service, defined here and nowhere else. Hot paths are not touched: apart from
 * the HTTP histogram (one observation per response), every value is read at scrape time from getters the
 * roles already have, through the sources that src/runtime.ts binds (`bind*`). The metrics of a source are
 * registered when it is bound: a process without the actors role has no actor metrics at all (not zeros).
 */

/** Group-commit and passivation counts of one partition worker incarnation (ActorSystem.partitionStats). */
export interface PartitionSample {
  partition: number;
  /** The fencing epoch: a new one for every incarnation of the partition's worker. */
  epoch: number;
  liveActors: number;
  activations: number;
  passivations: number;
  batches: number;
  writes: number;
  unsettled: number;
}

export interface ActorsSource {
  ownedPartitions(): number;
  /** Owned partitions with no worker running (starting, backing off after a failure, crashed). */
  stalledPartitions?(): number;
  partitions(): readonly PartitionSample[];
}

export interface ProjectionSample {
  projection: string;
  /** Events applied (acknowledged) by this process since it started. */
  applied: number;
  /** Batches that failed (bulk or SQL error) and were handed back for redelivery. */
  failures: number;
}

export interface ConsumerLagSample {
  /** `commands` (a partition's command consumer) or `projection` (an EVENTS consumer). */
  kind: 'commands' | 'projection';
  consumer: string;
  /** Messages not delivered yet (num_pending). */
  pending: number;
  /** Delivered, not acknowledged yet (num_ack_pending). */
  ackPending: number;
}

export interface PoolSample {
  used: number;
  free: number;
  pendingAcquires: number;
  max: number;
}

interface Sources {
  commandsInFlight?: () => number;
  actors?: ActorsSource;
  projections?: () => readonly ProjectionSample[];
  consumerLag?: () => Promise<readonly ConsumerLagSample[]>;
  dbPool?: () => PoolSample | undefined;
}

/** Seconds; the write path waits up to COMMAND_TIMEOUT_MS (5 s by default). */
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const METRIC_PREFIX = 'chat_';

/**
 * Turns a cumulative value read from a source that may restart from zero (a partition worker's new
 * incarnation, another process) into increments of a Prometheus counter.
 */
class Monotonic {
  private last = new Map<string, number>();

  constructor(private readonly counter: Counter<string>) {}

  /** Every key sampled in this scrape; keys not sampled are forgotten (their source is gone). */
  update(samples: ReadonlyArray<{ key: string; labels: Record<string, string | number>; value: number }>): void {
    const next = new Map<string, number>();
    for (const s of samples) {
      const before = this.last.get(s.key) ?? 0;
      const delta = s.value >= before ? s.value - before : s.value;
      if (delta > 0) this.counter.inc(s.labels, delta);
      else if (!this.last.has(s.key)) this.counter.inc(s.labels, 0); // the series exists from the first scrape
      next.set(s.key, s.value);
    }
    this.last = next;
  }
}

type Group = 'commandBus' | 'actors' | 'projections' | 'consumerLag' | 'dbPool';
type AnyMetric = Gauge<string> | Counter<string>;

export class Metrics {
  readonly registry = new Registry();
  private readonly sources: Sources = {};
  /** Metrics of a source, registered when it is bound: a process shows only the metrics of what it runs. */
  private readonly groups: Record<Group, Array<{ name: string; metric: AnyMetric }>> = { commandBus: [], actors: [], projections: [], consumerLag: [], dbPool: [] };

  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(info: { version: string; roles: readonly string[]; namespace: string }, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const sources = this.sources;
    const group = <M extends AnyMetric>(name: Group, metric: M): M => {
      this.groups[name].push({ name: (metric as unknown as { name: string }).name, metric });
      return metric;
    };
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });

    new Gauge({
      name: `${METRIC_PREFIX}build_info`, help: 'Always 1; labels name the version, the roles of the process and the NAMESPACE.',
      labelNames: ['version', 'roles', 'namespace'], registers,
    }).set({ version: info.version, roles: info.roles.join(','), namespace: info.namespace }, 1);

    // --- api role -----------------------------------------------------------------------------------
    this.httpRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests by method, route pattern (e.g. /applications/:token/chats) and status code.',
      labelNames: ['method', 'route', 'status_code'], buckets: HTTP_BUCKETS, registers,
    });
    group('commandBus', new Gauge({
      name: `${METRIC_PREFIX}commands_in_flight`, help: 'Commands this api process has sent and is still waiting for (CommandBus).', registers: [],
      collect() {
        this.set(sources.commandsInFlight?.() ?? 0);
      },
    }));

    // --- actors role ----------------------------------------------------------------------------------
    // prom-client collects in registration order, synchronously up to the first await: partitions_owned
    // samples the partitions once per scrape, and the gauges and counters registered after it read that sample.
    let partitionSamples: readonly PartitionSample[] = [];
    group('actors', new Gauge({
      name: `${METRIC_PREFIX}partitions_owned`, help: 'Command partitions this process owns (ActorSystem.ownedPartitions).', registers: [],
      collect() {
        partitionSamples = sources.actors?.partitions() ?? [];
        for (const name of ['activations', 'passivations', 'batches', 'writes'] as const) {
          actorCounters[name].update(partitionSamples.map((p) => ({ key: `${p.partition}/${p.epoch}`, labels: {}, value: p[name] })));
        }
        this.set(sources.actors?.ownedPartitions() ?? 0);
      },
    }));
    group('actors', new Gauge({
      name: `${METRIC_PREFIX}partitions_stalled`,
      help: 'Command partitions this process owns but runs no worker for: starting, waiting to restart after a failed start or a crash (backoff). Nonzero for more than a few seconds means commands of those partitions are not consumed.',
      registers: [],
      collect() {
        this.set(sources.actors?.stalledPartitions?.() ?? 0);
      },
    }));
    group('actors', new Gauge({
      name: `${METRIC_PREFIX}actors_live`, help: 'Live (not passivated) actors of this process.', registers: [],
      collect() {
        this.set(partitionSamples.reduce((n, p) => n + p.liveActors, 0));
      },
    }));
    group('actors', new Gauge({
      name: `${METRIC_PREFIX}actor_unsettled_commands`,
      help: 'Commands received and not yet acknowledged (mailboxes plus uncommitted writes), over the partitions of this process; a partition stops pulling at MAILBOX_CAPACITY.',
      registers: [],
      collect() {
        this.set(partitionSamples.reduce((n, p) => n + p.unsettled, 0));
      },
    }));
    const actorCounter = (name: string, help: string): Monotonic => new Monotonic(group('actors', new Counter({ name: `${METRIC_PREFIX}${name}`, help, registers: [] })));
    const actorCounters = {
      activations: actorCounter('actor_activations_total', 'Actors started (state loaded from MySQL) by this process.'),
      passivations: actorCounter('actor_passivations_total', 'Actors passivated (idle, or over ACTOR_MAX_ACTIVE) by this process.'),
      batches: actorCounter('group_commit_batches_total', 'MySQL transactions of the group committers of this process.'),
      writes: actorCounter('group_commit_writes_total', 'Writes committed by the group committers of this process (writes / batches = batch size).'),
    };

    // --- projections role ---------------------------------------------------------------------------
    group('projections', new Gauge({
      name: `${METRIC_PREFIX}projections_running`, help: 'Projections running in this process.', registers: [],
      collect() {
        const samples = sources.projections?.() ?? [];
        projectionCounters.applied.update(samples.map((s) => ({ key: s.projection, labels: { projection: s.projection }, value: s.applied })));
        projectionCounters.failures.update(samples.map((s) => ({ key: s.projection, labels: { projection: s.projection }, value: s.failures })));
        this.set(samples.length);
      },
    }));
    const projectionCounter = (name: string, help: string): Monotonic =>
      new Monotonic(group('projections', new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames: ['projection'], registers: [] })));
    const projectionCounters = {
      applied: projectionCounter('projection_events_applied_total', 'Events applied and acknowledged by the projections of this process.'),
      failures: projectionCounter('projection_batch_failures_total', 'Projection batches that failed and were handed back for redelivery (projection="search-indexer": failed bulk requests).'),
    };

    // --- JetStream consumers (actors: the command partitions owned; projections: the EVENTS consumers) ----
    let lag: Promise<readonly ConsumerLagSample[]> = Promise.resolve([]);
    group('consumerLag', new Gauge({
      name: `${METRIC_PREFIX}consumer_lag_messages`,
      help: 'JetStream consumer lag: messages not delivered yet plus delivered and unacknowledged (num_pending + num_ack_pending). kind="commands": the partitions this process owns; kind="projection": the shared EVENTS consumers (every projections process reports the same value).',
      labelNames: ['kind', 'consumer'], registers: [],
      async collect() {
        const read = sources.consumerLag;
        lag = read ? read().catch(() => { lagErrors.inc(); return []; }) : Promise.resolve([]);
        const samples = await lag;
        this.reset();
        for (const s of samples) this.set({ kind: s.kind, consumer: s.consumer }, s.pending + s.ackPending);
      },
    }));
    group('consumerLag', new Gauge({
      name: `${METRIC_PREFIX}consumer_ack_pending_messages`, help: 'The part of the consumer lag delivered and not yet acknowledged (num_ack_pending).',
      labelNames: ['kind', 'consumer'], registers: [],
      async collect() {
        const samples = await lag;
        this.reset();
        for (const s of samples) this.set({ kind: s.kind, consumer: s.consumer }, s.ackPending);
      },
    }));
    const lagErrors = group('consumerLag', new Counter({
      name: `${METRIC_PREFIX}consumer_lag_errors_total`, help: 'Scrapes that could not read the JetStream consumer lag.', registers: [],
      async collect() {
        await lag; // counts this scrape's failure
      },
    }));

    // --- MySQL pool ---------------------------------------------------------------------------------
    group('dbPool', new Gauge({
      name: `${METRIC_PREFIX}db_pool_connections`,
      help: 'MySQL connection pool of this process: state="used" (checked out), "free" (idle), "pending" (acquires waiting), "max" (DATABASE_POOL_SIZE).',
      labelNames: ['state'], registers: [],
      collect() {
        this.reset();
        const pool = sources.dbPool?.();
        if (!pool) return;
        this.set({ state: 'used' }, pool.used);
        this.set({ state: 'free' }, pool.free);
        this.set({ state: 'pending' }, pool.pendingAcquires);
        this.set({ state: 'max' }, pool.max);
      },
    }));
  }

  private register(name: Group): void {
    for (const { name: metricName, metric } of this.groups[name]) if (!this.registry.getSingleMetric(metricName)) this.registry.registerMetric(metric);
  }

  bindCommandBus(inFlight: () => number): void {
    this.sources.commandsInFlight = inFlight;
    this.register('commandBus');
  }

  bindActors(source: ActorsSource): void {
    this.sources.actors = source;
    this.register('actors');
  }

  bindProjections(source: () => readonly ProjectionSample[]): void {
    this.sources.projections = source;
    this.register('projections');
  }

  bindConsumerLag(source: () => Promise<readonly ConsumerLagSample[]>): void {
    this.sources.consumerLag = source;
    this.register('consumerLag');
  }

  bindDbPool(source: () => PoolSample | undefined): void {
    this.sources.dbPool = source;
    this.register('dbPool');
  }

  /** For the HTTP layer: one observation per response. */
  observeHttp(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpRequestDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }
}
