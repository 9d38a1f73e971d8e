import { execFile } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { startNatsCluster, type NatsCluster } from '../../support/nats-cluster.js';
import { uniqueName } from '../../support/env.js';
import type { Profile } from './profile.js';
import { PrivateMariaDb, PrivateRedis, freePort, listening, trackPid, untrackPid } from './servers.js';
import { ServiceProcess, type Role } from './services.js';

const run = promisify(execFile);
const SCRIPT = fileURLToPath(new URL('../../../deploy/opensearch-local/opensearch-local.sh', import.meta.url));
/** Seconds the private search engine may take to become healthy (it runs niced, see PrivateSearchEngine.env). */
const START_TIMEOUT_S = Number(process.env['OPENSEARCH_START_TIMEOUT']) || 300;

/** A private OpenSearch node (deploy/opensearch-local, shared build) on its own ports and data dir. */
export class PrivateSearchEngine {
  running = false;
  private constructor(readonly port: number, readonly dir: string) {}

  static async create(): Promise<PrivateSearchEngine> {
    // HTTP port and transport port (+100) both free; never 9200 (the shared node)
    for (let i = 0; i < 50; i++) {
      const port = 20_000 + Math.floor(Math.random() * 20_000);
      if ((await listening(port)) || (await listening(port + 100))) continue;
      const engine = new PrivateSearchEngine(port, join(tmpdir(), uniqueName(`chaos-opensearch-${port}-`)));
      await engine.start();
      return engine;
    }
    throw new Error('no free port pair for a private search engine');
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The node runs niced: a JVM starting up takes both cores for a minute or more, and on a machine that also runs
   * the whole topology and the load that would fail writes for lack of CPU, not because of the fault (in production
   * the search engine has its own machines). It may then start slower, hence the longer start timeout.
   */
  private get env(): NodeJS.ProcessEnv {
    return {
      OPENSEARCH_HEAP: '512m',
      OPENSEARCH_NICE: '10',
      ...process.env,
      OPENSEARCH_START_TIMEOUT: String(START_TIMEOUT_S),
      OPENSEARCH_PORT: String(this.port),
      OPENSEARCH_LOCAL_DIR: this.dir,
    };
  }

  private async pid(): Promise<number | undefined> {
    const text = await readFile(join(this.dir, 'opensearch.pid'), 'utf8').catch(() => '');
    const pid = Number(text.trim());
    return pid > 0 ? pid : undefined;
  }

  async start(): Promise<void> {
    try {
      await run(SCRIPT, ['start'], { env: this.env, timeout: (START_TIMEOUT_S + 60) * 1000 });
    } catch (err) {
      const log = await readFile(join(this.dir, 'opensearch.log'), 'utf8').catch(() => '');
      const causes = log.split('\n').filter((l) => /\b(ERROR|FATAL)\b|Caused by|Exception:/.test(l)).slice(-15).join('\n');
      throw new Error(`${(err as Error).message}\n--- node log (errors) ---\n${causes}`);
    } finally {
      const pid = await this.pid();
      if (pid) trackPid(pid);
    }
    this.running = true;
  }

  async stop(): Promise<void> {
    const pid = await this.pid();
    await run(SCRIPT, ['stop'], { env: this.env, timeout: 60_000 });
    if (pid) untrackPid(pid);
    this.running = false;
  }

  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}

/**
 * The chaos topology on loopback: a private mariadbd, redis-server, 3-node NATS cluster and OpenSearch node,
 * and the service as separate OS processes: 2 api, 3 actors, 2 projections (actors can be added).
 */
export class Topology {
  readonly api: ServiceProcess[] = [];
  readonly actors: ServiceProcess[] = [];
  readonly projections: ServiceProcess[] = [];
  /** Every service process ever started (for the report), including stopped ones. */
  readonly all: ServiceProcess[] = [];
  private seq = 0;

  private constructor(
    readonly profile: Profile,
    readonly namespace: string,
    readonly dataDir: string,
    readonly logDir: string,
    readonly mariadb: PrivateMariaDb,
    readonly redis: PrivateRedis,
    readonly nats: NatsCluster,
    readonly engine: PrivateSearchEngine,
  ) {}

  /** Starts everything; on a failure stops whatever was started. `onCreated` receives it for cleanup first. */
  static async start(profile: Profile, logDir: string, register: (cleanup: () => Promise<void>) => void): Promise<Topology> {
    const namespace = uniqueName('chaos');
    const dataDir = join(tmpdir(), `${namespace}-data`);
    const started: Array<() => Promise<void>> = [];
    register(async () => {
      for (const stop of started.reverse()) await stop().catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
    });
    const [mariadb, redis, nats, engine] = await Promise.all([
      PrivateMariaDb.create(join(dataDir, 'mariadb'), logDir).then((s) => (started.push(() => s.destroy()), s)),
      PrivateRedis.create(join(dataDir, 'redis'), logDir).then((s) => (started.push(() => s.destroy()), s)),
      startNatsCluster(3).then((s) => (started.push(() => s.stop()), s)),
      PrivateSearchEngine.create().then((s) => (started.push(() => s.destroy()), s)),
    ]);
    const topo = new Topology(profile, namespace, dataDir, logDir, mariadb, redis, nats, engine);
    started.push(async () => {
      await Promise.all(topo.all.map((p) => p.close()));
    });
    // the first process creates and migrates the database; the others start together
    await topo.add('api');
    await Promise.all([topo.add('api'), topo.add('actors'), topo.add('actors'), topo.add('actors'), topo.add('projections'), topo.add('projections')]);
    return topo;
  }

  get databaseUrl(): string {
    return `${this.mariadb.url}/${this.namespace}`;
  }

  async db(): Promise<mysql.Connection> {
    return mysql.createConnection({ uri: this.databaseUrl, connectTimeout: 3000 });
  }

  private async env(role: Role): Promise<Record<string, string>> {
    const p = this.profile;
    return {
      ROLES: role,
      NAMESPACE: this.namespace,
      DATABASE_URL: this.databaseUrl,
      NATS_URL: this.nats.url,
      NATS_REPLICAS: '3',
      REDIS_URL: this.redis.url,
      ELASTICSEARCH_URL: this.engine.url,
      SEARCH_ENGINE: 'opensearch',
      PARTITIONS: String(p.partitions),
      LEASE_TTL_MS: String(p.leaseTtlMs),
      COMMAND_TIMEOUT_MS: String(p.commandTimeoutMs),
      SEARCH_TIMEOUT_MS: String(p.searchTimeoutMs),
      // the suite is about faults, not abuse limits (tested on their own): its load is one client address and a
      // few applications searching at once
      RATE_LIMIT: 'off',
      SEARCH_CONCURRENCY_PER_APPLICATION: '64',
      PORT: '0',
      HOST: '127.0.0.1',
      OPS_PORT: role === 'api' ? '0' : String(await freePort()),
      LOG_LEVEL: 'info',
    };
  }

  /** Starts one more process of `role` and waits until it is started. */
  async add(role: Role): Promise<ServiceProcess> {
    const list = role === 'api' ? this.api : role === 'actors' ? this.actors : this.projections;
    const proc = new ServiceProcess(`${role}-${++this.seq}`, role, await this.env(role), this.logDir);
    this.all.push(proc);
    await proc.start();
    list.push(proc);
    return proc;
  }

  apiUrls(): string[] {
    return this.api.filter((p) => p.alive && p.url).map((p) => p.url!);
  }

  /** Actors processes that run (a SIGSTOPped one counts as running). */
  liveActors(): ServiceProcess[] {
    return this.actors.filter((p) => p.alive);
  }

  remove(proc: ServiceProcess): void {
    for (const list of [this.api, this.actors, this.projections]) {
      const i = list.indexOf(proc);
      if (i >= 0) list.splice(i, 1);
    }
  }
}
