import { randomUUID } from 'node:crypto';
import type { JetStreamClient, NatsConnection, Subscription } from 'nats';
import { UnavailableError } from '../domain/errors.js';
import type { Logger } from '../log.js';
import { actorOf, type Command, type CommandEnvelope } from '../protocol/commands.js';
import { partitionOf, routingKeyOf } from '../protocol/partition.js';
import type { CommandReply } from '../protocol/replies.js';
import type { Names } from '../protocol/subjects.js';
import { decodeJson, encodeJson } from './nats.js';

interface Pending {
  resolve: (reply: CommandReply) => void;
  reject: (err: unknown) => void;
  timer: NodeJS.Timeout;
}

export interface SendOptions {
  commandId: string;
  idempotent?: boolean;
  /** Commands-stream sequence of the first attempt of this keyed request, when this is a retry that took over. */
  firstSeq?: number;
  requestId?: string;
  /** Called with the commands-stream sequence once the stream has the command. */
  onPublished?: (seq: number) => void;
}

/**
 * The API side of the write path: publishes a command to its partition's subject on the COMMANDS stream
 * and waits (bounded) for the actor's reply on this process's reply inbox. Never writes MySQL.
 */
export class CommandBus {
  private readonly instance = randomUUID().replace(/-/g, '').slice(0, 12);
  private readonly pending = new Map<string, Pending>();
  private outbox: Array<[string, Uint8Array]> = [];
  private readonly js: JetStreamClient;
  private seq = 0;
  private sub?: Subscription;
  /** False between a disconnect and the next reconnect: writes then fail fast instead of waiting for a timeout. */
  private connected = true;
  /** Set by `close`: no new request is taken. */
  private closing = false;
  /** Called whenever a request settles (`close` waits for the last one). */
  private onSettled?: () => void;

  constructor(
    private readonly nc: NatsConnection,
    private readonly names: Names,
    private readonly partitions: number,
    private readonly timeoutMs: number,
    private readonly log: Logger,
  ) {
    this.js = nc.jetstream();
  }

  start(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === 'disconnect') this.connected = false;
        else if (status.type === 'reconnect') this.connected = true;
      }
    })();
    const prefix = this.names.replyPrefix(this.instance);
    this.sub = this.nc.subscribe(`${prefix}.*`, {
      callback: (err, msg) => {
        if (err) return;
        const id = msg.subject.slice(prefix.length + 1);
        const waiter = this.pending.get(id);
        if (!waiter) return; // the request gave up already
        try {
          waiter.resolve(decodeJson(msg.data) as CommandReply);
        } catch (decodeErr) {
          this.log.error({ err: decodeErr }, 'undecodable command reply');
        }
      },
    });
  }

  /**
   * Publishes at the end of this turn of the event loop, together with the commands of every other request
   * handled in it: one socket write for all of them instead of one each.
   */
  private publishSoon(subject: string, data: Uint8Array): void {
    if (this.outbox.push([subject, data]) > 1) return;
    setImmediate(() => {
      const out = this.outbox;
      this.outbox = [];
      for (const [s, d] of out) {
        try {
          this.nc.publish(s, d);
        } catch (err) {
          // the connection closed meanwhile: the request ends as an unconfirmed write (503 timeout)
          this.log.warn({ err, subject: s }, 'command publish failed');
        }
      }
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends a command and resolves with the actor's reply (success or error), or throws 503. */
  async request(command: Command, opts: SendOptions): Promise<CommandReply> {
    const key = routingKeyOf(actorOf({ id: opts.commandId, command }));
    const subject = this.names.commandSubject(partitionOf(key, this.partitions), key);
    const waitId = String(++this.seq);
    const envelope: CommandEnvelope = {
      id: opts.commandId,
      ...(opts.idempotent ? { idempotent: true } : {}),
      ...(opts.firstSeq !== undefined ? { first_seq: opts.firstSeq } : {}),
      reply_to: `${this.names.replyPrefix(this.instance)}.${waitId}`,
      ...(opts.requestId ? { request_id: opts.requestId } : {}),
      command,
    };

    if (this.closing) throw UnavailableError.dependency('the command queue (shutting down)');
    const replied = new Promise<CommandReply>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.pending.delete(waitId);
        this.onSettled?.();
      };
      const timer = setTimeout(() => {
        settle();
        reject(UnavailableError.notConfirmed());
      }, this.timeoutMs);
      this.pending.set(waitId, {
        timer,
        resolve: (reply) => {
          settle();
          resolve(reply);
        },
        reject: (err) => {
          settle();
          reject(err);
        },
      });
    });

    try {
      if (!this.connected || this.nc.isClosed()) throw new Error('not connected to NATS');
      if (opts.onPublished) {
        // a keyed request needs the stream position of its attempt (see `first_seq`): wait for the PubAck.
        // msgID is per attempt: the client library's own publish retries are deduplicated by JetStream; a
        // client retry (same Idempotency-Key, new attempt) is deduplicated by the actor on the command id.
        const ack = await this.js.publish(subject, encodeJson(envelope), { msgID: randomUUID(), timeout: Math.min(this.timeoutMs, 5000) });
        opts.onPublished(ack.seq);
      } else {
        // A plain publish: the stream stores it, and the actor's reply (sent after COMMIT) is the only
        // confirmation that counts, so waiting for JetStream's PubAck as well would add a round trip per
        // write and prove nothing more. A command that never reaches the stream ends as a 503 `timeout`
        // like any other unconfirmed write, and a retry is safe with an Idempotency-Key.
        this.publishSoon(subject, encodeJson(envelope));
      }
    } catch (err) {
      const failed = UnavailableError.dependency('the command queue (NATS JetStream)', err);
      this.pending.get(waitId)?.reject(failed);
      replied.catch(() => undefined); // settled here; the caller gets the error thrown below
      this.log.warn({ err, subject }, 'command publish failed');
      throw failed;
    }
    return replied;
  }

  /**
   * Answers every request still waiting for its reply as unconfirmed now (503 `timeout`), as its timeout would
   * later: used when MySQL stops answering, where no reply can come before then. Their commands stay in the stream
   * and are applied when MySQL is back; a retry with the same Idempotency-Key learns the outcome.
   */
  giveUpWaiting(): void {
    for (const waiter of [...this.pending.values()]) waiter.reject(UnavailableError.notConfirmed());
  }

  /**
   * Stops taking requests (they fail with 503), waits up to `graceMs` for the replies of those in flight,
   * settles the rest as unconfirmed writes (503 `timeout`, as if their timeout had expired) and unsubscribes.
   * Every request is settled when it returns.
   */
  async close(graceMs = this.timeoutMs): Promise<void> {
    this.closing = true;
    if (this.pending.size > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(grace);
          this.onSettled = undefined;
          resolve();
        };
        const grace = setTimeout(done, graceMs);
        this.onSettled = () => {
          if (this.pending.size === 0) done();
        };
      });
    }
    this.giveUpWaiting();
    await this.sub?.drain().catch(() => undefined);
  }
}
