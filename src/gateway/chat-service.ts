import { LRUCache } from 'lru-cache';
import { IdempotencyKeyReusedError, NotFoundError, UnavailableError, ValidationError, fromBody } from '../domain/errors.js';
import { commandIdFor, fingerprintOf, recordKeyOf, type IdempotentRequest } from '../domain/idempotency.js';
import { limits } from '../domain/limits.js';
import type { Operator } from '../domain/operator.js';
import type { CommandBus, SendOptions } from '../messaging/command-bus.js';
import type { IdempotencyRecord, IdempotencyStore, StoredOutcome, StoredRecord } from '../messaging/idempotency-store.js';
import type { Command } from '../protocol/commands.js';
import type { CommandReply } from '../protocol/replies.js';
import type { ApplicationResource, ChatResource, MessageResource } from '../protocol/resources.js';
import type { MessageSearch } from '../search/message-search.js';
import type { ResourceCache } from '../storage/cache.js';
import { presentApplication, presentChat, presentMessage } from '../storage/presenters.js';
import type { Queries } from '../storage/queries.js';
import type { WriteGate } from './write-gate.js';

/** Who asks, for idempotency and log correlation. */
export interface RequestMeta {
  /** The operation: `PUT /applications/:token/chats/:number` (method and route pattern) or `nats chats.update`. */
  operation: string;
  idempotencyKey?: string;
  requestId?: string;
  /** The operator credential sent (`Authorization: Bearer …`), for operator-only operations. */
  credential?: string;
}

export interface ChatServiceDeps {
  bus: CommandBus;
  queries: Queries;
  cache: ResourceCache;
  search: MessageSearch;
  idempotency: IdempotencyStore;
  operator: Operator;
  /** Refuses writes at once while MySQL does not answer (WRITE_GATE_PROBE_MS). */
  writeGate: Pick<WriteGate, 'check' | 'isOpen'>;
  /** COMMAND_TIMEOUT_MS: how long a write waits for its actor, and so how long an attempt is in flight. */
  commandTimeoutMs: number;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page (the `after` to pass), when there is one. */
  next?: string;
  /** The cursor that continues after `item`, for a page cut short (NATS replies are bounded by bytes); default: its number. */
  cursorOf?(item: T): string;
}

export interface Created<T> {
  status: 200 | 201;
  resource: T;
}

/**
 * The operations of the API, shared by the HTTP routes and the NATS service so both behave the same.
 * Writes become commands for the actors (never a MySQL write here); reads go to the cache, then MySQL.
 */
export class ChatService {
  private readonly applicationIds = new LRUCache<string, number>({ max: 50_000 });
  private readonly chatIds = new LRUCache<string, number>({ max: 100_000 });

  private readonly bus: CommandBus;
  private readonly queries: Queries;
  private readonly cache: ResourceCache;
  private readonly search: MessageSearch;
  private readonly idempotency: IdempotencyStore;
  private readonly operator: Operator;
  private readonly writeGate: Pick<WriteGate, 'check' | 'isOpen'>;
  private readonly commandTimeoutMs: number;

  constructor(deps: ChatServiceDeps) {
    ({ bus: this.bus, queries: this.queries, cache: this.cache, search: this.search, idempotency: this.idempotency, operator: this.operator, writeGate: this.writeGate, commandTimeoutMs: this.commandTimeoutMs } = deps);
  }

  private async send<T>(command: Command, meta: RequestMeta): Promise<Created<T>> {
    if ('token' in command) checkToken(command.token);
    const base = meta.requestId ? { requestId: meta.requestId } : {};
    if (meta.idempotencyKey === undefined) {
      this.writeGate.check();
      return unwrap(await this.bus.request(command, { commandId: commandIdFor(), ...base })) as Created<T>;
    }
    const request: IdempotentRequest = { tenant: 'token' in command ? command.token : null, key: meta.idempotencyKey, operation: meta.operation, command };
    if (!this.writeGate.isOpen) {
      // a retry of a write that has its outcome is answered from the key's record, which is not in MySQL
      const recorded = await this.recordedOutcome(request);
      if (recorded) return unwrap(recorded) as Created<T>;
      this.writeGate.check(); // before the key is claimed: a refused attempt leaves nothing behind
    }
    return unwrap(await this.sendKeyed(request, command, base)) as Created<T>;
  }

  /** The outcome recorded under the request's Idempotency-Key, if any; 422 when the key belongs to another request. */
  private async recordedOutcome(request: IdempotentRequest): Promise<StoredOutcome | undefined> {
    const found = await this.idempotency.get(recordKeyOf(request));
    return found && claimedBy(found.record, fingerprintOf(request)).outcome;
  }

  /**
   * A write with an Idempotency-Key. The first attempt claims the key (bound to the request's fingerprint), sends
   * the command and records its outcome; a retry replays the outcome. A retry while an attempt is in flight joins
   * it (waits for its outcome, up to COMMAND_TIMEOUT_MS); a retry after an attempt that ended without an outcome
   * (503, or its process died) takes over and sends the same command again — the actor recognises it (command
   * id for creations, the first attempt's stream sequence for updates) and does not act twice.
   */
  private async sendKeyed(request: IdempotentRequest, command: Command, base: Pick<SendOptions, 'requestId'>): Promise<CommandReply | StoredOutcome> {
    const key = recordKeyOf(request);
    const fp = fingerprintOf(request);
    const deadline = Date.now() + this.commandTimeoutMs;
    let record: IdempotencyRecord = { fp, at: Date.now() };
    const claim = await this.idempotency.claim(key, record);
    if (!claim.claimed) {
      const taken = await this.joinOrTakeOver(key, fp, claim.existing, deadline);
      if ('outcome' in taken) return taken.outcome;
      record = taken.record;
    }

    let seqWritten: Promise<void> | undefined;
    const firstSeq = record.seq;
    const reply = await this.bus.request(command, {
      commandId: commandIdFor(request),
      idempotent: true,
      ...(firstSeq !== undefined ? { firstSeq } : {}),
      ...base,
      // remembered at once: should this attempt end without an outcome, a retry tells the actor where it started
      onPublished: (seq) => {
        if (firstSeq === undefined) {
          record = { ...record, seq };
          seqWritten = this.idempotency.put(key, record).catch(() => undefined);
        }
      },
    });
    await seqWritten;
    // an outcome the actor decided (a resource, or a 4xx such as an unknown chat) is final; a 5xx is not
    if (reply.ok || reply.status < 500) {
      const outcome: StoredOutcome = reply.ok ? { status: reply.status, resource: reply.resource } : { status: reply.status, error: reply.error };
      // if this fails the outcome is still answered; a retry sends the command again and the actor answers the same
      await this.idempotency.put(key, { ...record, outcome }).catch(() => undefined);
    }
    return reply;
  }

  private async joinOrTakeOver(key: string, fp: string, found: StoredRecord, deadline: number): Promise<{ outcome: StoredOutcome } | { record: IdempotencyRecord }> {
    let current: StoredRecord | undefined = found;
    for (let wait = 20; ; wait = Math.min(wait * 2, 200)) {
      if (current === undefined) {
        // expired meanwhile: start afresh
        const record: IdempotencyRecord = { fp, at: Date.now() };
        const claim = await this.idempotency.claim(key, record);
        if (claim.claimed) return { record };
        current = claim.existing;
      }
      const { revision } = current;
      const record = claimedBy(current.record, fp);
      if (record.outcome) return { outcome: record.outcome };
      if (Date.now() - record.at >= this.commandTimeoutMs) {
        // the attempt in charge gave up (or died) without an outcome: take over, one retry at a time
        const mine: IdempotencyRecord = { ...record, at: Date.now() };
        if (await this.idempotency.replace(key, mine, revision) !== undefined) return { record: mine };
      } else {
        // in flight: join it
        if (Date.now() + wait > deadline) throw UnavailableError.notConfirmed();
        await new Promise((r) => setTimeout(r, wait));
      }
      current = await this.idempotency.get(key);
    }
  }

  // ---- applications

  createApplication(name: string, meta: RequestMeta): Promise<Created<ApplicationResource>> {
    return this.send({ type: 'CreateApplication', name }, meta);
  }

  updateApplication(token: string, name: string, meta: RequestMeta): Promise<Created<ApplicationResource>> {
    return this.send({ type: 'UpdateApplication', token, name }, meta);
  }

  async getApplication(token: string): Promise<ApplicationResource> {
    checkToken(token);
    const key = this.cache.keys.application(token);
    const cached = await this.cache.get<ApplicationResource>(key);
    if (cached) return cached;
    const row = await this.queries.applicationByToken(token);
    if (!row) throw NotFoundError.application(token);
    const resource = presentApplication(row);
    void this.cache.fill(key, resource); // best effort (never throws): the answer does not wait for it
    return resource;
  }

  /** Throws 401/403 unless `credential` (the bearer token sent) is the operator's (ADMIN_API_KEY). */
  authorizeOperator(credential: string | undefined): void {
    this.operator.authorize(credential);
  }

  /** Every application: operators only. */
  async listApplications(credential: string | undefined, after: string | undefined, limit: number): Promise<Page<ApplicationResource>> {
    this.operator.authorize(credential);
    const afterPosition = after === undefined ? undefined : this.operator.openCursor(after);
    const rows = await this.queries.listApplications(afterPosition, limit + 1);
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    const positions = new Map<ApplicationResource, number>();
    const items = page.map((row) => {
      const item = presentApplication(row);
      positions.set(item, Number(row.id));
      return item;
    });
    const cursorOf = (item: ApplicationResource): string => this.operator.sealCursor(positions.get(item)!);
    return rows.length > limit && last ? { items, next: this.operator.sealCursor(Number(last.id)), cursorOf } : { items, cursorOf };
  }

  // ---- chats

  createChat(token: string, name: string | null, meta: RequestMeta): Promise<Created<ChatResource>> {
    return this.send({ type: 'CreateChat', token, name }, meta);
  }

  updateChat(token: string, chatNumber: number, name: string | null, meta: RequestMeta): Promise<Created<ChatResource>> {
    checkNumber(chatNumber, () => NotFoundError.chat(token, chatNumber));
    return this.send({ type: 'UpdateChat', token, chat_number: chatNumber, name }, meta);
  }

  async getChat(token: string, chatNumber: number): Promise<ChatResource> {
    checkToken(token);
    checkNumber(chatNumber, () => NotFoundError.chat(token, chatNumber));
    const key = this.cache.keys.chat(token, chatNumber);
    const cached = await this.cache.get<ChatResource>(key);
    if (cached) return cached;
    const row = await this.queries.chatByNumber(token, chatNumber);
    if (!row) throw NotFoundError.chat(token, chatNumber);
    this.chatIds.set(`${token}.${chatNumber}`, Number(row.id));
    const resource = presentChat(row);
    void this.cache.fill(key, resource); // best effort (never throws): the answer does not wait for it
    return resource;
  }

  async listChats(token: string, after: number, limit: number): Promise<Page<ChatResource>> {
    const applicationId = await this.applicationId(token);
    const rows = await this.queries.listChats(applicationId, after, limit + 1);
    const items = rows.slice(0, limit).map(presentChat);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, next: String(last.number) } : { items };
  }

  // ---- messages

  createMessage(token: string, chatNumber: number, body: string, meta: RequestMeta): Promise<Created<MessageResource>> {
    checkNumber(chatNumber, () => NotFoundError.chat(token, chatNumber));
    return this.send({ type: 'CreateMessage', token, chat_number: chatNumber, body }, meta);
  }

  updateMessage(token: string, chatNumber: number, number: number, body: string, meta: RequestMeta): Promise<Created<MessageResource>> {
    checkNumber(chatNumber, () => NotFoundError.chat(token, chatNumber));
    checkNumber(number, () => NotFoundError.message(token, chatNumber, number));
    return this.send({ type: 'UpdateMessage', token, chat_number: chatNumber, message_number: number, body }, meta);
  }

  async getMessage(token: string, chatNumber: number, number: number): Promise<MessageResource> {
    checkToken(token);
    checkNumber(chatNumber, () => NotFoundError.chat(token, chatNumber));
    checkNumber(number, () => NotFoundError.message(token, chatNumber, number));
    const key = this.cache.keys.message(token, chatNumber, number);
    const cached = await this.cache.get<MessageResource>(key);
    if (cached) return cached;
    const row = await this.queries.messageByNumber(await this.chatId(token, chatNumber), number); // 404 for a missing chat
    if (!row) throw NotFoundError.message(token, chatNumber, number);
    const resource = presentMessage(row);
    void this.cache.fill(key, resource); // best effort (never throws): the answer does not wait for it
    return resource;
  }

  async listMessages(token: string, chatNumber: number, after: number, limit: number): Promise<Page<MessageResource>> {
    const chatId = await this.chatId(token, chatNumber);
    const rows = await this.queries.listMessages(chatId, after, limit + 1);
    const items = rows.slice(0, limit).map(presentMessage);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, next: String(last.number) } : { items };
  }

  async searchMessages(token: string, chatNumber: number, query: string, after: number, limit: number): Promise<Page<MessageResource>> {
    if (query.length === 0) throw ValidationError.field('query', 'must not be empty');
    await this.chatId(token, chatNumber); // 404 for an unknown application or chat, even when search is down
    return this.search.search(token, chatNumber, query, after, limit);
  }

  // ---- immutable id lookups (cached in process)

  async applicationId(token: string): Promise<number> {
    checkToken(token);
    const known = this.applicationIds.get(token);
    if (known !== undefined) return known;
    const row = await this.queries.applicationByToken(token);
    if (!row) throw NotFoundError.application(token);
    this.applicationIds.set(token, Number(row.id));
    return Number(row.id);
  }

  async chatId(token: string, chatNumber: number): Promise<number> {
    checkToken(token);
    checkNumber(chatNumber, () => NotFoundError.chat(token, chatNumber));
    const key = `${token}.${chatNumber}`;
    const known = this.chatIds.get(key);
    if (known !== undefined) return known;
    const row = await this.queries.chatByNumber(token, chatNumber);
    if (!row) {
      await this.applicationId(token); // 404 for the application when it is the application that is missing
      throw NotFoundError.chat(token, chatNumber);
    }
    this.chatIds.set(key, Number(row.id));
    return Number(row.id);
  }
}

/** Tokens are base64url; anything else cannot exist (and must never reach a NATS subject, nor a MySQL comparison: a non-ASCII token there is a collation error). */
function checkToken(token: string): void {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(token)) throw NotFoundError.application(token);
}

/** Numbers that cannot exist (0, or above the column's range) are simply not found. */
function checkNumber(n: number, notFound: () => NotFoundError): void {
  if (!Number.isSafeInteger(n) || n < 1 || n > limits.numberMax) throw notFound();
}

/** A reply (or a replayed outcome) as the operation's result, or its error. */
function unwrap(reply: CommandReply | StoredOutcome): Created<unknown> {
  if ('ok' in reply) {
    if (reply.ok) return { status: reply.status, resource: reply.resource };
    throw fromBody(reply.status, reply.error);
  }
  if (reply.error) throw fromBody(reply.status, reply.error);
  return { status: reply.status as 200 | 201, resource: reply.resource };
}

/** The key's record, when the same request (its fingerprint) claimed it; a key reused for another request: 422. */
function claimedBy(record: IdempotencyRecord, fp: string): IdempotencyRecord {
  if (record.fp !== fp) throw new IdempotencyKeyReusedError();
  return record;
}
