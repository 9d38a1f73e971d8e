import { NotFoundError } from '../domain/errors.js';
import type { ChatAddress, CreateMessage, UpdateChat, UpdateMessage } from '../protocol/commands.js';
import { Chat, Message } from '../storage/entities/index.js';
import type { ChatState } from '../storage/queries.js';
import { CreatingActor } from './actor.js';
import { textBytes } from './committer.js';
import { commitThenComplete, complete, refuse, type ActorContext, type Outcome } from './context.js';
import type { Delivery } from './delivery.js';
import { chatSnapshot, messageSnapshot } from './snapshots.js';

type State = ChatState;

/**
 * The single writer of one chat: hands out its message numbers, applies message edits and chat renames.
 * Message numbers are gapless, so "message n exists" is simply n <= lastMessage.
 */
export class ChatActor extends CreatingActor {
  private state: State | undefined;

  readonly token: string;
  readonly chatNumber: number;

  constructor(
    address: ChatAddress,
    private readonly ctx: ActorContext,
  ) {
    super();
    this.token = address.token;
    this.chatNumber = address.chatNumber;
  }

  private async activate(): Promise<State | undefined> {
    // not cached when missing: the chat may be created later
    this.state ??= await this.ctx.loader.chat(this.token, this.chatNumber);
    return this.state;
  }

  async handle(delivery: Delivery, command: CreateMessage | UpdateMessage | UpdateChat): Promise<void> {
    const state = await this.activate();
    if (!state) return refuse(delivery, { ok: false, status: 404, error: NotFoundError.chat(this.token, this.chatNumber).toBody() });
    switch (command.type) {
      case 'CreateMessage':
        return this.createMessage(delivery, command, state);
      case 'UpdateMessage':
        return this.editMessage(delivery, command, state);
      case 'UpdateChat':
        return this.rename(delivery, command, state);
      default: {
        const never: never = command;
        throw new Error(`unexpected command ${(never as { type: string }).type}`);
      }
    }
  }

  private createMessage(delivery: Delivery, command: CreateMessage, state: State): Promise<void> {
    const ctx = this.ctx;
    return this.createOnce(
      ctx,
      delivery,
      async () => {
        const row = await ctx.queries.messageByCommandId(delivery.envelope.id);
        return row && this.messageWritten(messageSnapshot(this.token, this.chatNumber, row), 'MessageCreated');
      },
      () => {
        const number = ++state.lastMessage;
        const now = new Date();
        return commitThenComplete(
          ctx,
          this,
          delivery,
          {
            bytes: textBytes(command.body),
            apply: (em) =>
              em.create(Message, {
                chat: state.chatId, number, body: command.body,
                commandId: delivery.envelope.id, version: ctx.versionOf(delivery.seq), createdAt: now, updatedAt: now,
              }),
          },
          (entity) => this.messageWritten(messageSnapshot(this.token, this.chatNumber, entity), 'MessageCreated'),
        );
      },
    );
  }

  private async editMessage(delivery: Delivery, command: UpdateMessage, state: State): Promise<void> {
    const ctx = this.ctx;
    const number = command.message_number;
    if (number > state.lastMessage) {
      return refuse(delivery, { ok: false, status: 404, error: NotFoundError.message(this.token, this.chatNumber, number).toBody() });
    }
    if (delivery.mayBeDuplicate) {
      const row = await ctx.queries.messageByNumber(state.chatId, number);
      if (row && Number(row.version) >= ctx.versionOf(delivery.appliedSinceSeq)) {
        return complete(ctx, delivery, this.messageWritten(messageSnapshot(this.token, this.chatNumber, row), 'MessageUpdated'));
      }
    }
    const now = new Date();
    void commitThenComplete(
      ctx,
      this,
      delivery,
      {
        bytes: textBytes(command.body),
        apply: async (em) => {
          await em.flush(); // the message may have been created earlier in this same transaction
          const entity = await em.findOneOrFail(Message, { chat: state.chatId, number });
          entity.body = command.body;
          entity.updatedAt = now;
          entity.version = ctx.versionOf(delivery.seq);
          return entity;
        },
      },
      (entity) => this.messageWritten(messageSnapshot(this.token, this.chatNumber, entity), 'MessageUpdated'),
    );
  }

  private messageWritten(snapshot: ReturnType<typeof messageSnapshot>, type: 'MessageCreated' | 'MessageUpdated'): Outcome {
    return {
      reply: { ok: true, status: type === 'MessageCreated' ? 201 : 200, resource: snapshot.resource },
      events: [{ type, ...snapshot.event }],
      cache: [[this.ctx.cache.keys.message(this.token, this.chatNumber, snapshot.resource.number), snapshot.resource]],
    };
  }

  private async rename(delivery: Delivery, command: UpdateChat, state: State): Promise<void> {
    const ctx = this.ctx;
    if (delivery.mayBeDuplicate) {
      const row = await ctx.queries.chatByNumber(this.token, this.chatNumber);
      if (row && Number(row.version) >= ctx.versionOf(delivery.appliedSinceSeq)) return complete(ctx, delivery, this.renamed(chatSnapshot(this.token, row)));
    }
    const now = new Date();
    void commitThenComplete(
      ctx,
      this,
      delivery,
      {
        bytes: textBytes(command.name ?? ''),
        apply: async (em) => {
          const entity = await em.findOneOrFail(Chat, state.chatId);
          entity.name = command.name;
          entity.updatedAt = now;
          entity.version = ctx.versionOf(delivery.seq);
          return entity;
        },
      },
      (entity) => this.renamed(chatSnapshot(this.token, entity)),
    );
  }

  private renamed(snapshot: ReturnType<typeof chatSnapshot>): Outcome {
    return {
      reply: { ok: true, status: 200, resource: snapshot.resource },
      events: [{ type: 'ChatUpdated', ...snapshot.event }],
      cache: [[this.ctx.cache.keys.chat(this.token, this.chatNumber), snapshot.resource]],
    };
  }
}
