/**
 * The chaos suite (`npm run test:chaos`, README "Chaos suite"): its own topology on loopback (2 api, 3 actors,
 * 2 projections processes; private mariadbd, redis-server, 3-node NATS cluster, OpenSearch node), a steady load,
 * and one fault after another with the invariants checked after each. Not part of `npm test` (its file name
 * does not end in .test.ts). CHAOS_PROFILE=ci|full; the JSON report goes to test/chaos/results/.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { faults, runFault } from './support/faults.js';
import { Invariants, type Violation } from './support/invariants.js';
import { Load } from './support/load.js';
import { Observer } from './support/observer.js';
import { loadProfile } from './support/profile.js';
import { summary, writeReport, type Report } from './support/report.js';
import { Topology } from './support/topology.js';

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));
const profile = loadProfile();
const selected = profile.faults.map((id) => faults.find((f) => f.id === id)!);
const budgetMs = profile.name === 'ci' ? 25 * 60_000 : 90 * 60_000;

test(`chaos suite (${profile.name} profile)`, { timeout: budgetMs }, async (t) => {
  const startedAt = new Date().toISOString();
  const logDir = `${RESULTS}${startedAt.replace(/[:.]/g, '-')}-logs`;
  await mkdir(logDir, { recursive: true });
  const report: Report = { profile: { ...profile }, startedAt, node: process.version, logDir, faults: [] };
  const live: { load?: Load; obs?: Observer } = {};
  const cleanups: Array<() => Promise<void>> = [];
  t.after(async () => {
    await live.load?.pause().catch(() => undefined);
    await live.obs?.close();
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    report.finishedAt = new Date().toISOString();
    const file = await writeReport(RESULTS, report);
    process.stdout.write(`\n${summary(report)}\n\nreport: ${file}\n`);
  });

  let topo: Topology;
  try {
    topo = await Topology.start(profile, logDir, (cleanup) => cleanups.push(cleanup));
  } catch (err) {
    report.error = `topology did not start: ${String((err as Error).stack ?? err)}`;
    throw err;
  }
  report.namespace = topo.namespace;
  const obs = (live.obs = await Observer.open(topo));
  const activeLoad = (live.load = new Load(() => topo.apiUrls(), profile.partitions, profile));
  await activeLoad.setup();
  activeLoad.phase = 'warmup';
  activeLoad.start();
  await new Promise((r) => setTimeout(r, profile.warmupMs));

  // a violation already reported by an earlier fault is carried as a note, so that each fault shows what it broke
  const seen = new Map<string, string>();
  const firstSeen = (faultId: string, violations: Violation[]): { fresh: Violation[]; carried: string[] } => {
    const fresh: Violation[] = [];
    const carried: string[] = [];
    for (const v of violations) {
      const key = `${v.invariant}: ${v.detail}`;
      const earlier = seen.get(key);
      if (earlier) carried.push(`still broken (first after ${earlier}): ${v.invariant}`);
      else {
        seen.set(key, faultId);
        fresh.push(v);
      }
    }
    return { fresh, carried };
  };

  for (const fault of selected) {
    await t.test(`${fault.id}: ${fault.title}`, async () => {
      const result = await runFault(fault, { topo, load: activeLoad, obs, profile });
      const { fresh, carried } = firstSeen(fault.id, result.violations);
      result.violations = fresh;
      result.notes.push(...carried);
      report.faults.push(result);
      process.stdout.write(`# ${fault.id}: ${fresh.length === 0 ? 'invariants hold' : `${fresh.length} invariant(s) broken`}; ${JSON.stringify(result.measurements)}\n`);
      assert.deepEqual(fresh.map((v) => `${v.invariant}: ${v.detail}`), [], `${fault.id} broke invariants`);
    });
  }

  // final state: everything the load ever confirmed, once more
  await activeLoad.pause();
  const inv = new Invariants(topo, activeLoad);
  const finalViolations = await inv.storage();
  report.final = {
    violations: finalViolations,
    messages: activeLoad.messages.length,
    chats: activeLoad.chats.length,
    writesConfirmed: activeLoad.writeTimes.length,
    processes: topo.all.map((p) => ({
      name: p.name, role: p.role, member: p.memberId, alive: p.alive, exitCode: p.exitCode, exitSignal: p.exitSignal, errorLines: p.errorLines,
      hugeLogLines: p.hugeLines, log: p.logFile,
      partitionStartFailures: p.count('could not start partition; giving the lease back'), commitFailures: p.count('commit failed; restarting partition'),
    })),
  };
  assert.deepEqual(firstSeen('final', finalViolations).fresh.map((v) => `${v.invariant}: ${v.detail}`), [], 'final state');
});
