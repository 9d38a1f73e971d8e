import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { KV, KvEntry } from 'nats';
import type { Logger } from '../log.js';
import { decodeJson, encodeJson } from '../messaging/nats.js';
import type { Names } from '../protocol/subjects.js';

export interface OwnershipHooks {
  /** We hold the lease of `partition`: start working it. */
  acquire(partition: number): Promise<void>;
  /** Stop working `partition`; 'drain' when handing over politely, 'lost' when the lease is gone. */
  release(partition: number, reason: 'drain' | 'lost'): Promise<void>;
}

interface Lease {
  revision: number;
  renewedAt: number;
}

/**
 * Who works which partition. Every actor process heartbeats a `member.<id>` key in the ownership KV bucket
 * and watches the others. Partitions are spread by rendezvous hashing over the live members; a process
 * takes the lease of each partition it should own with `create` (only one can), keeps it with
 * `update(key, value, revision)` every third of the TTL, and gives back leases that now belong to
 * someone else. A dead process's leases expire after LEASE_TTL_MS and are taken over by the survivors.
 * A process that could not renew in time considers the lease lost (the MySQL fence makes sure it could
 * not commit anyway).
 */
export class Ownership {
  readonly memberId: string;
  private readonly members = new Map<string, number>();
  private readonly leases = new Map<number, Lease>();
  private readonly busy = new Set<number>();
  private timer?: NodeJS.Timeout;
  private watcher?: { stop(): void };
  private stopped = false;
  private ticking?: Promise<void>;

  constructor(
    private readonly kv: KV,
    private readonly names: Names,
    private readonly partitions: number,
    private readonly ttlMs: number,
    private readonly hooks: OwnershipHooks,
    private readonly log: Logger,
  ) {
    this.memberId = `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  get owned(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  async start(): Promise<void> {
    const watch = await this.kv.watch({ key: '>' });
    this.watcher = watch;
    void (async () => {
      for await (const entry of watch) this.observe(entry);
    })().catch((err) => this.log.warn({ err }, 'membership watch ended'));
    await this.heartbeat();
    // let the other members' heartbeats arrive before claiming anything
    await new Promise((r) => setTimeout(r, Math.min(this.interval, 1000)));
    this.ticking = this.tick();
    await this.ticking;
    this.ticking = undefined;
    this.timer = setInterval(() => this.kick(), this.interval);
  }

  private get interval(): number {
    return Math.max(200, Math.floor(this.ttlMs / 3));
  }

  private observe(entry: KvEntry): void {
    const gone = entry.operation === 'DEL' || entry.operation === 'PURGE';
    if (entry.key.startsWith('member.')) {
      const id = entry.key.slice('member.'.length);
      if (gone) this.members.delete(id);
      else this.members.set(id, Date.now());
    } else if (gone) {
      this.kick(); // a lease was handed over: claim it now rather than at the next tick
    }
  }

  private kick(): void {
    if (this.stopped || this.ticking || !this.timer) return;
    this.ticking = this.tick().finally(() => (this.ticking = undefined));
  }

  private liveMembers(now: number): string[] {
    const live = [this.memberId];
    // a member is dead once its heartbeat is older than the lease TTL plus one renewal interval of slack
    for (const [id, seen] of this.members) if (id !== this.memberId && now - seen < this.ttlMs + this.interval) live.push(id);
    return live;
  }

  /**
   * Rendezvous (highest random weight) hashing: stable, and moves only the partitions that must move. The
   * weight needs a well-mixing hash (member ids differ in a few characters; FNV-1a correlates them).
   */
  private desiredOwner(partition: number, members: string[]): string {
    let best = members[0]!;
    let bestScore = -1;
    for (const m of members) {
      const score = createHash('md5').update(`${partition}/${m}`).digest().readUInt32BE(0);
      if (score > bestScore || (score === bestScore && m > best)) {
        best = m;
        bestScore = score;
      }
    }
    return best;
  }

  private async heartbeat(): Promise<void> {
    await this.kv.put(this.names.memberKey(this.memberId), encodeJson({ id: this.memberId, pid: process.pid, at: new Date().toISOString() }));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const work: Promise<void>[] = [this.heartbeat().catch((err) => this.log.warn({ err }, 'membership heartbeat failed'))];
    const members = this.liveMembers(now);
    for (let p = 0; p < this.partitions; p++) {
      if (this.busy.has(p)) continue;
      const mine = this.desiredOwner(p, members) === this.memberId;
      const lease = this.leases.get(p);
      if (lease && Date.now() - lease.renewedAt >= this.ttlMs) work.push(this.guard(p, () => this.lose(p, 'lease expired before renewal')));
      else if (lease && mine) work.push(this.guard(p, () => this.renew(p, lease)));
      else if (lease && !mine) work.push(this.guard(p, () => this.handOver(p, lease)));
      else if (!lease && mine) work.push(this.guard(p, () => this.claim(p)));
    }
    await Promise.all(work);
  }

  private async guard(partition: number, action: () => Promise<void>): Promise<void> {
    this.busy.add(partition);
    try {
      await action();
    } catch (err) {
      this.log.warn({ err, partition }, 'ownership step failed');
    } finally {
      this.busy.delete(partition);
    }
  }

  private leaseValue(): Uint8Array {
    return encodeJson({ owner: this.memberId, at: new Date().toISOString() });
  }

  private async claim(partition: number): Promise<void> {
    let revision: number;
    try {
      revision = await this.kv.create(this.names.leaseKey(partition), this.leaseValue());
    } catch {
      return; // someone else holds it (or NATS is unreachable); try again next tick
    }
    this.leases.set(partition, { revision, renewedAt: Date.now() });
    try {
      await this.hooks.acquire(partition);
      this.log.info({ partition }, 'partition acquired');
    } catch (err) {
      this.log.warn({ err, partition }, 'could not start partition; giving the lease back');
      this.leases.delete(partition);
      await this.kv.delete(this.names.leaseKey(partition)).catch(() => undefined);
    }
  }

  private async renew(partition: number, lease: Lease): Promise<void> {
    const started = Date.now();
    try {
      lease.revision = await this.kv.update(this.names.leaseKey(partition), this.leaseValue(), lease.revision);
      lease.renewedAt = started;
    } catch (err) {
      const current = await this.kv.get(this.names.leaseKey(partition)).catch(() => null);
      const holder = current && current.operation === 'PUT' ? (decodeJson(current.value) as { owner?: string }).owner : undefined;
      if (holder !== this.memberId) {
        await this.lose(partition, `lease renewal refused (${String(err)})`);
      } else if (current && current.revision !== lease.revision) {
        // our update went through but its answer was lost: carry on from the stored revision
        lease.revision = current.revision;
        lease.renewedAt = started;
      }
    }
  }

  private async lose(partition: number, why: string): Promise<void> {
    this.log.warn({ partition, why }, 'partition lost');
    this.leases.delete(partition);
    await this.hooks.release(partition, 'lost');
  }

  private async handOver(partition: number, lease: Lease): Promise<void> {
    await this.hooks.release(partition, 'drain');
    this.leases.delete(partition);
    await this.kv.delete(this.names.leaseKey(partition), { previousSeq: lease.revision }).catch(() => undefined);
    this.log.info({ partition }, 'partition handed over');
  }

  /** The worker of `partition` died on its own: give the lease back so it is claimed afresh. */
  async restart(partition: number): Promise<void> {
    const lease = this.leases.get(partition);
    if (!lease || this.busy.has(partition)) return;
    await this.guard(partition, async () => {
      this.leases.delete(partition);
      await this.kv.delete(this.names.leaseKey(partition), { previousSeq: lease.revision }).catch(() => undefined);
    });
  }

  /** Graceful leave: drain and hand back every partition, then remove our membership. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined);
    await Promise.all(this.owned.map((p) => this.leases.has(p) ? this.handOver(p, this.leases.get(p)!) : undefined));
    this.watcher?.stop();
    await this.kv.delete(this.names.memberKey(this.memberId)).catch(() => undefined);
  }
}
