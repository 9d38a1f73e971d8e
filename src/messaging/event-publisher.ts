import type { JetStreamClient } from 'nats';
import { eventId, kindOf, type DomainEvent } from '../protocol/events.js';
import type { Names } from '../protocol/subjects.js';
import { encodeJson } from './nats.js';

/** Publishes domain events to the EVENTS stream, deduplicated by event id; resolves once JetStream stored them. */
export class EventPublisher {
  constructor(
    private readonly js: JetStreamClient,
    private readonly names: Names,
  ) {}

  async publish(events: readonly DomainEvent[], partition: number): Promise<void> {
    await Promise.all(
      events.map((event) =>
        this.js.publish(this.names.eventSubject(kindOf(event), partition), encodeJson(event), { msgID: eventId(event), timeout: 5000 }),
      ),
    );
  }
}
