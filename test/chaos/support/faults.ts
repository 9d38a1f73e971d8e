import { Invariants, type Violation } from './invariants.js';
import type { Load } from './load.js';
import { waitUntil, type Observer } from './observer.js';
import type { Profile } from './profile.js';
import { percentile, type FaultResult, type Objective } from './report.js';
import type { ServiceProcess } from './services.js';
import type { Topology } from './topology.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const MAILBOX_CAPACITY = 1024; // the service's default (the chaos topology does not change it)

export interface FaultContext {
  topo: Topology;
  load: Load;
  obs: Observer;
  profile: Profile;
  /** When the fault took effect (recovery is measured from here); set by the fault. */
  faultAt: number;
  /** When the fault was undone (server restarted, process resumed); defaults to faultAt. */
  undoneAt?: number;
  /** Partitions the fault hits (default: all). */
  affected?: number[];
  /** The fault requires zero failed requests (every attempt answered 2xx) during its phase. */
  zeroFailures?: 'all' | 'writes';
  measure(name: string, value: FaultResult['measurements'][string] | undefined): void;
  objective(name: string, ok: boolean, detail: string): void;
  violate(invariant: string, detail: string): void;
  note(text: string): void;
}

export interface Fault {
  id: string;
  title: string;
  inject(ctx: FaultContext): Promise<void>;
}

const members = (topo: Topology): string[] => topo.liveActors().map((p) => p.memberId!).filter(Boolean);

async function settledSince(ctx: FaultContext, since: number, name: string): Promise<void> {
  let spread: Record<string, number> = {};
  const ms = await waitUntil(async () => {
    const s = await ctx.obs.settled(members(ctx.topo));
    spread = s.spread;
    return s.ok;
  }, ctx.profile.recoveryTimeoutMs, since, 250);
  ctx.measure(name, ms ?? null);
  ctx.measure(`${name.replace(/Ms$/, '')}Spread`, Object.fromEntries(Object.entries(spread).map(([m, n]) => [ctx.topo.actors.find((p) => p.memberId === m)?.name ?? m, n])));
  if (ms === undefined) ctx.violate('partitions spread over the live actors processes again', `not within ${ctx.profile.recoveryTimeoutMs} ms; spread ${JSON.stringify(spread)}`);
}

/** The actors process owning the hot chat's partition (the most disruptive victim), optionally excluding some. */
async function hotOwner(ctx: FaultContext, exclude: ServiceProcess[] = []): Promise<ServiceProcess> {
  const leases = await ctx.obs.leases();
  const owner = leases.get(ctx.load.hot.partition);
  const candidates = ctx.topo.liveActors().filter((p) => !exclude.includes(p));
  return candidates.find((p) => p.memberId === owner) ?? candidates[0]!;
}

/** Until every partition in `parts` is leased by a live process other than `victim`. */
async function takeover(
  ctx: FaultContext, victim: ServiceProcess, parts: number[], since: number, extra?: () => Promise<boolean>, abandoned = (): boolean => false,
): Promise<number | undefined> {
  return waitUntil(async () => {
    if (abandoned()) return true;
    const leases = await ctx.obs.leasesOrUndefined();
    if (!leases) return false;
    const live = new Set(members(ctx.topo).filter((m) => m !== victim.memberId));
    if (!parts.every((p) => live.has(leases.get(p) ?? ''))) return false;
    return extra ? extra() : true;
  }, ctx.profile.leaseTtlMs + ctx.profile.recoveryTimeoutMs, since, 100);
}

export const faults: Fault[] = [
  {
    id: 'actors-kill9',
    title: 'kill -9 the actors process owning the hot chat, then start it again',
    async inject(ctx) {
      const victim = await hotOwner(ctx);
      const parts = await ctx.obs.ownedBy(victim.memberId!);
      ctx.affected = parts;
      ctx.measure('victimPartitions', parts.length);
      ctx.faultAt = Date.now();
      await victim.kill9();
      ctx.topo.remove(victim);
      ctx.measure('takeoverMs', (await takeover(ctx, victim, parts, ctx.faultAt)) ?? null);
      const restartAt = Date.now();
      const again = await ctx.topo.add('actors');
      const upAt = Date.now();
      ctx.measure('restartedProcessUpMs', upAt - restartAt);
      ctx.note(`${victim.name} killed, ${again.name} started in its place`);
      await settledSince(ctx, upAt, 'rebalancedAfterRestartMs');
    },
  },
  {
    id: 'actors-scale-sigterm',
    title: 'add a fourth actors process, then SIGTERM one of the others (zero failed requests expected)',
    async inject(ctx) {
      ctx.zeroFailures = 'all';
      ctx.faultAt = Date.now();
      const added = await ctx.topo.add('actors');
      const upAt = Date.now();
      ctx.measure('addedProcessUpMs', upAt - ctx.faultAt);
      await settledSince(ctx, upAt, 'scaleOutRebalancedMs');
      const victim = await hotOwner(ctx, [added]);
      const parts = await ctx.obs.ownedBy(victim.memberId!);
      ctx.affected = parts;
      const termAt = Date.now();
      ctx.undoneAt = termAt;
      const code = await victim.terminate();
      ctx.measure('sigtermExitMs', Date.now() - termAt);
      ctx.topo.remove(victim);
      ctx.note(`${added.name} added; ${victim.name} (owned ${parts.length} partitions) terminated with exit code ${String(code)}`);
      if (code !== 0) ctx.violate('SIGTERM drains and exits 0', `${victim.name} exited with ${String(code)} (signal ${String(victim.exitSignal)})`);
      await settledSince(ctx, termAt, 'handoverRebalancedMs');
    },
  },
  {
    id: 'actors-sigstop',
    title: 'SIGSTOP the actors process owning the hot chat past its lease, then SIGCONT (fencing)',
    async inject(ctx) {
      const victim = await hotOwner(ctx);
      const parts = await ctx.obs.ownedBy(victim.memberId!);
      ctx.affected = parts;
      // the epoch each of the victim's workers runs with (from its 'partition started' lines)
      const staleEpoch = new Map<number, number>();
      for (const e of victim.events) if (e.msg === 'partition started' && e.partition !== undefined && e.epoch !== undefined) staleEpoch.set(e.partition, e.epoch);
      const missingEpoch = parts.filter((p) => !staleEpoch.has(p));
      if (missingEpoch.length > 0) ctx.note(`no 'partition started' line seen for partitions ${missingEpoch.join(',')} of ${victim.name}`);
      ctx.faultAt = Date.now();
      victim.pause();
      let fencesAtTakeover = new Map<number, { epoch: number; owner: string }>();
      const advanced = (p: number): boolean => {
        const f = fencesAtTakeover.get(p);
        return f !== undefined && f.owner !== victim.memberId && f.epoch > (staleEpoch.get(p) ?? 0);
      };
      // stay paused until the takeover (lease + fence) is seen, at most twice the lease plus the profile's margin;
      // then one second more, so that the process wakes up with its stale epoch after the new owners advanced
      const deadline = ctx.faultAt + 2 * ctx.profile.leaseTtlMs + ctx.profile.pauseBeyondLeaseMs;
      let tookAt: number | undefined;
      let watching = true;
      const watch = takeover(ctx, victim, parts, ctx.faultAt, async () => {
        fencesAtTakeover = await ctx.obs.fences().catch(() => new Map());
        if (!parts.every(advanced)) return false;
        tookAt ??= Date.now();
        return true;
      }, () => !watching);
      await Promise.race([watch, sleep(Math.max(0, deadline - Date.now()))]);
      watching = false;
      await watch;
      if (tookAt === undefined) {
        const startFailures = ctx.topo.liveActors().flatMap((p) => p.events
          .filter((e) => e.at >= ctx.faultAt && e.msg === 'could not start partition; giving the lease back')
          .map((e) => `${p.name}: ${(e.err ?? '').replace(/UPDATE partition_fences.*? - /, 'UPDATE partition_fences … - ')}`));
        ctx.violate('the new owners take over (lease + fence) every partition of the process while it is paused',
          `not within ${deadline - ctx.faultAt} ms: partitions ${parts.filter((p) => !advanced(p)).join(',')} not advanced` +
          (startFailures.length > 0 ? `; ${startFailures.length} failed starts, e.g. ${startFailures[0]}` : ''));
      } else {
        await sleep(1000);
      }
      victim.resume();
      ctx.undoneAt = Date.now();
      ctx.measure('pausedMs', ctx.undoneAt - ctx.faultAt);
      ctx.measure('takeoverMs', tookAt === undefined ? null : tookAt - ctx.faultAt);
      ctx.measure('fenceEpochs', Object.fromEntries(parts.map((p) => [`p${p}`, `${staleEpoch.get(p) ?? '?'}→${fencesAtTakeover.get(p)?.epoch ?? '?'}`])));
      // the stale workers must stop: fenced by their next commit or lease lost, never commit again
      const stopped = (p: number): boolean => victim.events.some((e) => e.at >= ctx.faultAt && e.partition === p && e.epoch === staleEpoch.get(p)
        && (e.msg === 'partition stopped' || e.msg === 'partition fenced by a newer owner; stopping'));
      const staleStopped = await waitUntil(() => parts.every((p) => !staleEpoch.has(p) || stopped(p)), 20_000, ctx.undoneAt);
      ctx.measure('staleWorkersStoppedMs', staleStopped ?? null);
      const fenced = victim.events.filter((e) => e.at >= ctx.faultAt && e.msg === 'partition fenced by a newer owner; stopping').length;
      const lost = victim.events.filter((e) => e.at >= ctx.faultAt && e.msg === 'partition lost').length;
      ctx.measure('staleFencedLines', fenced);
      ctx.measure('staleLeaseLostLines', lost);
      if (staleStopped === undefined) {
        ctx.violate('the paused process stops its stale workers after SIGCONT', `partitions still running with the old epoch: ${parts.filter((p) => staleEpoch.has(p) && !stopped(p)).join(',')}`);
      }
      // a stale commit after the takeover would need the old epoch to pass the fence: the fence must never go back
      const after = await ctx.obs.fences();
      const regressed = parts.filter((p) => (after.get(p)?.epoch ?? 0) < (fencesAtTakeover.get(p)?.epoch ?? 0));
      if (regressed.length > 0) ctx.violate('fence epochs never go back', `partitions ${regressed.join(',')}`);
      ctx.note(`${victim.name} paused with ${parts.length} partitions; after SIGCONT: ${fenced} fenced, ${lost} lease-lost lines`);
      await settledSince(ctx, ctx.undoneAt, 'rebalancedAfterResumeMs');
    },
  },
  {
    id: 'nats-kill9',
    title: 'kill -9 the NATS node leading the commands stream, restart it',
    async inject(ctx) {
      const leader = await ctx.obs.commandsLeader().catch(() => undefined);
      const node = ctx.topo.nats.nodes.find((n) => n.name === leader) ?? ctx.topo.nats.nodes[0]!;
      ctx.note(`killed NATS node ${node.name} (commands stream leader: ${leader ?? 'unknown'})`);
      ctx.faultAt = Date.now();
      await node.kill();
      await sleep(ctx.profile.natsNodeDownMs);
      ctx.undoneAt = Date.now();
      await node.restart();
      const current = await waitUntil(() => ctx.obs.replicasCurrent(), ctx.profile.recoveryTimeoutMs, ctx.undoneAt, 500);
      ctx.measure('replicasCurrentAfterRestartMs', current ?? null);
      if (current === undefined) ctx.violate('the restarted NATS node catches up (stream replicas current)', `not within ${ctx.profile.recoveryTimeoutMs} ms`);
      await settledSince(ctx, ctx.faultAt, 'ownershipSettledMs');
    },
  },
  {
    id: 'redis-restart',
    title: 'stop Redis, start it again',
    async inject(ctx) {
      ctx.zeroFailures = 'all';
      ctx.faultAt = Date.now();
      await ctx.topo.redis.stop();
      await sleep(ctx.profile.redisOutageMs);
      ctx.undoneAt = Date.now();
      await ctx.topo.redis.start();
    },
  },
  {
    id: 'search-restart',
    title: 'stop the search engine, start it again',
    async inject(ctx) {
      ctx.zeroFailures = 'writes';
      ctx.faultAt = Date.now();
      await ctx.topo.engine.stop();
      await sleep(ctx.profile.searchOutageMs);
      const startAt = Date.now();
      ctx.undoneAt = startAt;
      await ctx.topo.engine.start();
      ctx.measure('engineStartMs', Date.now() - startAt);
      const hot = ctx.load.hot;
      const back = await waitUntil(async () => {
        const res = await fetch(`${ctx.topo.apiUrls()[0]}/applications/${hot.token}/chats/${hot.number}/messages/search?query=m`, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
        return res?.status === 200;
      }, ctx.profile.recoveryTimeoutMs, startAt, 250);
      ctx.measure('searchAnswersAfterStartMs', back ?? null);
    },
  },
  {
    id: 'mariadb-outage',
    title: 'stop MariaDB cleanly, start it again after the outage',
    async inject(ctx) {
      const before = await Promise.all(ctx.topo.liveActors().map((p) => ctx.obs.metrics(p)));
      const rssBefore = Math.max(0, ...before.map((m) => m?.['chat_process_resident_memory_bytes'] ?? 0));
      ctx.faultAt = Date.now();
      await ctx.topo.mariadb.stop();
      ctx.measure('stopMs', Date.now() - ctx.faultAt);
      let peakUnsettled = 0;
      let peakRss = 0;
      let peakAckPending = 0;
      const readyStatuses = new Map<number, number>();
      const end = ctx.faultAt + ctx.profile.mariadbOutageMs;
      while (Date.now() < end) {
        const samples = await Promise.all(ctx.topo.liveActors().map((p) => ctx.obs.metrics(p)));
        for (const m of samples) {
          peakUnsettled = Math.max(peakUnsettled, m?.['chat_actor_unsettled_commands'] ?? 0);
          peakRss = Math.max(peakRss, m?.['chat_process_resident_memory_bytes'] ?? 0);
        }
        const consumers = await ctx.obs.consumers().catch(() => []);
        peakAckPending = Math.max(peakAckPending, consumers.reduce((n, c) => n + c.ackPending, 0));
        const ready = await ctx.obs.ready(ctx.topo.api[0]!);
        readyStatuses.set(ready, (readyStatuses.get(ready) ?? 0) + 1);
        await sleep(Math.min(500, Math.max(0, end - Date.now())));
      }
      ctx.undoneAt = Date.now();
      await ctx.topo.mariadb.start();
      ctx.measure('startMs', Date.now() - ctx.undoneAt);
      ctx.measure('outageMs', ctx.undoneAt - ctx.faultAt);
      ctx.measure('peakUnsettledPerProcess', peakUnsettled);
      ctx.measure('peakAckPendingAllPartitions', peakAckPending);
      ctx.measure('rssGrowthMb', Math.round((peakRss - rssBefore) / 1e6));
      ctx.measure('apiReadinessDuringOutage', Object.fromEntries([...readyStatuses].map(([s, n]) => [String(s), n])));
      const bound = MAILBOX_CAPACITY * Math.ceil(ctx.profile.partitions / Math.max(1, ctx.topo.liveActors().length)) * 2;
      ctx.objective('actors stop pulling (unsettled commands bounded)', peakUnsettled <= bound, `peak ${peakUnsettled} unsettled commands in one process (bound ${bound})`);
      const stats = ctx.load.stats();
      const during = stats.unavailable.filter(([at]) => at >= ctx.faultAt && at <= ctx.undoneAt!).map(([, ms]) => ms);
      const p95 = percentile(during, 95);
      ctx.measure('latency503DuringOutageP95', p95);
      ctx.objective('api answers 503 fast during the outage (p95 ≤ 1 s)', p95 !== null && p95 <= 1000, `${during.length} answers 503/504, p95 ${String(p95)} ms`);
      // restarts must back off: partition start attempts per second and process during the outage
      const attempts = ctx.topo.liveActors().map((p) => p.events.filter((e) => e.at >= ctx.faultAt && e.at <= ctx.undoneAt! + 1000
        && (e.msg === 'could not start partition; giving the lease back' || e.msg === 'partition acquired')).length);
      const perSecond = Math.max(0, ...attempts) / Math.max(1, (ctx.undoneAt - ctx.faultAt) / 1000);
      ctx.measure('partitionStartAttemptsPerSecondPeakProcess', Math.round(perSecond * 10) / 10);
      ctx.objective('partition restarts back off (≤ 5 attempts/s per process)', perSecond <= 5, `${perSecond.toFixed(1)} attempts/s`);
    },
  },
];

/** Runs one fault under the load: baseline, inject, recovery measurements, pause the load, invariants. */
export async function runFault(fault: Fault, base: { topo: Topology; load: Load; obs: Observer; profile: Profile }): Promise<FaultResult> {
  const { topo, load, obs, profile } = base;
  const started = Date.now();
  const result: FaultResult = {
    id: fault.id, title: fault.title, startedAt: new Date(started).toISOString(), durationMs: 0, measurements: {}, objectives: [], violations: [],
    statuses: {}, failedByStatus: {}, requests: { writesConfirmed: 0, writesUnresolved: 0, latency503p50: null, latency503p99: null, staleReads: 0 }, notes: [],
  };
  const ctx: FaultContext = {
    ...base,
    faultAt: 0,
    measure: (name, value) => (result.measurements[name] = value ?? null),
    objective: (name, ok, detail) => result.objectives.push({ name, ok, detail } satisfies Objective),
    violate: (invariant, detail) => result.violations.push({ invariant, detail } satisfies Violation),
    note: (text) => result.notes.push(text),
  };
  load.phase = fault.id;
  load.start();
  await sleep(profile.baselineMs);
  const baselineRate = (load.writesBetween(Date.now() - profile.baselineMs, Date.now()) * 1000) / profile.baselineMs;
  ctx.measure('baselineWritesPerS', Math.round(baselineRate * 10) / 10);
  const writesBefore = load.writeTimes.length;
  const unresolvedBefore = load.unresolved.length;

  try {
    await fault.inject(ctx);
  } catch (err) {
    ctx.violate('fault injected and undone', String((err as Error).stack ?? err));
  }
  const from = ctx.undoneAt ?? ctx.faultAt;
  const affected = ctx.affected ?? Array.from({ length: profile.partitions }, (_, p) => p);
  // wait (live) for every partition to write again, then take the exact times from the load's records
  const all = Array.from({ length: profile.partitions }, (_, p) => p);
  await waitUntil(() => all.every((p) => load.firstWriteAfter(p, from) !== undefined), profile.recoveryTimeoutMs, from);
  const firsts = affected.map((p) => load.firstWriteAfter(p, ctx.faultAt)).filter((t): t is number => t !== undefined);
  ctx.measure('firstSuccessMs', firsts.length > 0 ? Math.min(...firsts) - ctx.faultAt : null);
  if (ctx.undoneAt !== undefined) {
    const afterUndo = affected.map((p) => load.firstWriteAfter(p, from)).filter((t): t is number => t !== undefined);
    ctx.measure('firstSuccessAfterUndoMs', afterUndo.length > 0 ? Math.min(...afterUndo) - from : null);
  }
  const resumed = all.map((p) => load.firstWriteAfter(p, from));
  const writing = resumed.every((t) => t !== undefined) ? Math.max(...(resumed as number[])) - from : undefined;
  ctx.measure('allPartitionsWritingMs', writing ?? null);
  if (writing === undefined) {
    const silent = all.filter((p) => resumed[p] === undefined);
    ctx.violate('every partition consuming again', `no confirmed write within ${profile.recoveryTimeoutMs} ms on partitions ${silent.join(',')}`);
  }
  // write rate back to its baseline level: the first 3 s window ending after `from` with ≥ 80% of the baseline rate
  const rateOk = (end: number): boolean => (load.writesBetween(end - 3000, end) * 1000) / 3000 >= 0.8 * baselineRate;
  await waitUntil(() => rateOk(Date.now()), profile.recoveryTimeoutMs, from, 250);
  let rateBack: number | undefined;
  for (let end = from; end <= Date.now(); end += 100) {
    if (rateOk(end)) {
      rateBack = end - from;
      break;
    }
  }
  ctx.measure('writeRateBackMs', rateBack ?? null);
  if (fault.id === 'mariadb-outage') {
    ctx.objective('every partition consuming again within 10 s', writing !== undefined && writing <= 10_000, `${String(writing)} ms`);
    ctx.objective('write rate back to its pre-outage level within 10 s', rateBack !== undefined && rateBack <= 10_000, `${String(rateBack)} ms (baseline ${baselineRate.toFixed(1)}/s)`);
  }
  if (rateBack === undefined) ctx.note(`write rate not back to 80% of ${baselineRate.toFixed(1)}/s within ${profile.recoveryTimeoutMs} ms`);

  // settle: stop the load, let every request in flight resolve, then check everything
  await load.pause();
  const inv = new Invariants(topo, load);
  result.violations.push(...inv.statuses(fault.id), ...inv.unresolved(fault.id));
  const stats = load.stats(fault.id);
  if (ctx.zeroFailures) {
    const failed = stats.failures.filter(([, , kind]) => ctx.zeroFailures === 'all' || load.isWrite(kind));
    if (failed.length > 0) {
      const by = new Map<string, number>();
      for (const [, status, kind, partition] of failed) {
        const k = `${kind} ${status}${partition >= 0 ? ` p${partition}` : ''}`;
        by.set(k, (by.get(k) ?? 0) + 1);
      }
      ctx.violate(`zero failed ${ctx.zeroFailures === 'all' ? 'requests' : 'writes'}`, [...by].map(([k, n]) => `${k} ×${n}`).join(', '));
    }
  }
  // unacknowledged commands of a dead subscriber come back after the ack wait (COMMAND_ACK_WAIT_MS, 30 s)
  const backlog = await waitUntil(async () => (await obs.consumers().catch(() => undefined))?.every((c) => c.pending + c.ackPending === 0) ?? false, 40_000, Date.now(), 500);
  if (backlog === undefined) {
    const stuck = (await obs.consumers().catch(() => [])).filter((c) => c.pending + c.ackPending > 0);
    ctx.violate('no command left behind (every command consumer drained within 40 s once the load stops)', stuck.map((c) => `p${c.partition}: ${c.pending} pending, ${c.ackPending} unacked, ${c.waiting} pulls`).join('; '));
  }
  result.violations.push(...(await inv.storage()));
  const counters = await inv.counters(profile.convergeTimeoutMs);
  ctx.measure('countersConvergedMs', counters.violations.length === 0 ? counters.ms : null);
  result.violations.push(...counters.violations);
  const search = await inv.search(fault.id, profile.searchSample, profile.convergeTimeoutMs);
  ctx.measure('searchConvergedMs', search.violations.length === 0 ? search.ms : null);
  result.violations.push(...search.violations);
  const notReady: string[] = [];
  for (const proc of [...topo.api, ...topo.actors, ...topo.projections]) {
    const status = await obs.ready(proc);
    if (status !== 200) notReady.push(`${proc.name}: ${status}`);
  }
  if (notReady.length > 0) ctx.violate('every process ready once recovered', notReady.join(', '));

  for (const [k, n] of stats.statuses) result.statuses[k] = n;
  for (const [, status] of stats.failures) result.failedByStatus[String(status)] = (result.failedByStatus[String(status)] ?? 0) + 1;
  const lat = stats.unavailable.map(([, ms]) => ms);
  result.requests = {
    writesConfirmed: load.writeTimes.length - writesBefore,
    writesUnresolved: load.unresolved.length - unresolvedBefore,
    latency503p50: percentile(lat, 50),
    latency503p99: percentile(lat, 99),
    staleReads: stats.staleReads,
  };
  result.durationMs = Date.now() - started;
  return result;
}
