import type { Logger } from '../log.js';
import type { DomainEvent } from '../protocol/events.js';
import type { CommandReply } from '../protocol/replies.js';
import type { ResourceCache } from '../storage/cache.js';
import type { Queries } from '../storage/queries.js';
import type { CommitLane, Write } from './committer.js';
import type { Completer } from './completer.js';
import type { Delivery } from './delivery.js';
import type { StateLoader } from './state-loader.js';

/** What an actor needs from its partition worker. */
export interface ActorContext {
  readonly partition: number;
  readonly queries: Queries;
  /** Activation reads (parent id, highest number), batched across actors. */
  readonly loader: StateLoader;
  readonly committer: CommitLane;
  readonly completer: Completer;
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

/** Completes a command whose effect is durable (just committed, or found from an earlier attempt). */
export function complete(ctx: ActorContext, delivery: Delivery, outcome: Outcome): Promise<void> {
  return ctx.completer.complete(ctx.partition, delivery, outcome);
}

/** Refusal without a write (unknown parent, …): answer and ack. */
export function refuse(delivery: Delivery, reply: Extract<CommandReply, { ok: false }>): void {
  delivery.reply(reply);
  delivery.ack();
}

/**
 * Hands a write to the committer and completes the command after its commit, with the outcome made from what
 * the write wrote (its entity). The actor does not wait:
 * its next command runs at once (pipelining). Resolves with the outcome, or undefined if the commit failed
 * (then the command was handed back and the whole worker restarts).
 */
export function commitThenComplete<T>(
  ctx: ActorContext,
  actor: { pendingWrites: number },
  delivery: Delivery,
  write: Write<T>,
  outcome: (written: T) => Outcome,
): Promise<Outcome | undefined> {
  actor.pendingWrites++;
  return ctx.committer.commit(write).then(
    async (written) => {
      actor.pendingWrites--;
      const result = outcome(written);
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
