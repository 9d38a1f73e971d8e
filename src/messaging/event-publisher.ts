import { createHash } from 'node:crypto';
import type { JetStreamClient, NatsConnection } from 'nats';
import { eventId, kindOf, type DomainEvent, type EventKind } from '../protocol/events.js';
import type { Names } from '../protocol/subjects.js';
import { encoder } from './nats.js';

export interface PartitionEvent {
  event: DomainEvent;
  partition: number;
}

/**
 * Publishes domain events to the EVENTS stream, batched: the events of one group commit become one message
 * per kind, `{"events":[…]}`, cut below the server's payload limit, on `<ns>.evt.<kind>.<partition>` with the
 * partition of the batch's first event (consumers filter by kind; a batch spans the partitions of a process). The message id
 * (JetStream deduplication) is the event id for a single event, else a digest of the ids in the batch.
 * Resolves once JetStream stored every message. With a connection for `live`, the message events are then also
 * published, per chat, on the core NATS subject `<ns>.live.chat.<token>.<number>` (not stored, at most once: the
 * live streams fill what they miss from MySQL, see src/live/).
 */
export class EventPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly names: Names,
    /** Largest message to publish, in bytes (half the server's max_payload). */
    private readonly maxBytes: number,
    /** Publishes the live per-chat subjects when given. */
    private readonly live?: NatsConnection,
  ) {}

  async publish(events: readonly PartitionEvent[]): Promise<void> {
    const byKind = new Map<EventKind, { partition: number; events: DomainEvent[] }>();
    for (const { event, partition } of events) {
      const kind = kindOf(event);
      const group = byKind.get(kind);
      if (group) group.events.push(event);
      else byKind.set(kind, { partition, events: [event] });
    }
    const stored: Promise<unknown>[] = [];
    for (const [kind, group] of byKind) {
      const subject = this.names.eventSubject(kind, group.partition);
      for (const chunk of this.chunks(group.events)) {
        stored.push(this.js.publish(subject, encoder.encode(`{"events":[${chunk.json.join(',')}]}`), { msgID: batchId(chunk.events), timeout: 5000 }));
      }
    }
    await Promise.all(stored);
    if (this.live) this.publishLive(this.live, events);
  }

  /** One core message per chat of the batch (more when over the size bound), `{"events":[…]}` in the batch's order. */
  private publishLive(nc: NatsConnection, events: readonly PartitionEvent[]): void {
    const byChat = new Map<string, DomainEvent[]>();
    for (const { event } of events) {
      if (event.type !== 'MessageCreated' && event.type !== 'MessageUpdated') continue;
      const subject = this.names.liveChatSubject(event.token, event.chat_number);
      const list = byChat.get(subject);
      if (list) list.push(event);
      else byChat.set(subject, [event]);
    }
    try {
      for (const [subject, chatEvents] of byChat) {
        for (const chunk of this.chunks(chatEvents)) nc.publish(subject, encoder.encode(`{"events":[${chunk.json.join(',')}]}`));
      }
    } catch {
      // a closed connection: the events are stored; live streams fill from MySQL
    }
  }

  private *chunks(events: readonly DomainEvent[]): Generator<{ events: DomainEvent[]; json: string[] }> {
    let chunk: { events: DomainEvent[]; json: string[] } = { events: [], json: [] };
    let bytes = 0;
    for (const event of events) {
      const json = JSON.stringify(event);
      const size = Buffer.byteLength(json) + 1;
      if (chunk.events.length > 0 && bytes + size > this.maxBytes) {
        yield chunk;
        chunk = { events: [], json: [] };
        bytes = 0;
      }
      chunk.events.push(event);
      chunk.json.push(json);
      bytes += size;
    }
    if (chunk.events.length > 0) yield chunk;
  }
}

function batchId(events: readonly DomainEvent[]): string {
  if (events.length === 1) return eventId(events[0]!);
  const digest = createHash('sha256');
  for (const event of events) digest.update(eventId(event)).update('\n');
  return `batch:${digest.digest('base64url')}`;
}
