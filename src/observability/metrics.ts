import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the service, defined here and nowhere else. Counters and histograms are
 * incremented where the counting happens: the HTTP histogram (`observeHttp`), the actor and group-commit
 * counters (`actorCounters`, handed to the ActorBudget and GroupCommitter), the projection counters
 * (`projectionCounters`, handed to each ProjectionRunner) and the live-stream counters (`liveCounters`, handed to
 * the LiveHub). Gauges read their value at scrape time, each in its own `collect`, from the getter the roles
 * bind (`bind*`). A role's metrics are registered when it starts: a process without the actors role has no
 * actor metrics at all (not zeros).
 */

export interface ActorsSource {
  ownedPartitions(): number;
  /** Owned partitions with no worker running (starting, backing off after a failure, crashed). */
  stalledPartitions(): number;
  liveActors(): number;
  /** Commands received and not yet acknowledged (mailboxes plus uncommitted writes). */
  unsettledCommands(): number;
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

/** Seconds; the write path waits up to COMMAND_TIMEOUT_MS (5 s by default). */
const HTTP_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const METRIC_PREFIX = 'chat_';

type Count = Counter<string>;
type Instrument = Gauge<string> | Count;

/** The counters the actors role increments where it counts (ActorBudget: activations, passivations; GroupCommitter: batches, writes). */
export interface ActorCounters {
  activations: Count;
  passivations: Count;
  batches: Count;
  writes: Count;
}

/** The counters of one projection (ProjectionRunner), its `projection` label bound. */
export interface ProjectionCounters {
  applied: Counter.Internal;
  failures: Counter.Internal;
}

/** The counters of the live streams (LiveHub and its chat feeds), `rejected` split by the bound that refused. */
export interface LiveStreamCounters {
  opened: Count;
  eventsSent: Count;
  replayed: Count;
  filled: Count;
  rejectedProcess: Counter.Internal;
  rejectedApplication: Counter.Internal;
  slowClosed: Count;
}

export interface LiveSource {
  openStreams(): number;
  watchedChats(): number;
}

export class Metrics {
  readonly registry = new Registry();
  readonly httpRequestDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** Failed reads of the JetStream consumer lag (ConsumerLagProbe); registered by `bindConsumerLag`. */
  readonly consumerLagErrors: Count = new Counter({
    name: `${METRIC_PREFIX}consumer_lag_errors_total`, help: 'Reads of the JetStream consumer lag (one CONSUMER.LIST per stream) that failed.', registers: [],
  });
  private actors?: ActorCounters;
  private projections?: { applied: Counter<'projection'>; failures: Counter<'projection'> };
  private live?: LiveStreamCounters;

  constructor(info: { version: string; roles: readonly string[]; namespace: string }, opts: { processMetrics?: boolean } = {}) {
    const registers = [this.registry];
    if (opts.processMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: METRIC_PREFIX });
    new Gauge({
      name: `${METRIC_PREFIX}build_info`, help: 'Always 1; labels name the version, the roles of the process and the NAMESPACE.',
      labelNames: ['version', 'roles', 'namespace'], registers,
    }).set({ version: info.version, roles: info.roles.join(','), namespace: info.namespace }, 1);
    this.httpRequestDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP requests by method, route pattern (e.g. /applications/:token/chats) and status code.',
      labelNames: ['method', 'route', 'status_code'], buckets: HTTP_BUCKETS, registers,
    });
  }

  /**
   * Registers metrics of a role (a process shows only the metrics of what it runs). Binding again replaces
   * them: each gauge reads the source it was bound with.
   */
  private register(...metrics: Instrument[]): void {
    for (const metric of metrics) {
      const name = (metric as unknown as { name: string }).name;
      this.registry.removeSingleMetric(name);
      this.registry.registerMetric(metric);
    }
  }

  /** A gauge whose value is read at scrape time. */
  private gauge(name: string, help: string, read: () => number): Gauge<string> {
    return new Gauge({ name: `${METRIC_PREFIX}${name}`, help, registers: [], collect() { this.set(read()); } });
  }

  // --- api role -------------------------------------------------------------------------------------

  bindCommandBus(inFlight: () => number): void {
    this.register(this.gauge('commands_in_flight', 'Commands this api process has sent and is still waiting for (CommandBus).', inFlight));
  }

  bindWriteGate(open: () => number): void {
    this.register(this.gauge('write_gate_open', 'Whether this api process takes writes (1) or refuses them at once with 503 because MySQL does not answer its probe (0; WRITE_GATE_PROBE_MS).', open));
  }

  /** The counters the live streams increment (handed to the LiveHub), registered on first use. */
  liveCounters(): LiveStreamCounters {
    if (!this.live) {
      const counter = (name: string, help: string): Count => new Counter({ name: `${METRIC_PREFIX}${name}`, help, registers: [] });
      const rejected = new Counter({
        name: `${METRIC_PREFIX}live_rejected_total`, help: 'Live streams refused by a bound (bound="process": LIVE_MAX_STREAMS, "application": LIVE_MAX_STREAMS_PER_APPLICATION).',
        labelNames: ['bound'], registers: [],
      });
      const rejectedProcess = rejected.labels({ bound: 'process' });
      const rejectedApplication = rejected.labels({ bound: 'application' });
      rejectedProcess.inc(0);
      rejectedApplication.inc(0);
      const counters = {
        opened: counter('live_streams_opened_total', 'Live streams opened in this process.'),
        eventsSent: counter('live_events_sent_total', 'Events written to live streams (replayed and live).'),
        replayed: counter('live_replayed_total', 'Events of live streams read from MySQL on resume (Last-Event-ID / after).'),
        filled: counter('live_filled_total', 'Messages a live feed read from MySQL to fill a gap of the live subject (missed or out of order).'),
        slowClosed: counter('live_slow_closed_total', 'Live streams ended because the client did not read (LIVE_MAX_BUFFER_BYTES).'),
      };
      this.register(...Object.values(counters), rejected);
      this.live = { ...counters, rejectedProcess, rejectedApplication };
    }
    return this.live;
  }

  bindLive(source: LiveSource): void {
    this.liveCounters();
    this.register(
      this.gauge('live_streams', 'Live message streams (SSE) open in this process.', () => source.openStreams()),
      this.gauge('live_watched_chats', 'Chats with at least one live stream in this process (one NATS subscription each).', () => source.watchedChats()),
    );
  }

  // --- actors role ----------------------------------------------------------------------------------

  /** The counters the actors role increments (handed to ActorSystem.start), registered on first use. */
  actorCounters(): ActorCounters {
    if (!this.actors) {
      const counter = (name: string, help: string): Count => new Counter({ name: `${METRIC_PREFIX}${name}`, help, registers: [] });
      this.actors = {
        activations: counter('actor_activations_total', 'Actors started (state loaded from MySQL) by this process.'),
        passivations: counter('actor_passivations_total', 'Actors passivated (idle, or over ACTOR_MAX_ACTIVE) by this process.'),
        batches: counter('group_commit_batches_total', 'MySQL transactions of the group committers of this process.'),
        writes: counter('group_commit_writes_total', 'Writes committed by the group committers of this process (writes / batches = batch size).'),
      };
      this.register(...Object.values(this.actors));
    }
    return this.actors;
  }

  bindActors(source: ActorsSource): void {
    this.register(
      this.gauge('partitions_owned', 'Command partitions this process owns (ActorSystem.ownedPartitions).', () => source.ownedPartitions()),
      this.gauge(
        'partitions_stalled',
        'Command partitions this process owns but runs no worker for: starting, waiting to restart after a failed start or a crash (backoff). Nonzero for more than a few seconds means commands of those partitions are not consumed.',
        () => source.stalledPartitions(),
      ),
      this.gauge('actors_live', 'Live (not passivated) actors of this process.', () => source.liveActors()),
      this.gauge(
        'actor_unsettled_commands',
        'Commands received and not yet acknowledged (mailboxes plus uncommitted writes), over the partitions of this process; a partition stops pulling at MAILBOX_CAPACITY.',
        () => source.unsettledCommands(),
      ),
    );
  }

  // --- projections role -----------------------------------------------------------------------------

  /** The counters of one projection (handed to its ProjectionRunner); its series exist from the start. */
  projectionCounters(projection: string): ProjectionCounters {
    if (!this.projections) {
      this.projections = {
        applied: new Counter({
          name: `${METRIC_PREFIX}projection_events_applied_total`, help: 'Events applied and acknowledged by the projections of this process.',
          labelNames: ['projection'], registers: [],
        }),
        failures: new Counter({
          name: `${METRIC_PREFIX}projection_batch_failures_total`,
          help: 'Projection batches that failed and were handed back for redelivery (projection="search-indexer": failed bulk requests).',
          labelNames: ['projection'], registers: [],
        }),
      };
      this.register(this.projections.applied, this.projections.failures);
    }
    const applied = this.projections.applied.labels({ projection });
    const failures = this.projections.failures.labels({ projection });
    applied.inc(0);
    failures.inc(0);
    return { applied, failures };
  }

  bindProjections(running: () => number): void {
    this.register(this.gauge('projections_running', 'Projections running in this process.', running));
  }

  // --- JetStream consumers (actors: the command partitions owned; projections: the EVENTS consumers) ------

  /**
   * Each gauge reads the lag on its own; `read` is expected to share one request per stream between them
   * (ConsumerLagProbe caches it) and to count its failures in `consumerLagErrors`.
   */
  bindConsumerLag(read: () => Promise<readonly ConsumerLagSample[]>): void {
    const lagGauge = (name: string, help: string, value: (s: ConsumerLagSample) => number): Gauge<string> => new Gauge({
      name: `${METRIC_PREFIX}${name}`, help, labelNames: ['kind', 'consumer'], registers: [],
      async collect() {
        const samples = await read().catch(() => []);
        this.reset();
        for (const s of samples) this.set({ kind: s.kind, consumer: s.consumer }, value(s));
      },
    });
    this.register(
      lagGauge(
        'consumer_lag_messages',
        'JetStream consumer lag: messages not delivered yet plus delivered and unacknowledged (num_pending + num_ack_pending). kind="commands": the partitions this process owns; kind="projection": the shared EVENTS consumers (every projections process reports the same value).',
        (s) => s.pending + s.ackPending,
      ),
      lagGauge('consumer_ack_pending_messages', 'The part of the consumer lag delivered and not yet acknowledged (num_ack_pending).', (s) => s.ackPending),
      this.consumerLagErrors,
    );
  }

  // --- MySQL pool -----------------------------------------------------------------------------------

  bindDbPool(source: () => PoolSample | undefined): void {
    this.register(new Gauge({
      name: `${METRIC_PREFIX}db_pool_connections`,
      help: 'MySQL connection pool of this process: state="used" (checked out), "free" (idle), "pending" (acquires waiting), "max" (DATABASE_POOL_SIZE).',
      labelNames: ['state'], registers: [],
      collect() {
        this.reset();
        const pool = source();
        if (!pool) return;
        this.set({ state: 'used' }, pool.used);
        this.set({ state: 'free' }, pool.free);
        this.set({ state: 'pending' }, pool.pendingAcquires);
        this.set({ state: 'max' }, pool.max);
      },
    }));
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
