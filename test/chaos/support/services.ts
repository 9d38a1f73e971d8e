import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { track } from './servers.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

/** Log messages the suite watches for (kept with their fields); every other line is only counted by message. */
const WATCHED = new Set([
  'started', 'actor system started', 'partition acquired', 'partition started', 'partition stopped', 'partition lost',
  'partition handed over', 'partition fenced by a newer owner; stopping', 'commit failed; restarting partition',
  'could not start partition; giving the lease back', 'actor system stopped',
]);

export interface LogEvent {
  at: number;
  msg: string;
  level: number;
  partition?: number;
  epoch?: number;
  reason?: string;
  why?: string;
  /** The logged error's message (first 300 characters). */
  err?: string;
}

export type Role = 'api' | 'actors' | 'projections';

/** One service OS process (`node --import tsx src/main.ts`), its log in a file, watched log events in memory. */
export class ServiceProcess {
  child!: ChildProcess;
  url?: string;
  opsUrl?: string;
  memberId?: string;
  readonly events: LogEvent[] = [];
  /** Lines per message (every level), for the report: e.g. how often a partition restart was attempted. */
  readonly counts = new Map<string, number>();
  errorLines = 0;
  hugeLines = 0;
  startedAt = 0;
  exitedAt?: number;
  exitCode?: number | null;
  exitSignal?: NodeJS.Signals | null;
  private log?: WriteStream;
  private partial = '';

  constructor(
    readonly name: string,
    readonly role: Role,
    private readonly env: Record<string, string>,
    private readonly dir: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get logFile(): string {
    return join(this.dir, `${this.name}.log`);
  }

  /** Spawns the process and waits for its `started` line (60 s). */
  async start(): Promise<void> {
    this.log ??= createWriteStream(this.logFile, { flags: 'a' });
    this.partial = '';
    this.exitedAt = undefined;
    this.startedAt = Date.now();
    const child = track(spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...process.env, ...this.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    this.child = child;
    const started = new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        this.log!.write(chunk);
        const text = this.partial + chunk.toString();
        const lines = text.split('\n');
        this.partial = lines.pop() ?? '';
        if (this.partial.length > 1_000_000) {
          this.hugeLines++;
          this.partial = '';
        }
        for (const line of lines) if (this.onLine(line) === 'started') resolve();
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        this.exitedAt = Date.now();
        this.exitCode = code;
        this.exitSignal = signal;
        reject(new Error(`${this.name} exited before it started (${String(code ?? signal)}); see ${this.logFile}`));
      });
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    await started.finally(() => clearTimeout(timer));
  }

  private onLine(line: string): string | undefined {
    if (!line) return undefined;
    if (line.length > 100_000) {
      this.hugeLines++;
      return undefined;
    }
    // the api's request lines: not parsed (the load records every status itself)
    if (line.includes('"msg":"incoming request"') || line.includes('"msg":"request completed"')) return undefined;
    let entry: Record<string, unknown>;
    try {
      entry = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const msg = typeof entry['msg'] === 'string' ? entry['msg'] : '';
    const level = typeof entry['level'] === 'number' ? entry['level'] : 30;
    if (level >= 50) this.errorLines++;
    this.counts.set(msg, (this.counts.get(msg) ?? 0) + 1);
    if (!WATCHED.has(msg)) return undefined;
    const at = typeof entry['time'] === 'number' ? entry['time'] : Date.now();
    const event: LogEvent = { at, msg, level };
    if (typeof entry['partition'] === 'number') event.partition = entry['partition'];
    if (typeof entry['epoch'] === 'number') event.epoch = entry['epoch'];
    if (typeof entry['reason'] === 'string') event.reason = entry['reason'];
    if (typeof entry['why'] === 'string') event.why = entry['why'];
    const err = entry['err'] as { message?: unknown } | undefined;
    if (err && typeof err.message === 'string') event.err = err.message.slice(0, 300);
    this.events.push(event);
    if (msg === 'started') {
      if (typeof entry['url'] === 'string') this.url = entry['url'];
      if (typeof entry['ops'] === 'string') this.opsUrl = entry['ops'];
    }
    if (msg === 'actor system started' && typeof entry['member'] === 'string') this.memberId = entry['member'];
    return msg;
  }

  count(msg: string, since = 0): number {
    if (since === 0) return this.counts.get(msg) ?? 0;
    return this.events.filter((e) => e.msg === msg && e.at >= since).length;
  }

  /** SIGTERM and wait for the exit; returns the exit code. */
  async terminate(timeoutMs = 60_000): Promise<number | null> {
    if (!this.alive) return this.exitCode ?? null;
    const exited = once(this.child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    const [code] = await exited.finally(() => clearTimeout(timer));
    return code;
  }

  async kill9(): Promise<void> {
    if (!this.alive) return;
    const exited = once(this.child, 'exit');
    process.kill(this.pid, 'SIGCONT');
    this.child.kill('SIGKILL');
    await exited;
  }

  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  async close(): Promise<void> {
    await this.kill9();
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
  }
}
