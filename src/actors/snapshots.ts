import type { ApplicationEventData, ChatEventData, MessageEventData } from '../protocol/events.js';
import type { ApplicationResource, ChatResource, MessageResource } from '../protocol/resources.js';
import { presentApplication, presentChat, presentMessage, type ApplicationRow, type ChatRow, type MessageRow } from '../storage/presenters.js';

/** A written row seen both as the API resource and as event data. Built from entities (fresh writes) or the rows the read queries return (replays): both are `Row`s. */
export interface Snapshot<R, E> {
  resource: R;
  event: E;
}

export function applicationSnapshot(row: ApplicationRow): Snapshot<ApplicationResource, ApplicationEventData> {
  const resource = presentApplication(row);
  return { resource, event: { token: resource.token, name: resource.name, created_at: resource.created_at, updated_at: resource.updated_at, version: Number(row.version) } };
}

export function chatSnapshot(token: string, row: ChatRow): Snapshot<ChatResource, ChatEventData> {
  const resource = presentChat(row);
  return { resource, event: { token, number: resource.number, name: resource.name, created_at: resource.created_at, updated_at: resource.updated_at, version: Number(row.version) } };
}

export function messageSnapshot(token: string, chatNumber: number, row: MessageRow): Snapshot<MessageResource, MessageEventData> {
  const resource = presentMessage(row);
  return {
    resource,
    event: { token, chat_number: chatNumber, number: resource.number, body: resource.body, created_at: resource.created_at, updated_at: resource.updated_at, version: Number(row.version) },
  };
}
