import type { NatsConnection } from 'nats';

export interface ConsumerBacklog {
  consumer: string;
  /** Messages matching the consumer's filter not delivered yet. */
  pending: number;
  /** Delivered and not acknowledged yet. */
  ackPending: number;
}

/**
 * Reads the backlog of every durable consumer of a stream with one paged `CONSUMER.LIST` request (256
 * consumers a page) instead of one `CONSUMER.INFO` per consumer, and keeps the answer for `cacheMs`: a
 * Prometheus scrape costs at most one request per stream, however many partitions the process owns and
 * however often it is scraped. Concurrent reads share the request in flight (and its failure, counted once).
 */
export class ConsumerLagProbe {
  private readonly cache = new Map<string, { at: number; value: Promise<ConsumerBacklog[]> }>();
  private jsm?: ReturnType<NatsConnection['jetstreamManager']>;

  constructor(
    private readonly nc: NatsConnection,
    private readonly cacheMs = 5000,
    /** Called once for every request that failed (a metric counts them). */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  read(stream: string): Promise<ConsumerBacklog[]> {
    const cached = this.cache.get(stream);
    if (cached && Date.now() - cached.at < this.cacheMs) return cached.value;
    const value = this.list(stream);
    this.cache.set(stream, { at: Date.now(), value });
    value.catch((err: unknown) => {
      this.cache.delete(stream); // an error is not cached
      this.onError(err);
    });
    return value;
  }

  private async list(stream: string): Promise<ConsumerBacklog[]> {
    // no API check: creating the manager then costs no request
    this.jsm ??= this.nc.jetstreamManager({ checkAPI: false, timeout: 2000 });
    const jsm = await this.jsm;
    const out: ConsumerBacklog[] = [];
    for await (const info of jsm.consumers.list(stream)) {
      out.push({ consumer: info.name, pending: info.num_pending, ackPending: info.num_ack_pending });
    }
    return out;
  }
}
