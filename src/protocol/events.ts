/**
 * Domain events, past tense, published by the actors after their transaction commits.
 * `version` is the commands-stream sequence of the write that produced the state: it only grows for a
 * given resource, so projections can drop stale or duplicate events.
 */
export interface ApplicationEventData { token: string; name: string; created_at: string; updated_at: string; version: number }
export interface ChatEventData { token: string; number: number; name: string | null; created_at: string; updated_at: string; version: number }
export interface MessageEventData { token: string; chat_number: number; number: number; body: string; created_at: string; updated_at: string; version: number }

export type DomainEvent =
  | ({ type: 'ApplicationCreated' } & ApplicationEventData)
  | ({ type: 'ApplicationUpdated' } & ApplicationEventData)
  | ({ type: 'ChatCreated' } & ChatEventData)
  | ({ type: 'ChatUpdated' } & ChatEventData)
  | ({ type: 'MessageCreated' } & MessageEventData)
  | ({ type: 'MessageUpdated' } & MessageEventData);

export type EventKind = 'application' | 'chat' | 'message';

export function kindOf(event: DomainEvent): EventKind {
  switch (event.type) {
    case 'ApplicationCreated':
    case 'ApplicationUpdated':
      return 'application';
    case 'ChatCreated':
    case 'ChatUpdated':
      return 'chat';
    case 'MessageCreated':
    case 'MessageUpdated':
      return 'message';
    default: {
      const never: never = event;
      throw new Error(`unknown event ${(never as { type: string }).type}`);
    }
  }
}

/** Deduplication id of an event (JetStream Nats-Msg-Id): the same write always yields the same id. */
export function eventId(event: DomainEvent): string {
  switch (event.type) {
    case 'ApplicationCreated':
    case 'ApplicationUpdated':
      return `${event.type}:${event.token}:${event.version}`;
    case 'ChatCreated':
    case 'ChatUpdated':
      return `${event.type}:${event.token}:${event.number}:${event.version}`;
    case 'MessageCreated':
    case 'MessageUpdated':
      return `${event.type}:${event.token}:${event.chat_number}:${event.number}:${event.version}`;
    default: {
      const never: never = event;
      throw new Error(`unknown event ${(never as { type: string }).type}`);
    }
  }
}

/**
 * On the EVENTS stream one message carries the events of one kind and partition that one group commit
 * produced: `{ "events": [...] }` (a bare event object, the format of earlier versions, is read too).
 * Projections are idempotent by version, so a batch published again after a redelivery is harmless.
 */
interface EventBatch {
  events: DomainEvent[];
}

export function eventsOf(decoded: unknown): DomainEvent[] {
  if (typeof decoded === 'object' && decoded !== null && Array.isArray((decoded as EventBatch).events)) return (decoded as EventBatch).events;
  return [decoded as DomainEvent];
}
