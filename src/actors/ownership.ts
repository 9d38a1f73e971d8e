import { backoffDelay } from '../domain/backoff.js';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { KV, KvEntry } from 'nats';
import type { Logger } from '../log.js';
import { decodeJson, encodeJson } from '../messaging/nats.js';
import type { Names } from '../protocol/subjects.js';

export interface OwnershipHooks {
  /**
   * We hold the lease of `partition`: start working it. `crashed` is for that worker incarnation only: it calls
   * it if it dies on its own, and a call for an incarnation that has been replaced since is ignored.
   */
  acquire(partition: number, crashed: () => void): Promise<void>;
  /** Stop working `partition`; 'drain' when handing over politely, 'lost' when the lease is gone. */
  release(partition: number, reason: 'drain' | 'lost'): Promise<void>;
}

export interface OwnershipOptions {
  partitions: number;
  ttlMs: number;
  /** First delay before starting a partition again after a failed start or a crash; doubles up to `backoffMaxMs`. */
  backoffMs: number;
  backoffMaxMs: number;
}

interface Lease {
  revision: number;
  renewedAt: number;
  /** A worker of this lease runs. */
  running: boolean;
  /** A start (hooks.acquire) is in progress. */
  starting: boolean;
  /** Bumped at every start: a crash reported by an older worker is ignored. */
  incarnation: number;
  /** Failed starts and crashes since the last start that held; decides the backoff. */
  failures: number;
  /** No start before this time (backoff). */
  retryAt: number;
}

/** The partition-restart delay: the service's one backoff policy (domain/backoff.ts). */
export { backoffDelay };

/** A member's preference for a partition: a well-mixing hash (member ids differ in a few characters; FNV-1a correlates them). */
function weight(partition: number, member: string): number {
  return createHash('md5').update(`${partition}/${member}`).digest().readUInt32BE(0);
}

/**
 * The desired owner of every partition among the live `members`: rendezvous (highest random weight) hashing with
 * bounded loads. Every (partition, member) pair is weighed; pairs are taken from the heaviest down, and a pair
 * assigns its partition when the partition is still free and the member still has room, where room is an exact
 * share: ⌊partitions / members⌋ each, plus one for the first (partitions mod members) members to reach it. So
 * every member owns ⌊P/N⌋ or ⌈P/N⌉ partitions (plain rendezvous left a member of a 16-partition deployment
 * with none 4% of the time when a fourth process joined three, and with 64 partitions one process with 6 where
 * 16 was its share), and a member joining or leaving still moves few more than the partitions that must move.
 * Pure and independent of the members' order: every process computes the same assignment.
 */
export function assignPartitions(partitions: number, members: readonly string[]): string[] {
  const sorted = [...new Set(members)].sort();
  const base = Math.floor(partitions / sorted.length);
  let extra = partitions % sorted.length;
  const pairs: Array<{ w: number; p: number; m: number }> = [];
  for (let p = 0; p < partitions; p++) sorted.forEach((member, m) => pairs.push({ w: weight(p, member), p, m }));
  pairs.sort((a, b) => b.w - a.w || a.p - b.p || a.m - b.m);
  const owners = new Array<string>(partitions);
  const counts = new Array<number>(sorted.length).fill(0);
  let left = partitions;
  for (const { p, m } of pairs) {
    if (owners[p] !== undefined) continue;
    const count = counts[m]!;
    if (count > base || (count === base && extra === 0)) continue;
    if (count === base) extra--;
    owners[p] = sorted[m]!;
    counts[m] = count + 1;
    if (--left === 0) break;
  }
  return owners;
}

/**
 * Who works which partition. Every actor process heartbeats a `member.<id>` key in the ownership KV bucket
 * and watches the others. Partitions are spread over the live members by `assignPartitions`; a process
 * takes the lease of each partition it should own with `create` (only one can), keeps it with
 * `update(key, value, revision)` every third of the TTL, and gives back leases that now belong to
 * someone else. A dead process's leases expire after LEASE_TTL_MS and are taken over by the survivors.
 * A process that could not renew in time considers the lease lost (the MySQL fence makes sure it could
 * not commit anyway).
 *
 * Holding a lease and running its worker are separate: a worker that could not start (MySQL down) or that
 * crashed leaves the partition *stalled* — still leased by this process, which keeps renewing it and starts a
 * new worker incarnation after a backoff (exponential with jitter, capped) from the ownership loop. Stalled
 * partitions are reported (`stalled`) for readiness and metrics. Starting a worker never blocks the loop, so
 * a slow start cannot delay the renewal of other leases, nor of its own.
 */
export class Ownership {
  readonly memberId: string;
  private readonly members = new Map<string, number>();
  private readonly leases = new Map<number, Lease>();
  /** Partitions with a lease operation (claim, renew, hand-over, loss) in flight. */
  private readonly busy = new Set<number>();
  private readonly starts = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private watcher?: { stop(): void };
  private stopped = false;
  private ticking?: Promise<void>;
  private again = false;
  private readonly partitions: number;
  private readonly ttlMs: number;
  /** The last assignment computed, by its members (recomputed when they change). */
  private assignment: { key: string; owners: string[] } = { key: '', owners: [] };

  constructor(
    private readonly kv: KV,
    private readonly names: Names,
    private readonly options: OwnershipOptions,
    private readonly hooks: OwnershipHooks,
    private readonly log: Logger,
  ) {
    this.partitions = options.partitions;
    this.ttlMs = options.ttlMs;
    this.memberId = `${hostname().replace(/[^A-Za-z0-9_-]/g, '-')}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  }

  /** Partitions this process holds the lease of (running or not). */
  get owned(): number[] {
    return [...this.leases.keys()].sort((a, b) => a - b);
  }

  /** Partitions leased by this process with no worker running: starting, backing off after a failure, or crashed. */
  get stalled(): number[] {
    return [...this.leases].filter(([, lease]) => !lease.running).map(([p]) => p).sort((a, b) => a - b);
  }

  /** Members known (for tests: dead ones are pruned). */
  get knownMembers(): number {
    return this.members.size;
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
    await Promise.all([...this.starts]);
    this.timer = setInterval(() => this.kick(), this.interval);
  }

  private get interval(): number {
    return Math.max(200, Math.floor(this.ttlMs / 3));
  }

  private observe(entry: KvEntry): void {
    const gone = entry.operation === 'DEL' || entry.operation === 'PURGE';
    if (entry.key.startsWith('member.')) {
      const id = entry.key.slice('member.'.length);
      // a member that joins or leaves moves partitions: act on it now rather than at the next tick
      const changed = gone ? this.members.delete(id) : !this.members.has(id);
      if (!gone) this.members.set(id, Date.now());
      if (changed && id !== this.memberId) this.kick();
    } else if (gone) {
      this.kick(); // a lease was handed over: claim it now rather than at the next tick
    }
  }

  /** Runs a tick now, or right after the one in progress. */
  private kick(): void {
    if (this.stopped || !this.timer) return;
    if (this.ticking) {
      this.again = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
  }

  private liveMembers(now: number): string[] {
    const live = [this.memberId];
    // a member is dead once its heartbeat is older than the lease TTL plus one renewal interval of slack;
    // dead members are forgotten (their KV entries expire silently: no DEL is watched)
    for (const [id, seen] of this.members) {
      if (id === this.memberId) continue;
      if (now - seen < this.ttlMs + this.interval) live.push(id);
      else this.members.delete(id);
    }
    return live;
  }

  private desiredOwners(members: string[]): string[] {
    const key = [...members].sort().join(' ');
    if (this.assignment.key !== key) this.assignment = { key, owners: assignPartitions(this.partitions, members) };
    return this.assignment.owners;
  }

  private async heartbeat(): Promise<void> {
    await this.kv.put(this.names.memberKey(this.memberId), encodeJson({ id: this.memberId, pid: process.pid, at: new Date().toISOString() }));
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const now = Date.now();
    const work: Promise<void>[] = [this.heartbeat().catch((err) => this.log.warn({ err }, 'membership heartbeat failed'))];
    const owners = this.desiredOwners(this.liveMembers(now));
    for (let p = 0; p < this.partitions; p++) {
      if (this.busy.has(p)) continue;
      const mine = owners[p] === this.memberId;
      const lease = this.leases.get(p);
      if (lease && now - lease.renewedAt >= this.ttlMs) {
        work.push(this.guard(p, () => this.lose(p, 'lease expired before renewal')));
      } else if (lease && mine) {
        // renew once half an interval has passed (ticks also run on kicks, which must not multiply renewals)
        if (now - lease.renewedAt >= this.interval / 2) work.push(this.guard(p, () => this.renew(p, lease)));
        if (!lease.running && !lease.starting && now >= lease.retryAt) this.startWorker(p, lease);
      } else if (lease && !mine) {
        if (!lease.starting) work.push(this.guard(p, () => this.handOver(p, lease)));
      } else if (!lease && mine) {
        work.push(this.guard(p, () => this.claim(p)));
      }
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
    const lease: Lease = { revision, renewedAt: Date.now(), running: false, starting: false, incarnation: 0, failures: 0, retryAt: 0 };
    this.leases.set(partition, lease);
    this.startWorker(partition, lease);
  }

  /**
   * Starts a worker incarnation for a lease we hold, in the background. On failure the lease is kept (the
   * partition is stalled) and the start is retried after a backoff. If the lease was lost meanwhile, the
   * worker that just started is stopped again.
   */
  private startWorker(partition: number, lease: Lease): void {
    if (this.stopped) return;
    lease.starting = true;
    const incarnation = ++lease.incarnation;
    const crashed = (): void => this.crashed(partition, lease, incarnation);
    const run = (async () => {
      try {
        await this.hooks.acquire(partition, crashed);
        if (this.leases.get(partition) !== lease || this.stopped) {
          await this.hooks.release(partition, this.stopped ? 'drain' : 'lost').catch((err) => this.log.warn({ err, partition }, 'could not stop a worker started too late'));
          return;
        }
        lease.running = true;
        if (lease.failures > 0) this.log.info({ partition, after_failures: lease.failures }, 'partition started again');
        else this.log.info({ partition }, 'partition acquired');
        lease.failures = 0;
      } catch (err) {
        this.failed(partition, lease, 'could not start partition; keeping the lease and retrying', err);
      } finally {
        lease.starting = false;
      }
    })();
    this.starts.add(run);
    void run.finally(() => this.starts.delete(run));
  }

  /** The worker of `incarnation` died on its own: start a new one after a backoff (unless it has been replaced). */
  private crashed(partition: number, lease: Lease, incarnation: number): void {
    if (this.leases.get(partition) !== lease || lease.incarnation !== incarnation || !lease.running) return;
    lease.running = false;
    this.failed(partition, lease, 'partition worker crashed; restarting it', undefined);
  }

  private failed(partition: number, lease: Lease, msg: string, err: unknown): void {
    lease.failures++;
    const delay = backoffDelay(lease.failures, this.options.backoffMs, this.options.backoffMaxMs);
    lease.retryAt = Date.now() + delay;
    // one line per attempt, and attempts back off: no log flood while MySQL is down
    this.log.warn({ ...(err === undefined ? {} : { err }), partition, failures: lease.failures, retry_in_ms: delay }, msg);
    if (this.stopped) return;
    const timer = setTimeout(() => this.kick(), delay + 5);
    timer.unref();
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

  /**
   * Graceful leave: remove our membership first, so that the others know at once who takes each of our
   * partitions (and claim it the moment its lease is handed over), then drain and hand back every partition.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.ticking?.catch(() => undefined); // its heartbeat must not bring the membership back
    await this.kv.delete(this.names.memberKey(this.memberId)).catch(() => undefined);
    await Promise.all([...this.starts]);
    await Promise.all(this.owned.map((p) => this.leases.has(p) ? this.handOver(p, this.leases.get(p)!) : undefined));
    this.watcher?.stop();
  }
}
