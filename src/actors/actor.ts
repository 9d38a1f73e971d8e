import PQueue from 'p-queue';
import { complete, type ActorContext, type Outcome } from './context.js';
import type { Delivery } from './delivery.js';

/**
 * Base of the single-writer actors. Each has a serialized mailbox (p-queue, concurrency 1): its commands run
 * one after another, so its in-memory state (the next number) needs no lock. `pendingWrites` counts writes
 * handed to the committer and not yet committed; an actor is passivated only when it has none and its
 * mailbox is empty.
 */
export abstract class Actor {
  private readonly mailbox = new PQueue({ concurrency: 1 });
  pendingWrites = 0;
  lastUsed = Date.now();

  /** Enqueues a task; tasks run in order, one at a time. */
  tell(task: () => Promise<void>): void {
    this.lastUsed = Date.now();
    void this.mailbox.add(task);
  }

  get idle(): boolean {
    return this.mailbox.size === 0 && this.mailbox.pending === 0 && this.pendingWrites === 0;
  }
}

/**
 * Creations are deduplicated by command id: first against creations of this incarnation still waiting
 * for their commit (`inflight`), then, when the delivery may be a duplicate, against MySQL.
 */
export abstract class CreatingActor extends Actor {
  protected readonly inflight = new Map<string, Promise<Outcome | undefined>>();

  protected async createOnce(
    ctx: ActorContext,
    delivery: Delivery,
    findEarlier: () => Promise<Outcome | undefined>,
    create: () => Promise<Outcome | undefined>,
  ): Promise<void> {
    const id = delivery.envelope.id;
    const running = this.inflight.get(id);
    if (running) {
      const outcome = await running;
      if (outcome) await complete(ctx, delivery, outcome);
      else delivery.nak(500);
      return;
    }
    if (delivery.mayBeDuplicate) {
      const earlier = await findEarlier();
      if (earlier) return complete(ctx, delivery, earlier);
    }
    const result = create();
    this.inflight.set(id, result);
    void result.finally(() => this.inflight.delete(id));
  }
}
