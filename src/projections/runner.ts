import { AckPolicy, DeliverPolicy, nanos, type ConsumerMessages, type JsMsg, type NatsConnection } from 'nats';
import type { Logger } from '../log.js';
import { ensureConsumer } from '../messaging/jetstream-ensure.js';
import { eventsOf, type DomainEvent } from '../protocol/events.js';

/** One event of a batch, with the EVENTS stream sequence of the message that carried it. */
export interface Delivered {
  event: DomainEvent;
  seq: number;
}

export interface ProjectionSpec {
  /** Durable consumer name, shared by every projections process: they split the work. */
  durable: string;
  stream: string;
  filterSubject: string;
  batchMax: number;
  /** Longest time an event waits in the buffer before its batch is applied. */
  flushMs: number;
  ackWaitMs: number;
  /** Applies a batch; throwing hands the whole batch back (nak with backoff). Must be idempotent. */
  apply(batch: readonly Delivered[]): Promise<void>;
}

/** Prometheus counters of one projection (src/observability/metrics.ts `projectionCounters`). */
export interface ProjectionCounters {
  /** Events applied and acknowledged. */
  applied: { inc(value?: number): void };
  /** Batches that failed and were handed back for redelivery. */
  failures: { inc(value?: number): void };
}

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/**
 * Runs a projection on a durable pull consumer of the EVENTS stream: events are buffered and applied in
 * batches (by count and by time), acknowledged after the batch is applied, handed back with a growing delay
 * when it fails (nothing is lost: the consumer has no delivery limit). JetStream delivers to whichever
 * process pulls, so several processes share the work; ordering is not guaranteed (redeliveries, several
 * pullers), which is why every projection applies events idempotently and by version.
 */
export class ProjectionRunner {
  private buffer: JsMsg[] = [];
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private backoffMs = 0;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private lastWarn = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly spec: ProjectionSpec,
    private readonly log: Logger,
    private readonly counters?: ProjectionCounters,
  ) {}

  async start(): Promise<void> {
    await ensureProjectionConsumer(this.nc, this.spec);
    const consumer = await this.nc.jetstream().consumers.get(this.spec.stream, this.spec.durable);
    this.messages = await consumer.consume({ max_messages: this.spec.batchMax * 2 });
    this.loop = this.run(this.messages);
  }

  private async run(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const m of messages) {
        this.buffer.push(m);
        if (this.buffer.length >= this.spec.batchMax) await this.flush();
        else this.timer ??= setTimeout(() => void this.flush(), this.spec.flushMs);
      }
    } catch (err) {
      if (!this.stopping) this.log.error({ err }, 'projection consumer stopped');
    }
  }

  private flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.chain = this.chain.then(() => this.applyBuffer());
    return this.chain;
  }

  private async applyBuffer(): Promise<void> {
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length === 0) return;
    // keep the batch (and what piles up meanwhile) from being redelivered while we work on it
    const heartbeat = setInterval(() => {
      for (const m of batch) m.working();
      for (const m of this.buffer) m.working();
    }, Math.max(1000, Math.floor(this.spec.ackWaitMs / 3)));
    try {
      const delivered: Delivered[] = [];
      for (const m of batch) {
        try {
          for (const event of eventsOf(m.json<unknown>())) delivered.push({ event, seq: m.seq });
        } catch (err) {
          this.log.error({ err, seq: m.seq, subject: m.subject }, 'undecodable event dropped');
          m.term();
        }
      }
      await this.spec.apply(delivered);
      for (const m of batch) m.ack();
      this.counters?.applied.inc(delivered.length);
      if (this.backoffMs > 0) this.log.info({ projection: this.spec.durable }, 'projection recovered');
      this.backoffMs = 0;
    } catch (err) {
      this.counters?.failures.inc();
      this.backoffMs = Math.min(Math.max(this.backoffMs * 2, BACKOFF_MIN_MS), BACKOFF_MAX_MS);
      for (const m of batch) m.nak(this.backoffMs);
      const now = Date.now();
      if (now - this.lastWarn > 10_000) {
        this.lastWarn = now;
        this.log.warn({ err, projection: this.spec.durable, events: batch.length, retry_in_ms: this.backoffMs }, 'projection batch failed; handed back for redelivery');
      }
      if (!this.stopping) await new Promise((r) => setTimeout(r, this.backoffMs));
    } finally {
      clearInterval(heartbeat);
    }
    if (this.buffer.length > 0 && !this.stopping) this.timer ??= setTimeout(() => void this.flush(), this.spec.flushMs);
  }

  /** Stops pulling, applies what is buffered (or hands it back), then returns. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close().catch(() => undefined);
    await this.loop;
    await this.flush();
  }
}

/** Creates the durable consumer, or updates it to this spec (every process calls it on start). */
async function ensureProjectionConsumer(nc: NatsConnection, spec: ProjectionSpec): Promise<void> {
  await ensureConsumer(await nc.jetstreamManager(), spec.stream, {
    durable_name: spec.durable,
    filter_subject: spec.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(spec.ackWaitMs),
    max_ack_pending: Math.max(1000, spec.batchMax * 20),
    max_deliver: -1,
  });
}
