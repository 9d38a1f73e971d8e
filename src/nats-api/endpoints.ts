import { limits } from '../domain/limits.js';
import type { ChatService, Page, RequestMeta } from '../gateway/chat-service.js';
import type { ApplicationResource } from '../protocol/resources.js';
import { fields } from '../protocol/schemas.js';

type Input = Record<string, unknown>;

export interface Endpoint {
  /** Subject tail after `<NAMESPACE>.api.v1.` (also the endpoint's documented name). */
  subject: string;
  schema: object;
  /** Needs the operator credential (`Authorization: Bearer <ADMIN_API_KEY>` header), checked before anything else. */
  operatorOnly?: true;
  run(service: ChatService, input: Input, meta: RequestMeta): Promise<unknown>;
}

const token = fields.token;
const number = fields.number;
const limit = { type: 'integer', minimum: 1, maximum: limits.listLimitMax };
const after = fields.afterNumber;

const obj = (required: string[], properties: Record<string, object>): object => ({ type: 'object', required, properties });
const str = (v: unknown): string => v as string;
const num = (v: unknown): number => v as number;
/** The leaf resource's number may be given as `number` too (`chat_number`/`message_number` win). */
const chatNo = (i: Input): number => num(i['chat_number'] ?? i['number']);
const messageNo = (i: Input): number => num(i['message_number'] ?? i['number']);

/**
 * A page travels as the plain array; the next cursor (if any) as the `Chat-Next-After` reply header. `cursor` is
 * the `after` that continues a page cut after `item` (when the page does not fit in the server's max_payload).
 */
export interface PagedResult { page: Page<unknown>; cursor: (item: unknown) => string }
const byNumber = (item: unknown): string => String((item as { number: number }).number);
const paged = async (p: Promise<Page<unknown>>, cursor: (item: unknown) => string = byNumber): Promise<PagedResult> => ({ page: await p, cursor });

export const endpoints: Endpoint[] = [
  {
    subject: 'applications.create',
    schema: obj(['name'], { name: fields.applicationName }),
    run: async (s, i, m) => (await s.createApplication(str(i['name']), m)).resource,
  },
  {
    subject: 'applications.list',
    operatorOnly: true,
    schema: obj([], { limit, after: fields.afterCursorQuery }),
    run: async (s, i, m) => {
      const page = await s.listApplications(m.credential, i['after'] as string | undefined, num(i['limit'] ?? limits.listLimitDefault));
      return { page, cursor: (item: unknown) => page.cursorOf!(item as ApplicationResource) };
    },
  },
  { subject: 'applications.get', schema: obj(['token'], { token }), run: (s, i) => s.getApplication(str(i['token'])) },
  {
    subject: 'applications.update',
    schema: obj(['token', 'name'], { token, name: fields.applicationName }),
    run: async (s, i, m) => (await s.updateApplication(str(i['token']), str(i['name']), m)).resource,
  },
  {
    subject: 'chats.create',
    schema: obj(['token'], { token, name: fields.chatName }),
    run: async (s, i, m) => (await s.createChat(str(i['token']), (i['name'] as string | null | undefined) ?? null, m)).resource,
  },
  {
    subject: 'chats.list',
    schema: obj(['token'], { token, limit, after }),
    run: (s, i) => paged(s.listChats(str(i['token']), num(i['after'] ?? 0), num(i['limit'] ?? limits.listLimitDefault))),
  },
  {
    subject: 'chats.get',
    schema: { ...obj(['token'], { token, chat_number: number, number }), anyOf: [{ required: ['chat_number'] }, { required: ['number'] }] },
    run: (s, i) => s.getChat(str(i['token']), chatNo(i)),
  },
  {
    subject: 'chats.update',
    schema: { ...obj(['token', 'name'], { token, chat_number: number, number, name: fields.chatName }), anyOf: [{ required: ['chat_number'] }, { required: ['number'] }] },
    run: async (s, i, m) => (await s.updateChat(str(i['token']), chatNo(i), i['name'] as string | null, m)).resource,
  },
  {
    subject: 'messages.create',
    schema: obj(['token', 'chat_number', 'body'], { token, chat_number: number, body: fields.messageBody }),
    run: async (s, i, m) => (await s.createMessage(str(i['token']), num(i['chat_number']), str(i['body']), m)).resource,
  },
  {
    subject: 'messages.list',
    schema: obj(['token', 'chat_number'], { token, chat_number: number, limit, after }),
    run: (s, i) => paged(s.listMessages(str(i['token']), num(i['chat_number']), num(i['after'] ?? 0), num(i['limit'] ?? limits.listLimitDefault))),
  },
  {
    subject: 'messages.get',
    schema: { ...obj(['token', 'chat_number'], { token, chat_number: number, message_number: number, number }), anyOf: [{ required: ['message_number'] }, { required: ['number'] }] },
    run: (s, i) => s.getMessage(str(i['token']), num(i['chat_number']), messageNo(i)),
  },
  {
    subject: 'messages.update',
    schema: {
      ...obj(['token', 'chat_number', 'body'], { token, chat_number: number, message_number: number, number, body: fields.messageBody }),
      anyOf: [{ required: ['message_number'] }, { required: ['number'] }],
    },
    run: async (s, i, m) => (await s.updateMessage(str(i['token']), num(i['chat_number']), messageNo(i), str(i['body']), m)).resource,
  },
  {
    subject: 'messages.search',
    schema: obj(['token', 'chat_number', 'query'], { token, chat_number: number, query: fields.searchQuery, limit: { ...limit, maximum: limits.searchLimitMax }, after }),
    run: (s, i) => paged(s.searchMessages(str(i['token']), num(i['chat_number']), str(i['query']), num(i['after'] ?? 0), num(i['limit'] ?? limits.searchLimitDefault))),
  },
];
