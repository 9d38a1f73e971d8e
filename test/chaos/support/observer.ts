import { connect, type KV, type NatsConnection } from 'nats';
import { names } from '../../../src/protocol/subjects.js';
import type { Topology } from './topology.js';
import type { ServiceProcess } from './services.js';

export interface ConsumerSample {
  partition: number;
  pending: number;
  ackPending: number;
  waiting: number;
  delivered: number;
}

const decoder = new TextDecoder();

/** Read-only views of the deployment from outside: ownership KV, consumers, fences, metrics. */
export class Observer {
  private kv?: KV;
  private constructor(private readonly topo: Topology, readonly nc: NatsConnection) {}

  static async open(topo: Topology): Promise<Observer> {
    const nc = await connect({ servers: topo.nats.url.split(','), maxReconnectAttempts: -1, reconnectTimeWait: 250, timeout: 3000 });
    return new Observer(topo, nc);
  }

  get names(): ReturnType<typeof names> {
    return names(this.topo.namespace);
  }

  async close(): Promise<void> {
    await this.nc.close().catch(() => undefined);
  }

  private async bucket(): Promise<KV> {
    this.kv ??= await this.nc.jetstream({ timeout: 3000 }).views.kv(this.names.ownershipBucket, { bindOnly: true });
    return this.kv;
  }

  /** partition → member id holding its lease (undefined: no lease). Throws when NATS cannot answer. */
  async leases(): Promise<Map<number, string | undefined>> {
    const kv = await this.bucket();
    const out = new Map<number, string | undefined>();
    await Promise.all(Array.from({ length: this.topo.profile.partitions }, async (_, p) => {
      const entry = await kv.get(this.names.leaseKey(p));
      let owner: string | undefined;
      if (entry && entry.operation === 'PUT' && entry.value.length > 0) {
        try {
          owner = (JSON.parse(decoder.decode(entry.value)) as { owner?: string }).owner;
        } catch {
          owner = undefined;
        }
      }
      out.set(p, owner);
    }));
    return out;
  }

  async leasesOrUndefined(): Promise<Map<number, string | undefined> | undefined> {
    return this.leases().catch(() => undefined);
  }

  /** Partitions leased by `member`. */
  async ownedBy(member: string): Promise<number[]> {
    const leases = await this.leases();
    return [...leases].filter(([, owner]) => owner === member).map(([p]) => p).sort((a, b) => a - b);
  }

  /**
   * Ownership is settled when every partition is leased by one of `members` and every one of them holds its
   * share: ⌊P/N⌋ or ⌈P/N⌉ partitions, as the bounded-load assignment gives (src/actors/ownership.ts).
   */
  async settled(members: string[]): Promise<{ ok: boolean; spread: Record<string, number> }> {
    const leases = await this.leasesOrUndefined();
    if (!leases) return { ok: false, spread: {} };
    const spread: Record<string, number> = Object.fromEntries(members.map((m) => [m, 0]));
    let ok = true;
    for (const owner of leases.values()) {
      if (owner === undefined || !(owner in spread)) ok = false;
      else spread[owner]!++;
    }
    const low = Math.floor(leases.size / Math.max(1, members.length));
    const high = Math.ceil(leases.size / Math.max(1, members.length));
    if (Object.values(spread).some((n) => n < low || n > high)) ok = false;
    return { ok, spread };
  }

  /** Command consumers of every partition (JetStream consumer info). */
  async consumers(): Promise<ConsumerSample[]> {
    const jsm = await this.nc.jetstreamManager({ timeout: 3000 });
    const out: ConsumerSample[] = [];
    for await (const c of jsm.consumers.list(this.names.commandsStream)) {
      const m = /^cmd-p(\d+)$/.exec(c.name);
      if (!m) continue;
      out.push({ partition: Number(m[1]), pending: c.num_pending, ackPending: c.num_ack_pending, waiting: c.num_waiting, delivered: c.delivered.stream_seq });
    }
    return out.sort((a, b) => a.partition - b.partition);
  }

  /** The name of the NATS node leading the commands stream. */
  async commandsLeader(): Promise<string | undefined> {
    const jsm = await this.nc.jetstreamManager({ timeout: 3000 });
    const info = await jsm.streams.info(this.names.commandsStream);
    return info.cluster?.leader;
  }

  /** True when every replica of the commands and events streams is current. */
  async replicasCurrent(): Promise<boolean> {
    try {
      const jsm = await this.nc.jetstreamManager({ timeout: 3000 });
      for (const stream of [this.names.commandsStream, this.names.eventsStream]) {
        const info = await jsm.streams.info(stream);
        const replicas = info.cluster?.replicas ?? [];
        if (!info.cluster?.leader || replicas.length < 2 || replicas.some((r) => !r.current || r.offline)) return false;
      }
      return true;
    } catch {
      return false;
    }
  }

  /** partition → { epoch, owner } from partition_fences in the private database. */
  async fences(): Promise<Map<number, { epoch: number; owner: string }>> {
    const db = await this.topo.db();
    try {
      const [rows] = await db.query('SELECT partition_no, epoch, owner FROM partition_fences');
      return new Map((rows as Array<{ partition_no: number; epoch: number; owner: string }>).map((r) => [Number(r.partition_no), { epoch: Number(r.epoch), owner: r.owner }]));
    } finally {
      await db.end();
    }
  }

  /** Selected gauges of a process's /metrics (actors and projections serve them on OPS_PORT, the api on PORT). */
  async metrics(proc: ServiceProcess): Promise<Record<string, number> | undefined> {
    const base = proc.opsUrl ?? proc.url;
    if (!base) return undefined;
    try {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return undefined;
      const out: Record<string, number> = {};
      for (const line of (await res.text()).split('\n')) {
        const m = /^(chat_[a-z_]+)(?:\{[^}]*\})? ([0-9.eE+-]+)$/.exec(line);
        if (!m) continue;
        out[m[1]!] = (out[m[1]!] ?? 0) + Number(m[2]);
      }
      return out;
    } catch {
      return undefined;
    }
  }

  async ready(proc: ServiceProcess): Promise<number> {
    const base = proc.opsUrl ?? proc.url;
    if (!base) return 0;
    try {
      const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) });
      return res.status;
    } catch {
      return 0;
    }
  }
}

/** Polls `probe` every `everyMs` until it returns true; the elapsed time since `since`, or undefined on timeout. */
export async function waitUntil(probe: () => Promise<boolean> | boolean, timeoutMs: number, since = Date.now(), everyMs = 250): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe()) return Date.now() - since;
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
