import { NotFoundError, ValidationError } from '../domain/errors.js';
import { commandIdFor } from '../domain/idempotency.js';
import { limits } from '../domain/limits.js';
import type { CommandBus } from '../messaging/command-bus.js';
import type { Command } from '../protocol/commands.js';
import type { ApplicationResource, ChatResource, MessageResource } from '../protocol/resources.js';
import type { MessageSearch } from '../search/message-search.js';
import type { ResourceCache } from '../storage/cache.js';
import { presentApplication, presentChat, presentMessage } from '../storage/presenters.js';
import type { Queries } from '../storage/queries.js';
import { Lru } from './lru.js';

/** Who asks, for idempotency and log correlation. `scope` is the method and path (or NATS subject). */
export interface RequestMeta {
  scope: string;
  idempotencyKey?: string;
  requestId?: string;
}

export interface Page<T> {
  items: T[];
  /** Cursor of the next page (the `after` to pass), when there is one. */
  next?: string;
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
  private readonly applicationIds = new Lru<string, number>(50_000);
  private readonly chatIds = new Lru<string, number>(100_000);

  constructor(
    private readonly bus: CommandBus,
    private readonly queries: Queries,
    private readonly cache: ResourceCache,
    private readonly search: MessageSearch,
  ) {}

  private send<T>(command: Command, meta: RequestMeta): Promise<Created<T>> {
    if ('token' in command) checkToken(command.token);
    return this.bus.send(command, {
      commandId: commandIdFor(meta.scope, meta.idempotencyKey),
      idempotent: meta.idempotencyKey !== undefined,
      ...(meta.requestId ? { requestId: meta.requestId } : {}),
    }) as Promise<Created<T>>;
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
    await this.cache.fill(key, resource);
    return resource;
  }

  async listApplications(after: string | undefined, limit: number): Promise<Page<ApplicationResource>> {
    const afterToken = after === undefined ? undefined : decodeCursor(after);
    const rows = await this.queries.listApplications(afterToken, limit + 1);
    const items = rows.slice(0, limit).map(presentApplication);
    const last = items[items.length - 1];
    return rows.length > limit && last ? { items, next: encodeCursor(last.token) } : { items };
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
    await this.cache.fill(key, resource);
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
    const row = await this.queries.messageByNumber(token, chatNumber, number);
    if (!row) {
      await this.chatId(token, chatNumber); // 404 for the chat when it is the chat that is missing
      throw NotFoundError.message(token, chatNumber, number);
    }
    const resource = presentMessage(row);
    await this.cache.fill(key, resource);
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

export function encodeCursor(token: string): string {
  return Buffer.from(`a:${token}`).toString('base64url');
}

export function decodeCursor(cursor: string): string {
  const decoded = /^[A-Za-z0-9_-]{1,128}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
  if (!/^a:[A-Za-z0-9_-]{1,64}$/.test(decoded)) throw ValidationError.field('after', 'is not a cursor this service issued');
  return decoded.slice(2);
}
