import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../support/ports.js';
export { freePort };

const run = promisify(execFile);

/** Every child this suite started, killed (SIGKILL, by pid) when the test process exits however it exits. */
const children = new Set<ChildProcess>();
const extraPids = new Set<number>();
let exitHookInstalled = false;

function killAllNow(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null && child.pid) {
      try {
        process.kill(child.pid, 'SIGCONT'); // a SIGSTOPped child would not die of SIGTERM; SIGKILL works anyway
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  for (const pid of extraPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export function track(child: ChildProcess): ChildProcess {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', killAllNow);
    for (const sig of ['SIGINT', 'SIGTERM'] as const) {
      process.once(sig, () => {
        killAllNow();
        process.exit(130);
      });
    }
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

/** A pid started detached by a script (the search engine node): killed at exit too, unless untracked. */
export function trackPid(pid: number): void {
  extraPids.add(pid);
}

export function untrackPid(pid: number): void {
  extraPids.delete(pid);
}


export async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function waitPort(port: number, open: boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await listening(port)) !== open) {
    if (Date.now() > deadline) throw new Error(`port ${port} did not ${open ? 'open' : 'close'} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited.finally(() => clearTimeout(timer));
}

/** A server this suite can stop and start again (same port, same data). */
export interface Restartable {
  readonly name: string;
  readonly port: number;
  readonly running: boolean;
  /** Clean stop (SIGTERM), waits for the exit. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Final stop (SIGKILL if the clean stop takes too long). */
  destroy(): Promise<void>;
}

abstract class ChildServer implements Restartable {
  protected child?: ChildProcess;
  abstract readonly name: string;

  constructor(readonly port: number, protected readonly dir: string, protected readonly logDir: string) {}

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  protected abstract command(): [string, string[]];

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const [bin, args] = this.command();
    const log = createWriteStream(join(this.logDir, `${this.name}.log`), { flags: 'a' });
    const child = track(spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
    this.child = child;
    const failed = once(child, 'exit').then(([code]) => {
      throw new Error(`${this.name} exited during start (code ${String(code)}); see ${join(this.logDir, `${this.name}.log`)}`);
    });
    await Promise.race([waitPort(this.port, true), failed]);
    failed.catch(() => undefined);
  }

  async stop(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM', 60_000);
    await waitPort(this.port, false, 10_000);
  }

  async destroy(): Promise<void> {
    if (this.child) await stopChild(this.child, 'SIGTERM', 10_000);
  }
}

/** A private mariadbd: own datadir (mariadb-install-db), port and socket; root without password on 127.0.0.1. */
export class PrivateMariaDb extends ChildServer {
  readonly name = 'mariadb';

  static async create(dir: string, logDir: string): Promise<PrivateMariaDb> {
    await mkdir(dir, { recursive: true });
    await run('mariadb-install-db', [
      '--no-defaults', `--datadir=${join(dir, 'data')}`, '--user=root', '--auth-root-authentication-method=normal', '--skip-test-db',
    ], { timeout: 120_000 });
    const db = new PrivateMariaDb(await freePort(), dir, logDir);
    await db.start();
    return db;
  }

  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}`;
  }

  protected command(): [string, string[]] {
    return ['mariadbd', [
      '--no-defaults', `--datadir=${join(this.dir, 'data')}`, `--port=${this.port}`, `--socket=${join(this.dir, 'mariadb.sock')}`,
      `--pid-file=${join(this.dir, 'mariadb.pid')}`, '--bind-address=127.0.0.1', '--user=root', '--skip-log-bin',
      '--max-connections=500', '--innodb-buffer-pool-size=256M', '--skip-name-resolve',
    ]];
  }
}

/** A private redis-server on its own port, without persistence. */
export class PrivateRedis extends ChildServer {
  readonly name = 'redis';

  static async create(dir: string, logDir: string): Promise<PrivateRedis> {
    await mkdir(dir, { recursive: true });
    const redis = new PrivateRedis(await freePort(), dir, logDir);
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  protected command(): [string, string[]] {
    return ['redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir]];
  }
}
