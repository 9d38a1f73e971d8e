import type { Counter } from 'prom-client';
import type { Actor } from './actor.js';

export interface RegionStats {
  activations: number;
  passivations: number;
}

/** How many idle candidates one eviction pass looks at before giving up (the rest are busy). */
const EVICTION_SCAN = 256;

/**
 * The live actors of the whole process, least recently used first, across the regions of all its
 * partition workers: ACTOR_MAX_ACTIVE bounds the process, however many partitions it owns.
 */
export class ActorBudget {
  private readonly lru = new Map<Actor, { region: AnyRegion; key: string }>();

  constructor(
    readonly maxActive: number,
    /** Prometheus counters of activations and passivations over the whole process (src/observability/metrics.ts). */
    readonly counters?: Record<keyof RegionStats, Pick<Counter, 'inc'>>,
  ) {}

  get size(): number {
    return this.lru.size;
  }

  touch(actor: Actor, region: AnyRegion, key: string): void {
    this.lru.delete(actor);
    this.lru.set(actor, { region, key });
  }

  remove(actor: Actor): void {
    this.lru.delete(actor);
  }

  /**
   * Passivates idle actors, least recently used first, until at most `maxActive` are live — never `keep`,
   * the actor being activated (it is idle only because its command is not told yet: passivating it would
   * let the next command start a second incarnation beside it). When the oldest actors are busy the
   * process stays above the bound until they settle; the next activation or reap brings it back.
   */
  shrink(keep: Actor): void {
    let scanned = 0;
    for (const [actor, { region, key }] of this.lru) {
      if (this.lru.size <= this.maxActive || ++scanned > EVICTION_SCAN) return;
      if (actor !== keep && actor.idle) region.passivate(key, actor);
    }
  }
}

/** A region seen without its actor kind: what the partition worker counts, reaps and clears. */
export type RegionView = Pick<Region<Actor>, 'size' | 'stats' | 'reap' | 'clear'>;

/** What the budget needs of a region: passivating one of its actors. */
interface AnyRegion {
  passivate(key: string, actor: Actor): void;
}

/**
 * The live actors of one kind in one partition worker, by typed address (`Addr`; `keyOf` makes the map key). An actor starts on its first command (activation) and is
 * passivated when idle for `idleMs`, or — least recently used first, over the whole process — when more
 * than the budget's `maxActive` are live. Only idle actors are passivated (empty mailbox, nothing
 * uncommitted), so no command is ever dropped: a command for a passivated actor simply activates a new
 * incarnation, which reloads its state from MySQL.
 */
export class Region<A extends Actor, Addr = string> implements AnyRegion {
  private readonly actors = new Map<string, A>();
  readonly stats: RegionStats = { activations: 0, passivations: 0 };

  constructor(
    private readonly create: (address: Addr) => A,
    private readonly idleMs: number,
    private readonly budget: ActorBudget,
    private readonly keyOf: (address: Addr) => string = String,
  ) {}

  get size(): number {
    return this.actors.size;
  }

  /** The actor at `address`, activated if needed; moves it to the most recently used end. */
  get(address: Addr): A {
    const key = this.keyOf(address);
    let actor = this.actors.get(key);
    if (actor) {
      this.actors.delete(key);
      this.actors.set(key, actor);
      this.budget.touch(actor, this, key);
      return actor;
    }
    actor = this.create(address);
    this.stats.activations++;
    this.budget.counters?.activations.inc();
    this.actors.set(key, actor);
    this.budget.touch(actor, this, key);
    if (this.budget.size > this.budget.maxActive) this.budget.shrink(actor);
    return actor;
  }

  /** Passivates actors idle for longer than `idleMs`. Called periodically. */
  reap(now = Date.now()): void {
    for (const [key, actor] of this.actors) {
      if (now - actor.lastUsed < this.idleMs) break; // map order is least recently used first
      if (actor.idle) this.passivate(key, actor);
    }
  }

  /** Drops every actor (the worker stopped; nothing of it may run any more). */
  clear(): void {
    for (const actor of this.actors.values()) this.budget.remove(actor);
    this.actors.clear();
  }

  /** @internal used by the budget, and by `reap` */
  passivate(key: string, actor: Actor): void {
    if (this.actors.get(key) !== actor) return;
    this.actors.delete(key);
    this.budget.remove(actor);
    this.stats.passivations++;
    this.budget.counters?.passivations.inc();
  }
}
