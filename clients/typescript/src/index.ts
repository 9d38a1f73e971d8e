/** The chat service's HTTP API, typed (docs/API.md in the service's repository). */
export { ChatApiError, ChatClient, nextLink } from './client.js';
export type { Application, Chat, ChatClientOptions, ErrorBody, LiveEvent, Message, PageOptions, RetryInfo, WatchOptions, WriteOptions } from './client.js';
export type { components, paths } from './schema.js';
