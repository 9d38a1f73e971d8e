/**
 * The benchmark runner.
 *
 *   npm run bench                                   # every scenario, every implementation it supports
 *   npm run bench -- create-hot create-spread --impl service,lock,incr --duration 20 --connections 64
 *   npm run bench -- --rounds 3                     # every scenario three times over: the table shows medians
 *   npm run bench:smoke                             # 5 s of each scenario: the scripts work and the invariants hold
 *
 * Builds the service (`npm run build`), then for each implementation starts a fresh deployment (bench/lib/
 * deployments.ts), and for each scenario prepares its data, forks the load generator (bench/lib/load.ts:
 * autocannon in a process of its own), reads the CPU time of every process around the load window, lets the
 * implementation settle and checks the invariants. Writes bench/results/<date>.json (smoke runs: a temporary
 * file) and, after a run of every scenario, docs/bench.png. Exits non-zero when a row FAILED (invariants broken,
 * or not one successful request) or hit an ERROR. Never judges a timing.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SHARED } from './env.js';
import { cpuShares, cpuSnapshot, pidListeningOn, processName, round, type Watched } from './lib/cpu.js';
import { IMPL_TITLES, IMPLS, startDeployment, type Deployment, type Impl } from './lib/deployments.js';
import { checkInvariants } from './lib/invariants.js';
import type { LoadResult, LoadSpec } from './lib/load.js';
import { ROOT, sleep } from './lib/processes.js';
import { gitDescription, machine, RESULTS_DIR, type Results, type Row } from './lib/results.js';
import { renderChart } from './chart.js';
import { SCENARIOS, scenario as byName } from './scenarios/index.js';
import type { Acks, RunOptions, Scenario } from './scenarios/types.js';
import { markdownTable } from './table.js';

const USAGE = `usage: npm run bench -- [scenario ...] [--impl ${IMPLS.join(',')}] [--duration s] [--connections n]
                         [--chats n] [--fill n] [--cold-chats n] [--partitions n] [--smoke] [--no-build]
                         [--rounds n] [--cpu-prof dir]
scenarios: ${SCENARIOS.map((s) => s.name).join(', ')} (default: all)`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    impl: { type: 'string' },
    duration: { type: 'string' },
    connections: { type: 'string' },
    chats: { type: 'string' },
    fill: { type: 'string' },
    'cold-chats': { type: 'string' },
    partitions: { type: 'string' },
    rounds: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    'no-build': { type: 'boolean', default: false },
    'cpu-prof': { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const smoke = values.smoke === true;
const int = (raw: string | undefined, fallback: number, name: string): number => {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`--${name} must be a positive integer\n${USAGE}`);
  return Number(raw);
};
const opts: RunOptions = {
  duration: int(values.duration, smoke ? 5 : 20, 'duration'),
  ...(values.connections !== undefined ? { connections: int(values.connections, 64, 'connections') } : {}),
  chats: int(values.chats, smoke ? 100 : 1000, 'chats'),
  fill: int(values.fill, smoke ? 2000 : 100_000, 'fill'),
  // more than the window can reach at ~2,000/s: every message of the run wakes a chat never touched before
  coldChats: int(values['cold-chats'], smoke ? 20_000 : 300_000, 'cold-chats'),
  smoke,
};
/** --partitions: the service's PARTITIONS; absent, the service's own default. */
const partitions = values.partitions !== undefined ? int(values.partitions, 0, 'partitions') : undefined;
/** --rounds: every implementation's scenarios this many times over, one round after another (the table: medians). */
const rounds = int(values.rounds, 1, 'rounds');
const scenarios = positionals.length > 0 ? positionals.map(byName) : [...SCENARIOS];
const impls = (values.impl ? values.impl.split(',').map((s) => s.trim()) : [...IMPLS]) as Impl[];
for (const impl of impls) if (!IMPLS.includes(impl)) throw new Error(`unknown implementation "${impl}" (known: ${IMPLS.join(', ')})`);

if (!values['no-build']) {
  console.log('building the service (npm run build)…');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}
// the code measured is what was built now: src/ edited during the run does not change it
const git = gitDescription();

const shared = sharedServers();
console.log(`shared servers watched: ${shared.map((w) => `${w.name} (pid ${w.pid})`).join(', ') || 'none found'}`);
const tmp = mkdtempSync(join(os.tmpdir(), 'chat-bench-'));
const rows: Row[] = [];

// Ctrl-C / SIGTERM: stop the load generator and the deployment in progress (its processes, database, streams)
let current: { dep?: Deployment; load?: ChildProcess } = {};
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`\n${signal}: stopping what this run started…`);
    current.load?.kill('SIGKILL');
    void (current.dep?.stop() ?? Promise.resolve()).finally(() => {
      rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    });
  });
}

for (let round = 1; round <= rounds; round++) {
  if (rounds > 1) console.log(`\n=== round ${round} of ${rounds}`);
  for (const impl of impls) {
    const mine = scenarios.filter((s) => s.impls.includes(impl));
    if (mine.length === 0) continue;
    console.log(`\n== ${impl}: ${IMPL_TITLES[impl]}`);
    if (impl === 'incr') console.log('   (not durable: it answers 201 before the row is written; a crash loses the acknowledged rows still queued)');
    let dep: Deployment;
    try {
      dep = await startDeployment(impl, {
        ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
        ...(partitions !== undefined ? { partitions } : {}),
      });
      current = { dep };
    } catch (err) {
      for (const s of mine) for (const v of s.variants ?? [undefined]) rows.push({ ...errorRow(s, v, impl, err), ...roundOf(round) });
      console.log(`   ERROR: ${String(err)}`);
      continue;
    }
    try {
      for (const s of mine) {
        for (const variant of s.variants ?? [undefined]) {
          let row: Row;
          try {
            row = { ...(await runOne(s, variant, dep)), ...roundOf(round) };
          } catch (err) {
            row = { ...errorRow(s, variant, impl, err), ...roundOf(round) };
          }
          rows.push(row);
          console.log(`   ${describe(row)}`);
          await sleep(smoke ? 500 : 2000); // let projections catch up before the next window
        }
      }
    } finally {
      current = {};
      await dep.stop();
    }
  }
}
rmSync(tmp, { recursive: true, force: true });

const results: Results = {
  command: ['npm run bench', '--', ...process.argv.slice(2)].join(' '),
  date: new Date().toISOString(),
  smoke,
  git,
  machine: machine(),
  options: { ...opts, ...(rounds > 1 ? { rounds } : {}), ...(partitions !== undefined ? { partitions } : {}), scenarios: scenarios.map((s) => s.name), impls, shared: shared.map((w) => w.name) },
  rows,
};
const dir = smoke ? mkdtempSync(join(os.tmpdir(), 'chat-bench-smoke-')) : RESULTS_DIR;
mkdirSync(dir, { recursive: true });
const file = join(dir, `${results.date.replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\n${markdownTable(results)}\nresults: ${file}`);
if (!smoke && scenarios.length === SCENARIOS.length) {
  const png = await renderChart(results, join(ROOT, 'docs', 'bench.png'));
  console.log(`chart: ${png}`);
}
const bad = rows.filter((r) => r.status !== 'PASSED');
if (bad.length > 0) {
  console.log(`\n${bad.length} of ${rows.length} rows did not pass: ${bad.map((r) => `${label(r)} ${r.status}`).join(', ')}`);
  process.exit(1);
}
console.log(`\nall ${rows.length} rows passed (invariants held${smoke ? '; timings are not judged' : ''})`);

async function runOne(s: Scenario, variant: string | undefined, dep: Deployment): Promise<Row> {
  const { params, acks: setupAcks } = await s.prepare(dep, opts, variant);
  const connections = opts.connections ?? s.connections;
  const acksFile = join(tmp, `acks-${rows.length}.json`);
  const spec: LoadSpec = { scenario: s.name, params, connections, duration: opts.duration, acksFile };
  const load = fork(join(ROOT, 'bench', 'lib', 'load.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  current.load = load;
  const watched: Watched[] = [
    ...dep.processes.map((p) => ({ name: dep.impl.startsWith('service') ? `service ${p.name}` : p.name, pid: p.pid, shared: false })),
    { name: 'load generator (autocannon)', pid: load.pid!, shared: false },
    ...shared,
  ];
  let before: ReturnType<typeof cpuSnapshot> | undefined;
  let after: ReturnType<typeof cpuSnapshot> | undefined;
  const result = await new Promise<LoadResult>((resolve, reject) => {
    load.on('message', (msg: { type: string; result?: LoadResult; message?: string }) => {
      if (msg.type === 'start') before = cpuSnapshot(watched);
      else if (msg.type === 'end') after = cpuSnapshot(watched);
      else if (msg.type === 'result') resolve(msg.result!);
      else if (msg.type === 'error') reject(new Error(`load generator: ${msg.message}`));
    });
    load.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
    load.send(spec);
  });
  const ok = s.creates ? result.statuses['201'] ?? 0 : result.statuses['200'] ?? 0;
  const cpu = cpuShares(watched, before!, after!, ok);
  await dep.settle();
  let invariants: Row['invariants'] = null;
  if (s.creates) {
    const acks = JSON.parse(readFileSync(acksFile, 'utf8')) as Acks;
    for (const [parent, numbers] of Object.entries(setupAcks)) {
      const list = (acks[parent] ??= []);
      for (const n of numbers) list.push(n); // not push(...numbers): a setup may acknowledge 100,000s
    }
    invariants = await checkInvariants(dep.db, params.token, acks);
  }
  const notes: string[] = [];
  if (dep.impl === 'incr') notes.push('not durable: 201 before the row is written; a crash loses the acknowledged rows still queued');
  if (cpu.machineBusyPct !== null) notes.push(`machine ${cpu.machineBusyPct}% busy over ${cpu.machineCores} cores during the window (other work included)`);
  const failed = invariants?.ok === false || ok === 0;
  if (ok === 0) notes.push('not one successful request');
  const fixture = params['fixture'];
  return {
    scenario: s.name, ...(variant ? { variant } : {}), title: variant ? `${s.title}, ${variant}-character queries` : s.title,
    impl: dep.impl, status: failed ? 'FAILED' : 'PASSED', connections, duration_s: round(cpu.windowMs / 1000, 2),
    ops_per_s: Math.round(ok / (cpu.windowMs / 1000)), ok, requests: result.requests, statuses: result.statuses,
    errors: result.errors, timeouts: result.timeouts, latency_ms: result.latency_ms, cpu: cpu.shares,
    cpu_ms_per_op_total: round(cpu.shares.reduce((a, c) => a + c.ms_per_op, 0), 3), machine_busy_pct: cpu.machineBusyPct,
    invariants, extra: { ...result.extra, ...(fixture ? { fixture } : {}) }, notes,
  };
}

function errorRow(s: Scenario, variant: string | undefined, impl: Impl, err: unknown): Row {
  return {
    scenario: s.name, ...(variant ? { variant } : {}), title: s.title, impl, status: 'ERROR', connections: opts.connections ?? s.connections,
    duration_s: 0, ops_per_s: 0, ok: 0, requests: 0, statuses: {}, errors: 0, timeouts: 0, latency_ms: { p50: 0, p90: 0, p99: 0, max: 0, mean: 0 },
    cpu: [], cpu_ms_per_op_total: 0, machine_busy_pct: null, invariants: null, extra: {}, notes: [], error: err instanceof Error ? err.stack ?? err.message : String(err),
  };
}

/** The round a row belongs to, in a run of several (absent in a run of one). */
function roundOf(round: number): Pick<Row, 'round'> {
  return rounds > 1 ? { round } : {};
}

function label(r: Row): string {
  return `${r.scenario}${r.variant ? `[${r.variant}]` : ''}/${r.impl}${r.round ? ` (round ${r.round})` : ''}`;
}

function describe(r: Row): string {
  if (r.status === 'ERROR') return `${label(r)} ERROR ${r.error}`;
  const non2xx = Object.entries(r.statuses).filter(([k]) => !k.startsWith('2')).map(([k, v]) => `${v}×${k}`).join(' ');
  const cpu = r.cpu.map((c) => `${c.name} ${c.ms_per_op} ms/op ${c.pct_of_window}%`).join(', ');
  const inv = r.invariants ? (r.invariants.ok ? `invariants ok (${r.invariants.acknowledged} acknowledged)` : `INVARIANTS BROKEN: ${r.invariants.problems.join('; ')}`) : '';
  const extra = Object.entries(r.extra).filter(([k]) => k !== 'fixture').map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(' ');
  return `${label(r)} ${r.status}: ${r.ops_per_s}/s p50 ${r.latency_ms.p50} ms p99 ${r.latency_ms.p99} ms${non2xx ? ` [${non2xx}]` : ''}${r.errors ? ` errors ${r.errors}` : ''} (machine ${r.machine_busy_pct}% busy) | CPU ms/op ${r.cpu_ms_per_op_total} (${cpu}) | ${inv} ${extra}`;
}

/** The shared servers, by the port they listen on: their CPU during a window includes everything else using them. */
function sharedServers(): Watched[] {
  const out: Watched[] = [];
  const add = (url: string, label: string): void => {
    const u = new URL(url.split(',')[0]!);
    const port = Number(u.port || { 'mysql:': 3306, 'nats:': 4222, 'redis:': 6379, 'http:': 80 }[u.protocol] || 0);
    const pid = pidListeningOn(port);
    if (pid !== null) out.push({ name: `${processName(pid) === 'java' && label === 'search' ? 'opensearch-java' : processName(pid)} (${label}, shared)`, pid, shared: true });
  };
  add(SHARED.mysql, 'MySQL');
  add(SHARED.nats, 'NATS');
  add(SHARED.redis, 'Redis');
  add(SHARED.search, 'search');
  return out;
}
