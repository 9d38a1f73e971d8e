import { NotFoundError } from '../domain/errors.js';
import type { ApplicationAddress, CreateChat, UpdateApplication } from '../protocol/commands.js';
import { Application, Chat } from '../storage/entities/index.js';
import type { ApplicationState } from '../storage/queries.js';
import { CreatingActor } from './actor.js';
import { textBytes } from './committer.js';
import { commitThenComplete, complete, refuse, type ActorContext, type Outcome } from './context.js';
import type { Delivery } from './delivery.js';
import { applicationSnapshot, chatSnapshot } from './snapshots.js';

type State = ApplicationState;

/**
 * The single writer of one application: hands out its chat numbers and applies its renames.
 * State is loaded once on activation (the application's id and its highest chat number).
 */
export class ApplicationActor extends CreatingActor {
  private state: State | undefined;

  readonly token: string;

  constructor(
    address: ApplicationAddress,
    private readonly ctx: ActorContext,
  ) {
    super();
    this.token = address.token;
  }

  private async activate(): Promise<State | undefined> {
    // not cached when missing: the application may be created later
    this.state ??= await this.ctx.loader.application(this.token);
    return this.state;
  }

  async handle(delivery: Delivery, command: CreateChat | UpdateApplication): Promise<void> {
    const state = await this.activate();
    if (!state) return refuse(delivery, { ok: false, status: 404, error: NotFoundError.application(this.token).toBody() });
    switch (command.type) {
      case 'CreateChat':
        return this.createChat(delivery, command, state);
      case 'UpdateApplication':
        return this.rename(delivery, command, state);
      default: {
        const never: never = command;
        throw new Error(`unexpected command ${(never as { type: string }).type}`);
      }
    }
  }

  private createChat(delivery: Delivery, command: CreateChat, state: State): Promise<void> {
    const ctx = this.ctx;
    return this.createOnce(
      ctx,
      delivery,
      async () => {
        const row = await ctx.queries.chatByCommandId(delivery.envelope.id);
        return row && this.chatCreated(chatSnapshot(this.token, row));
      },
      () => {
        const number = ++state.lastChat;
        const now = new Date();
        return commitThenComplete(
          ctx,
          this,
          delivery,
          {
            bytes: textBytes(command.name ?? ''),
            apply: (em) =>
              em.create(Chat, {
                application: state.applicationId, number, name: command.name ?? null,
                messagesCount: 0, commandId: delivery.envelope.id, version: ctx.versionOf(delivery.seq), createdAt: now, updatedAt: now,
              }),
          },
          (entity) => this.chatCreated(chatSnapshot(this.token, entity)),
        );
      },
    );
  }

  private chatCreated(snapshot: ReturnType<typeof chatSnapshot>): Outcome {
    return {
      reply: { ok: true, status: 201, resource: snapshot.resource },
      events: [{ type: 'ChatCreated', ...snapshot.event }],
      cache: [[this.ctx.cache.keys.chat(this.token, snapshot.resource.number), snapshot.resource]],
    };
  }

  private async rename(delivery: Delivery, command: UpdateApplication, state: State): Promise<void> {
    const ctx = this.ctx;
    if (delivery.mayBeDuplicate) {
      const row = await ctx.queries.applicationByToken(this.token);
      if (row && Number(row.version) >= ctx.versionOf(delivery.appliedSinceSeq)) return complete(ctx, delivery, this.renamed(applicationSnapshot(row)));
    }
    const now = new Date();
    void commitThenComplete(
      ctx,
      this,
      delivery,
      {
        bytes: textBytes(command.name ?? ''),
        apply: async (em) => {
          const entity = await em.findOneOrFail(Application, state.applicationId);
          entity.name = command.name;
          entity.updatedAt = now;
          entity.version = ctx.versionOf(delivery.seq);
          return entity;
        },
      },
      (entity) => this.renamed(applicationSnapshot(entity)),
    );
  }

  private renamed(snapshot: ReturnType<typeof applicationSnapshot>): Outcome {
    return {
      reply: { ok: true, status: 200, resource: snapshot.resource },
      events: [{ type: 'ApplicationUpdated', ...snapshot.event }],
      cache: [[this.ctx.cache.keys.application(this.token), snapshot.resource]],
    };
  }
}
