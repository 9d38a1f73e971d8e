import type { Logger } from '../log.js';
import type { EventPublisher } from '../messaging/event-publisher.js';
import type { DomainEvent } from '../protocol/events.js';
import type { CommandReply } from '../protocol/replies.js';
import type { ResourceCache } from '../storage/cache.js';
import type { Queries } from '../storage/queries.js';
import type { Committer, Write } from './committer.js';
import type { Delivery } from './delivery.js';

/** What an actor needs from its partition worker. */
export interface ActorContext {
  readonly partition: number;
  readonly queries: Queries;
  readonly committer: Committer;
  readonly events: EventPublisher;
  readonly cache: ResourceCache;
  readonly log: Logger;
  /** The row version of the command at commands-stream sequence `seq` (service-owned, monotonic even if the commands stream is recreated). */
  readonly versionOf: (seq: number) => number;
}

/** What a handled command leads to once its write (if any) is committed. */
export interface Outcome {
  reply: CommandReply;
  events: DomainEvent[];
  cache: Array<readonly [string, unknown]>;
}

/**
 * After-commit pipeline, in this order: reply (the write is durable, the client may have its 201 at once),
 * overwrite the read cache, publish the events, then ack. If events cannot be published the command is
 * handed back; its redelivery finds the committed row and publishes them again.
 */
export async function complete(ctx: ActorContext, delivery: Delivery, outcome: Outcome): Promise<void> {
  delivery.reply(outcome.reply);
  await ctx.cache.put(outcome.cache);
  try {
    if (outcome.events.length > 0) await ctx.events.publish(outcome.events, ctx.partition);
    delivery.ack();
  } catch (err) {
    ctx.log.warn({ err, command: delivery.envelope.id }, 'events not published; command handed back for redelivery');
    delivery.nak(1000);
  }
}

/** Refusal without a write (unknown parent, …): answer and ack. */
export function refuse(delivery: Delivery, reply: Extract<CommandReply, { ok: false }>): void {
  delivery.reply(reply);
  delivery.ack();
}

/**
 * Hands a write to the committer and completes the command after its commit. The actor does not wait:
 * its next command runs at once (pipelining). Resolves with the outcome, or undefined if the commit failed
 * (then the command was handed back and the whole worker restarts).
 */
export function commitThenComplete(
  ctx: ActorContext,
  actor: { pendingWrites: number },
  delivery: Delivery,
  write: Write,
  outcome: () => Outcome,
): Promise<Outcome | undefined> {
  actor.pendingWrites++;
  return ctx.committer.commit(write).then(
    async () => {
      actor.pendingWrites--;
      const result = outcome();
      await complete(ctx, delivery, result);
      return result;
    },
    () => {
      actor.pendingWrites--;
      delivery.nak(500);
      return undefined;
    },
  );
}
