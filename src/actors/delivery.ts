import type { JsMsg, NatsConnection } from 'nats';
import { encodeJson } from '../messaging/nats.js';
import type { CommandEnvelope } from '../protocol/commands.js';
import type { CommandReply } from '../protocol/replies.js';

/**
 * One delivery of a command from JetStream. Settles exactly once (ack, nak or term); later calls are
 * no-ops, so the worker can hand back everything unsettled when it stops without racing its actors.
 */
export class Delivery {
  private settled = false;

  constructor(
    readonly envelope: CommandEnvelope,
    private readonly msg: JsMsg,
    private readonly nc: NatsConnection,
    private readonly onSettled: (d: Delivery) => void,
  ) {}

  /** Commands-stream sequence of this delivery (the partition worker turns it into a row version). */
  get seq(): number {
    return this.msg.seq;
  }

  /**
   * Sequence below which a write to the target means this command was already applied: its own sequence, or for
   * an Idempotency-Key retry that of the first attempt (which the stream delivers to the same actor first).
   */
  get appliedSinceSeq(): number {
    const first = this.envelope.first_seq;
    return typeof first === 'number' && first > 0 && first < this.seq ? first : this.seq;
  }

  /** Delivered before (crash or timeout of an earlier owner): the actor must check for an earlier effect. */
  get mayBeDuplicate(): boolean {
    return this.msg.redelivered || this.envelope.idempotent === true;
  }

  reply(reply: CommandReply): void {
    if (!this.envelope.reply_to) return;
    try {
      this.nc.publish(this.envelope.reply_to, encodeJson(reply));
    } catch {
      // the connection is closing: the requester times out and retries with its Idempotency-Key
    }
  }

  ack(): void {
    this.settle(() => this.msg.ack());
  }

  /** Hands the command back to JetStream for redelivery. */
  nak(delayMs = 0): void {
    this.settle(() => this.msg.nak(delayMs));
  }

  /** Drops a command that can never succeed (undecodable). */
  term(): void {
    this.settle(() => this.msg.term());
  }

  private settle(action: () => void): void {
    if (this.settled) return;
    this.settled = true;
    try {
      action();
    } catch {
      // connection gone: JetStream redelivers after ack wait
    }
    this.onSettled(this);
  }
}
