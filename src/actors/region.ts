import type { Actor } from './actor.js';

export interface RegionStats {
  activations: number;
  passivations: number;
}

/**
 * The live actors of one partition worker, by key. An actor starts on its first command (activation) and is
 * passivated when idle for `idleMs`, or — least recently used first — when more than `maxActive` are live.
 * Only idle actors are passivated (empty mailbox, nothing uncommitted), so no command is ever dropped: a
 * command for a passivated actor simply activates a new incarnation, which reloads its state from MySQL.
 */
export class Region<A extends Actor> {
  private readonly actors = new Map<string, A>();
  readonly stats: RegionStats = { activations: 0, passivations: 0 };

  constructor(
    private readonly create: (key: string) => A,
    private readonly idleMs: number,
    private readonly maxActive: number,
  ) {}

  get size(): number {
    return this.actors.size;
  }

  /** The actor for `key`, activated if needed; moves it to the most recently used end. */
  get(key: string): A {
    let actor = this.actors.get(key);
    if (actor) {
      this.actors.delete(key);
    } else {
      actor = this.create(key);
      this.stats.activations++;
    }
    this.actors.set(key, actor);
    if (this.actors.size > this.maxActive) this.shrink(key);
    return actor;
  }

  /** Passivates actors idle for longer than `idleMs`. Called periodically. */
  reap(now = Date.now()): void {
    for (const [key, actor] of this.actors) {
      if (now - actor.lastUsed < this.idleMs) break; // map order is least recently used first
      if (actor.idle) this.passivate(key);
    }
  }

  clear(): void {
    this.actors.clear();
  }

  /**
   * Passivates idle actors, least recently used first, until at most `maxActive` are live — never `keep`, the
   * actor `get` is about to return (it is idle only because its command is not told yet: passivating it would
   * let the next command start a second incarnation beside it). When every other actor is busy the region
   * stays above the bound until they settle; `reap` and later calls bring it back.
   */
  private shrink(keep: string): void {
    for (const [key, actor] of this.actors) {
      if (this.actors.size <= this.maxActive) return;
      if (key !== keep && actor.idle) this.passivate(key);
    }
  }

  private passivate(key: string): void {
    this.actors.delete(key);
    this.stats.passivations++;
  }
}
