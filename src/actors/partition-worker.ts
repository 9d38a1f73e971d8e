import type { JetStreamPullSubscription, JsMsg, NatsConnection } from 'nats';
import { AckPolicy, DeliverPolicy, consumerOpts, nanos } from 'nats';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { ensureConsumer } from '../messaging/jetstream-ensure.js';
import { isConsumerGone, isRoutinePullStatus } from '../messaging/jetstream-errors.js';
import { decodeJson } from '../messaging/nats.js';
import { isCommandEnvelope, routeOf, type ApplicationAddress, type ChatAddress, type CommandEnvelope, type RegistrarAddress } from '../protocol/commands.js';
import { routingKeyOf } from '../protocol/partition.js';
import type { Names } from '../protocol/subjects.js';
import type { Orm } from '../storage/orm.js';
import { commandStreamIncarnation, commandVersion } from '../storage/command-streams.js';
import { FencedError } from '../storage/fences.js';
import { ApplicationActor } from './application-actor.js';
import { ChatActor } from './chat-actor.js';
import type { CommitLane, GroupCommitter } from './committer.js';
import type { ActorContext } from './context.js';
import { Delivery } from './delivery.js';
import { Region, type ActorBudget, type RegionView } from './region.js';
import { RegistrarActor } from './registrar-actor.js';

const PULL_EXPIRES_MS = 1000;
/**
 * How long after a pull request's own expiry it is assumed closed on the server too (the server counts the
 * expiry from when it received the request, a little after we sent it; more on a starved machine).
 */
const PULL_EXPIRY_MARGIN_MS = 1000;
/** Longest wait for the PING round trip that closes a stop. */
const FLUSH_WAIT_MS = 2000;

export type StopReason = 'drain' | 'lost';

export interface WorkerDeps {
  nc: NatsConnection;
  names: Names;
  config: Config;
  log: Logger;
  base: Omit<ActorContext, 'partition' | 'committer' | 'log' | 'versionOf'>;
  orm: Orm;
  committer: GroupCommitter;
  /** Live actors of the whole process (ACTOR_MAX_ACTIVE). */
  budget: ActorBudget;
}

/**
 * Runs one owned partition: pulls its commands from the durable consumer in stream order, routes each to
 * its actor (starting it if needed), and lets the partition's committer group-commit their writes.
 * Bounded: at most MAILBOX_CAPACITY commands are unsettled at once; pulling waits below that.
 * On a fatal error (failed commit, lost fence) it hands every unsettled command back and stops; the
 * ownership loop decides whether to start a fresh incarnation.
 */
export class PartitionWorker {
  private readonly unsettled = new Set<Delivery>();
  /** The live actors of this partition, one region per kind (the budget bounds them together, per process). */
  private readonly regions: {
    registrar: Region<RegistrarActor, RegistrarAddress>;
    application: Region<ApplicationActor, ApplicationAddress>;
    chat: Region<ChatActor, ChatAddress>;
  };
  /** The same regions as a list, for what does not care about the kind (counts, reaping, clearing). */
  private readonly allRegions: readonly RegionView[];
  private readonly committer: CommitLane;
  private readonly ctx: ActorContext;
  private readonly log: Logger;
  private running = true;
  private loop?: Promise<void>;
  private sub?: JetStreamPullSubscription;
  /** Messages received for the pull request in flight, and how to wake the loop when it is satisfied. */
  private received = 0;
  private pullWaiter?: () => void;
  /** Until when the last pull request may still be open on the server (it may deliver into our inbox until then). */
  private pullOpenUntil = 0;
  /** Commands delivered after the worker stopped routing: handed back only once no pull request is open. */
  private readonly held: Delivery[] = [];
  private reaper?: NodeJS.Timeout;
  /** Service-owned number of the commands stream's incarnation (see storage/command-streams.ts); set by start. */
  private incarnation = 0;
  private spaceWaiter?: () => void;
  /** Resolves a draining stop's wait once nothing is unsettled (or the worker crashed). */
  private settledWaiter?: () => void;
  /** Set when the worker died on its own (fatal error); the owner restarts it. */
  crashed: unknown;
  onCrash?: (err: unknown) => void;

  constructor(
    readonly partition: number,
    readonly epoch: number,
    private readonly deps: WorkerDeps,
  ) {
    this.log = deps.log.child({ partition, epoch });
    this.committer = deps.committer.lane(partition, epoch, (err) => this.crash(err));
    this.ctx = {
      ...deps.base, partition, committer: this.committer, log: this.log,
      versionOf: (seq) => commandVersion(this.incarnation, seq),
    };
    const idleMs = deps.config.actorIdleMs;
    this.regions = {
      registrar: new Region((_: RegistrarAddress) => new RegistrarActor(this.ctx), idleMs, deps.budget, routingKeyOf),
      application: new Region((a: ApplicationAddress) => new ApplicationActor(a, this.ctx), idleMs, deps.budget, routingKeyOf),
      chat: new Region((a: ChatAddress) => new ChatActor(a, this.ctx), idleMs, deps.budget, routingKeyOf),
    };
    this.allRegions = Object.values(this.regions);
  }

  get liveActors(): number {
    return this.allRegions.reduce((n, r) => n + r.size, 0);
  }

  get stats(): { activations: number; passivations: number; batches: number; writes: number; unsettled: number } {
    const regions = this.allRegions;
    return {
      activations: regions.reduce((n, r) => n + r.stats.activations, 0),
      passivations: regions.reduce((n, r) => n + r.stats.passivations, 0),
      batches: this.committer.batches,
      writes: this.committer.writes,
      unsettled: this.unsettled.size,
    };
  }

  async start(): Promise<void> {
    const { nc, names, config } = this.deps;
    const jsm = await nc.jetstreamManager();
    const stream = await jsm.streams.info(names.commandsStream);
    this.incarnation = await commandStreamIncarnation(this.deps.orm, names.commandsStream, stream.created);
    const durable = names.commandConsumer(this.partition);
    const wanted = {
      durable_name: durable,
      filter_subject: names.commandFilter(this.partition),
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: nanos(config.commandAckWaitMs),
      max_ack_pending: Math.max(config.mailboxCapacity * 2, 1000),
      max_deliver: -1,
    };
    await ensureConsumer(jsm, names.commandsStream, wanted);
    // One long-lived pull subscription: every message the server delivers to it reaches `dispatch`, even one
    // that arrives just as a pull request expires (a per-fetch inbox would drop it until ack wait).
    const opts = consumerOpts();
    opts.bind(names.commandsStream, durable);
    opts.manualAck();
    opts.callback((err, msg) => {
      if (msg) this.dispatch(msg);
      // the consumer (or its stream) is gone, e.g. the stream was recreated: restart, which recreates it
      else if (err && isConsumerGone(err)) this.crash(err);
      else if (err && !isRoutinePullStatus(err)) this.log.warn({ err }, 'pull subscription error');
    });
    this.sub = await nc.jetstream().pullSubscribe(names.commandFilter(this.partition), opts);
    const every = Math.max(1000, Math.floor(config.actorIdleMs / 2));
    this.reaper = setInterval(() => {
      for (const region of this.allRegions) region.reap();
    }, every);
    this.reaper.unref();
    this.loop = this.pull(this.sub);
    this.log.info('partition started');
  }

  /**
   * Issues one pull request at a time, sized to the free capacity, and waits until it is served or expires.
   * (The wait does not rely on the server's 408 for an expired request: NATS 2.9 does not always send it.)
   */
  private async pull(sub: JetStreamPullSubscription): Promise<void> {
    const capacity = this.deps.config.mailboxCapacity;
    while (this.running) {
      const free = capacity - this.unsettled.size;
      if (free <= 0) {
        await new Promise<void>((resolve) => (this.spaceWaiter = resolve));
        continue;
      }
      const want = Math.min(free, 256);
      this.received = 0;
      try {
        this.pullOpenUntil = Date.now() + PULL_EXPIRES_MS;
        sub.pull({ batch: want, expires: PULL_EXPIRES_MS });
      } catch (err) {
        this.log.warn({ err }, 'pull failed; retrying');
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, PULL_EXPIRES_MS);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.pullWaiter = () => {
          if (this.received >= want || !this.running) done();
        };
      });
      this.pullWaiter = undefined;
    }
  }

  private dispatch(msg: JsMsg): void {
    this.received++;
    this.pullWaiter?.();
    let envelope: CommandEnvelope;
    try {
      const decoded = decodeJson(msg.data);
      if (!isCommandEnvelope(decoded)) throw new Error('not a command envelope');
      envelope = decoded;
    } catch (err) {
      this.log.error({ err, seq: msg.seq }, 'undecodable command dropped');
      msg.term();
      return;
    }
    const delivery = new Delivery(envelope, msg, this.deps.nc, (d) => this.settled(d));
    if (!this.running || this.crashed !== undefined) {
      // Stopping: handed back by `stop` once our last pull request has expired. A nak now would have the server
      // deliver the command again into that same open request, and again, until the request ends — and the
      // delivery that crosses the unsubscribe waits for its ack wait.
      this.held.push(delivery);
      return;
    }
    this.unsettled.add(delivery);
    this.route(delivery);
  }

  /** Tells the command to the actor that owns it, activating that actor if needed. */
  private route(delivery: Delivery): void {
    const routed = routeOf(delivery.envelope);
    switch (routed.kind) {
      case 'registrar': {
        const actor = this.regions.registrar.get(routed.address);
        return actor.tell(() => this.handled(delivery, () => actor.handle(delivery, routed.command)));
      }
      case 'application': {
        const actor = this.regions.application.get(routed.address);
        return actor.tell(() => this.handled(delivery, () => actor.handle(delivery, routed.command)));
      }
      case 'chat': {
        const actor = this.regions.chat.get(routed.address);
        return actor.tell(() => this.handled(delivery, () => actor.handle(delivery, routed.command)));
      }
      default: {
        const never: never = routed;
        throw new Error(`unknown actor kind ${(never as { kind: string }).kind}`);
      }
    }
  }

  /** Runs an actor's handling of a delivery; a failed read (MySQL briefly unavailable) hands the command back. */
  private async handled(delivery: Delivery, handle: () => Promise<void>): Promise<void> {
    if (this.crashed !== undefined) return delivery.nak(500);
    try {
      await handle();
    } catch (err) {
      this.log.warn({ err, command: delivery.envelope.id }, 'command failed; handed back');
      delivery.nak(1000);
    }
  }

  private settled(delivery: Delivery): void {
    this.unsettled.delete(delivery);
    if (this.unsettled.size === 0) this.wakeSettled();
    const waiter = this.spaceWaiter;
    if (waiter && this.unsettled.size < this.deps.config.mailboxCapacity) {
      this.spaceWaiter = undefined;
      waiter();
    }
  }

  private wakeSettled(): void {
    const waiter = this.settledWaiter;
    this.settledWaiter = undefined;
    waiter?.();
  }

  private crash(err: unknown): void {
    if (this.crashed !== undefined) return;
    this.crashed = err;
    this.wakeSettled();
    if (err instanceof FencedError) this.log.warn({ err }, 'partition fenced by a newer owner; stopping');
    else this.log.error({ err }, 'commit failed; restarting partition');
    void this.stop('lost').then(() => this.onCrash?.(err));
  }

  /**
   * 'drain': stop pulling, let every command in flight finish (commit, reply, ack) within the budget,
   * then hand back the rest. 'lost': hand back everything at once (another process owns the partition now).
   */
  async stop(reason: StopReason, budgetMs = this.deps.config.shutdownTimeoutMs): Promise<void> {
    this.running = false;
    this.spaceWaiter?.();
    this.pullWaiter?.();
    if (this.reaper) clearInterval(this.reaper);
    await this.loop?.catch(() => undefined);
    if (reason === 'drain' && this.unsettled.size > 0 && this.crashed === undefined) {
      let budget: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.settledWaiter = resolve;
        budget = setTimeout(resolve, budgetMs);
      });
      clearTimeout(budget);
      this.settledWaiter = undefined;
    }
    this.committer.abort(new Error(`partition ${this.partition} stopped (${reason})`));
    // The last pull request may still be open on the server: keep the subscription until it has expired, so
    // that whatever the server delivers meanwhile reaches `dispatch`, which holds it. The server starts the
    // pull's expiry when it receives the request, a little after we sent it: a margin, then a PING round trip,
    // so that every message the server sent before it has reached `dispatch` (timers run before pending socket
    // reads in an event-loop turn). Only then is everything handed back (nak): with no request of ours open,
    // the server keeps it for the next owner's first pull. An inbox unsubscribed earlier, or a nak while the
    // request is open (the server delivers it again into the same request), would leave a command in a dead
    // inbox until its ack wait (COMMAND_ACK_WAIT_MS).
    const open = this.pullOpenUntil - Date.now();
    if (open > 0) await new Promise((r) => setTimeout(r, open + PULL_EXPIRY_MARGIN_MS));
    let flushTimer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.deps.nc.flush().catch(() => undefined),
      new Promise((r) => (flushTimer = setTimeout(r, FLUSH_WAIT_MS))), // NATS unreachable: do not hang the stop
    ]);
    clearTimeout(flushTimer);
    for (const delivery of [...this.unsettled, ...this.held.splice(0)]) delivery.nak();
    this.sub?.unsubscribe();
    for (const region of this.allRegions) region.clear();
    this.log.info({ reason }, 'partition stopped');
  }
}
