import type { MessageResource } from '../protocol/resources.js';
import { presentMessage, type MessageRow } from '../storage/presenters.js';
import type { Queries } from '../storage/queries.js';

/** A message as the live streams carry it: the API's resource, and the version of the write that made it. */
export interface VersionedMessage {
  message: MessageResource;
  version: number;
}

/**
 * The reads of the live streams (their SQL is in storage/queries.ts, over the (chat_id, number) unique key): the
 * highest number of a chat (a feed's starting point), a range of numbers (replay, gap fill) and the messages up
 * to a number edited after a version (the replay of edits on resume: a range scan of the chat's messages up to
 * that number).
 */
export class LiveQueries {
  constructor(private readonly queries: Queries) {}

  lastNumber(chatId: number): Promise<number> {
    return this.queries.lastMessageNumber(chatId);
  }

  /** Messages after+1 … after+limit (numbers are gapless: a range of the unique key). */
  async created(chatId: number, after: number, limit: number): Promise<VersionedMessage[]> {
    return (await this.queries.listMessages(chatId, after, limit)).map(versioned);
  }

  /** Messages numbered up to `upTo` whose version is above `afterVersion`, by version. */
  async editedSince(chatId: number, upTo: number, afterVersion: number, limit: number): Promise<VersionedMessage[]> {
    return (await this.queries.messagesEditedSince(chatId, upTo, afterVersion, limit)).map(versioned);
  }
}

function versioned(row: MessageRow): VersionedMessage {
  return { message: presentMessage(row), version: Number(row.version) };
}
