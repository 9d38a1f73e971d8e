import type { Logger } from '../log.js';
import type { EventPublisher } from '../messaging/event-publisher.js';
import type { ResourceCache } from '../storage/cache.js';
import type { Outcome } from './context.js';
import type { Delivery } from './delivery.js';

interface Completion {
  partition: number;
  delivery: Delivery;
  outcome: Outcome;
  done: () => void;
}

/**
 * The after-commit pipeline of every command whose effect is durable, in this order:
 *   1. overwrite the read cache (so a GET right after the reply sees the write),
 *   2. reply to the waiting API process (the client gets its 201/200),
 *   3. publish the domain events to JetStream and wait for them to be stored,
 *   4. ack the command (or hand it back when its events could not be published: its redelivery finds the
 *      committed row and publishes them again, with the same event ids).
 * Completions that arrive in the same turn of the event loop — typically every write of one group commit —
 * go through together: one Redis pipeline, the replies, events and acks of all of them written to NATS at
 * once, instead of a round trip and a socket write each.
 */
export class Completer {
  private pending: Completion[] = [];

  constructor(
    private readonly cache: ResourceCache,
    private readonly events: EventPublisher,
    private readonly log: Logger,
  ) {}

  complete(partition: number, delivery: Delivery, outcome: Outcome): Promise<void> {
    return new Promise((done) => {
      if (this.pending.push({ partition, delivery, outcome, done }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    try {
      await this.cache.put(batch.flatMap((c) => c.outcome.cache)).catch(() => undefined); // best effort: a miss reads MySQL
      for (const c of batch) c.delivery.reply(c.outcome.reply);
      const eventful = batch.filter((c) => c.outcome.events.length > 0);
      let published = true;
      try {
        await this.events.publish(eventful.flatMap((c) => c.outcome.events.map((event) => ({ event, partition: c.partition }))));
      } catch (err) {
        published = false;
        this.log.warn({ err, commands: eventful.length }, 'events not published; commands handed back for redelivery');
      }
      for (const c of batch) {
        if (published || c.outcome.events.length === 0) c.delivery.ack();
        else c.delivery.nak(1000);
      }
    } finally {
      for (const c of batch) c.done();
    }
  }
}
