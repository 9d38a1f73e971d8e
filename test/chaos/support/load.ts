import { randomBytes, randomUUID } from 'node:crypto';
import { partitionOf, routingKey } from '../../../src/protocol/partition.js';

/** What the load does; writes carry an Idempotency-Key and are retried with it on 503/504 or no answer. */
export type OpKind = 'createApplication' | 'createChat' | 'createMessage' | 'editMessage' | 'search' | 'getMessage';
const WRITES: ReadonlySet<OpKind> = new Set(['createApplication', 'createChat', 'createMessage', 'editMessage']);

export interface ChatRef {
  token: string;
  number: number;
  partition: number;
}

/** A message the load created (201), with what it knows of its body. */
export interface MessageRecord {
  token: string;
  chat: number;
  number: number;
  partition: number;
  tag: string;
  createdBody: string;
  createdAt: number;
  phase: string;
  /** Bodies of confirmed (200) edits, in order. */
  confirmed: string[];
  /** Bodies of edits attempted after the last confirmed one that never got a 200 (they may or may not be applied). */
  unconfirmed: string[];
  editing: boolean;
}

/** A creation or edit that never got a 2xx (gave up after the deadline, or a non-retryable status). */
export interface Unresolved {
  kind: OpKind;
  phase: string;
  partition: number;
  tag?: string;
  statuses: number[];
  path: string;
}

export interface PhaseStats {
  /** `<op> <status>` → attempts (status 0: no answer / connection error / client timeout). */
  statuses: Map<string, number>;
  /** [answered at, latency ms] of 503/504 answers. */
  unavailable: Array<[number, number]>;
  /** Attempts that got no 2xx, with the time they were answered: [at, status, op, partition (-1: a read)]. */
  failures: Array<[number, number, OpKind, number]>;
  /** Retries with the same Idempotency-Key after a 2xx that did not return the first outcome. */
  idempotencyMismatches: string[];
  /** GETs right after a confirmed write that returned an older body (read-your-writes; observation only). */
  staleReads: number;
}

const RETRYABLE = new Set([0, 503, 504]);

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

interface Answer {
  status: number;
  body: unknown;
  retryAfter?: number;
  ms: number;
}

/**
 * A closed-loop load of `concurrency` clients over two api processes: message creations (a share of them into
 * one hot chat), chat creations, edits, searches and reads. Records every status per phase, every 2xx, and the
 * completion time of every confirmed write per partition (recovery measurements).
 */
export class Load {
  readonly chats: ChatRef[] = [];
  readonly tokens: string[] = [];
  readonly messages: MessageRecord[] = [];
  readonly chatTags = new Map<string, { token: string; number: number; phase: string }>();
  readonly unresolved: Unresolved[] = [];
  /** Tags of creations attempted (confirmed or not): anything else found in MySQL is a phantom. */
  readonly attemptedTags = new Set<string>();
  readonly phases = new Map<string, PhaseStats>();
  /** Completion times of confirmed writes, in order, and per partition. */
  readonly writeTimes: number[] = [];
  readonly partitionWrites = new Map<number, number[]>();
  hot!: ChatRef;
  phase = 'setup';
  private running = false;
  private paused = false;
  private clients: Promise<void>[] = [];
  private busy = 0;
  private rr = 0;

  constructor(
    private readonly apiUrls: () => string[],
    private readonly partitions: number,
    private readonly opts: { concurrency: number; requestDeadlineMs: number; applications: number; chats: number },
  ) {}

  stats(phase = this.phase): PhaseStats {
    let s = this.phases.get(phase);
    if (!s) {
      s = { statuses: new Map(), unavailable: [], failures: [], idempotencyMismatches: [], staleReads: 0 };
      this.phases.set(phase, s);
    }
    return s;
  }

  private url(): string {
    const urls = this.apiUrls();
    return urls[this.rr++ % urls.length]!;
  }

  private async send(method: string, path: string, body: unknown, key?: string): Promise<Answer> {
    const started = Date.now();
    const headers: Record<string, string> = {};
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (key) headers['idempotency-key'] = key;
    try {
      const res = await fetch(this.url() + path, {
        method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}), signal: AbortSignal.timeout(30_000),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      const ra = Number(res.headers.get('retry-after'));
      return { status: res.status, body: parsed, ms: Date.now() - started, ...(Number.isFinite(ra) && ra > 0 ? { retryAfter: ra } : {}) };
    } catch {
      return { status: 0, body: undefined, ms: Date.now() - started };
    }
  }

  private record(kind: OpKind, answer: Answer, partition = -1): void {
    const s = this.stats();
    const k = `${kind} ${answer.status}`;
    s.statuses.set(k, (s.statuses.get(k) ?? 0) + 1);
    const now = Date.now();
    if (answer.status === 503 || answer.status === 504) s.unavailable.push([now, answer.ms]);
    if (answer.status < 200 || answer.status >= 300) s.failures.push([now, answer.status, kind, partition]);
  }

  private confirmed(partition: number): void {
    const now = Date.now();
    this.writeTimes.push(now);
    let list = this.partitionWrites.get(partition);
    if (!list) this.partitionWrites.set(partition, (list = []));
    list.push(now);
  }

  /**
   * One logical write: retried with the same key on 503/504/no answer until a 2xx or the deadline. Returns the
   * 2xx answer, or undefined (recorded as unresolved).
   */
  private async write(kind: OpKind, method: string, path: string, body: unknown, partition: number, tag?: string): Promise<Answer | undefined> {
    const key = randomUUID();
    const deadline = Date.now() + this.opts.requestDeadlineMs;
    const statuses: number[] = [];
    const phase = this.phase;
    if (tag) this.attemptedTags.add(tag);
    for (;;) {
      const answer = await this.send(method, path, body, key);
      this.record(kind, answer, partition);
      statuses.push(answer.status);
      if (answer.status >= 200 && answer.status < 300) {
        this.confirmed(partition);
        // sometimes: the same request again with the same key must give the first outcome
        if (Math.random() < 0.05) {
          const again = await this.send(method, path, body, key);
          this.record(kind, again, partition);
          const same = again.status === answer.status && JSON.stringify(pick(again.body)) === JSON.stringify(pick(answer.body));
          if (!same && !RETRYABLE.has(again.status)) {
            this.stats().idempotencyMismatches.push(`${method} ${path}: first ${answer.status} ${JSON.stringify(pick(answer.body))}, retry ${again.status} ${JSON.stringify(pick(again.body))}`);
          }
        }
        return answer;
      }
      if (!RETRYABLE.has(answer.status) || Date.now() > deadline) {
        this.unresolved.push({ kind, phase, partition, statuses: compact(statuses), path, ...(tag ? { tag } : {}) });
        return undefined;
      }
      const wait = Math.min(1000, (answer.retryAfter ?? 0.25) * 1000) * (0.5 + Math.random() / 2);
      await sleep(wait);
    }
  }

  private tag(prefix: string): string {
    return `${prefix}${randomBytes(6).toString('hex')}`;
  }

  async createApplication(): Promise<string> {
    const tag = this.tag('a');
    const answer = await this.write('createApplication', 'POST', '/applications', { name: `chaos ${tag}` }, partitionOf(routingKey.registrar(tag), this.partitions));
    const token = (answer?.body as { token?: string } | undefined)?.token;
    if (!token) throw new Error('could not create an application');
    this.tokens.push(token);
    return token;
  }

  async createChat(token: string): Promise<ChatRef | undefined> {
    const tag = this.tag('n');
    const answer = await this.write('createChat', 'POST', `/applications/${token}/chats`, { name: `chat ${tag}` }, partitionOf(routingKey.application(token), this.partitions), tag);
    const number = (answer?.body as { number?: number } | undefined)?.number;
    if (typeof number !== 'number') return undefined;
    const ref = { token, number, partition: partitionOf(routingKey.chat(token, number), this.partitions) };
    this.chatTags.set(tag, { token, number, phase: this.phase });
    this.chats.push(ref);
    return ref;
  }

  private async createMessage(chat: ChatRef): Promise<void> {
    const tag = this.tag('m');
    const filler = Math.random() < 0.05 ? ' ' + 'ü€𝄞 lorem ipsum '.repeat(100) : ` body ${randomBytes(8).toString('base64url')}`;
    const body = `${tag}${filler}`;
    const answer = await this.write('createMessage', 'POST', `/applications/${chat.token}/chats/${chat.number}/messages`, { body }, chat.partition, tag);
    const number = (answer?.body as { number?: number } | undefined)?.number;
    if (typeof number !== 'number') return;
    this.messages.push({
      token: chat.token, chat: chat.number, number, partition: chat.partition, tag, createdBody: body, createdAt: Date.now(), phase: this.phase,
      confirmed: [], unconfirmed: [], editing: false,
    });
  }

  private async editMessage(m: MessageRecord): Promise<void> {
    m.editing = true;
    try {
      const body = `${m.tag} edit ${m.confirmed.length + m.unconfirmed.length + 1} ${randomBytes(6).toString('base64url')}`;
      const answer = await this.write('editMessage', 'PUT', `/applications/${m.token}/chats/${m.chat}/messages/${m.number}`, { body }, m.partition);
      if (answer) {
        m.confirmed.push(body);
        m.unconfirmed = [];
        // read-your-writes (observation): the GET right after the 200 should show the new body
        if (Math.random() < 0.3) {
          const got = await this.send('GET', `/applications/${m.token}/chats/${m.chat}/messages/${m.number}`, undefined);
          this.record('getMessage', got);
          if (got.status === 200 && (got.body as { body?: string }).body !== body) this.stats().staleReads++;
        }
      } else {
        m.unconfirmed.push(body);
      }
    } finally {
      m.editing = false;
    }
  }

  private async search(m: MessageRecord): Promise<void> {
    const answer = await this.send('GET', `/applications/${m.token}/chats/${m.chat}/messages/search?query=${encodeURIComponent(m.tag)}`, undefined);
    this.record('search', answer);
  }

  private async getMessage(m: MessageRecord): Promise<void> {
    const answer = await this.send('GET', `/applications/${m.token}/chats/${m.chat}/messages/${m.number}`, undefined);
    this.record('getMessage', answer);
  }

  /** Applications, then chats until every partition has at least one chat (so every partition gets traffic). */
  async setup(): Promise<void> {
    for (let i = 0; i < this.opts.applications; i++) await this.createApplication();
    this.hot = (await this.createChat(this.tokens[0]!))!;
    const covered = (): number => new Set(this.chats.map((c) => c.partition)).size;
    let i = 0;
    while (this.chats.length < this.opts.chats + 1 || covered() < this.partitions) {
      const batch = Array.from({ length: 8 }, () => this.createChat(this.tokens[i++ % this.tokens.length]!));
      await Promise.all(batch);
      if (this.chats.length > this.opts.chats + 20 * this.partitions) throw new Error('could not cover every partition with a chat');
    }
  }

  private pickMessage(): MessageRecord | undefined {
    if (this.messages.length === 0) return undefined;
    // mostly recent messages, sometimes any
    const n = this.messages.length;
    const i = Math.random() < 0.7 ? n - 1 - Math.floor(Math.random() * Math.min(n, 200)) : Math.floor(Math.random() * n);
    return this.messages[i];
  }

  private async step(): Promise<void> {
    const r = Math.random();
    if (r < 0.03) {
      await this.createChat(this.tokens[Math.floor(Math.random() * this.tokens.length)]!);
    } else if (r < 0.68) {
      const chat = Math.random() < 0.4 ? this.hot : this.chats[Math.floor(Math.random() * this.chats.length)]!;
      await this.createMessage(chat);
    } else if (r < 0.83) {
      const m = this.pickMessage();
      if (m && !m.editing) await this.editMessage(m);
    } else if (r < 0.93) {
      const m = this.pickMessage();
      if (m) await this.search(m);
    } else {
      const m = this.pickMessage();
      if (m) await this.getMessage(m);
    }
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.paused = false;
    this.clients = Array.from({ length: this.opts.concurrency }, async () => {
      while (this.running && !this.paused) {
        this.busy++;
        try {
          await this.step();
        } finally {
          this.busy--;
        }
      }
    });
  }

  /** Stops starting new operations and waits until every operation in flight (with its retries) is resolved. */
  async pause(): Promise<void> {
    this.paused = true;
    await Promise.all(this.clients);
    this.running = false;
  }

  get inFlight(): number {
    return this.busy;
  }

  /** Confirmed writes completed in [from, to). */
  writesBetween(from: number, to: number): number {
    return upperBound(this.writeTimes, to) - upperBound(this.writeTimes, from - 1);
  }

  /** First confirmed write on `partition` completed after `after`, if any. */
  firstWriteAfter(partition: number, after: number): number | undefined {
    const list = this.partitionWrites.get(partition) ?? [];
    const i = upperBound(list, after);
    return list[i];
  }

  isWrite(kind: OpKind): boolean {
    return WRITES.has(kind);
  }
}

/** The parts of a resource a retry must repeat (timestamps of a later read may legitimately differ for edits). */
function pick(body: unknown): unknown {
  if (!body || typeof body !== 'object') return body;
  const b = body as Record<string, unknown>;
  return { number: b['number'], token: b['token'], body: b['body'], name: b['name'], error: b['error'] };
}

function compact(statuses: number[]): number[] {
  return statuses.length <= 20 ? statuses : [...statuses.slice(0, 10), ...statuses.slice(-10)];
}

/** Index of the first element > value in a sorted array. */
function upperBound(list: number[], value: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]! <= value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
