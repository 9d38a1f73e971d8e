import { newApplicationToken } from '../domain/tokens.js';
import type { CreateApplication } from '../protocol/commands.js';
import { Application } from '../storage/entities/index.js';
import { CreatingActor } from './actor.js';
import { textBytes } from './committer.js';
import { commitThenComplete, type ActorContext, type Outcome } from './context.js';
import type { Delivery } from './delivery.js';
import { applicationSnapshot } from './snapshots.js';

/**
 * Creates applications. Keyed by command id (not by token, which it mints), so every attempt of one
 * creation — redeliveries and Idempotency-Key retries — meets the same actor and yields the same token.
 */
export class RegistrarActor extends CreatingActor {
  constructor(private readonly ctx: ActorContext) {
    super();
  }

  handle(delivery: Delivery, command: CreateApplication): Promise<void> {
    const ctx = this.ctx;
    return this.createOnce(
      ctx,
      delivery,
      async () => {
        const row = await ctx.queries.applicationByCommandId(delivery.envelope.id);
        return row && this.outcome(applicationSnapshot(row));
      },
      () => {
        const now = new Date();
        return commitThenComplete(
          ctx,
          this,
          delivery,
          {
            bytes: textBytes(command.name ?? ''),
            apply: (em) =>
              em.create(Application, {
                token: newApplicationToken(), name: command.name, chatsCount: 0,
                commandId: delivery.envelope.id, version: ctx.versionOf(delivery.seq), createdAt: now, updatedAt: now,
              }),
          },
          (entity) => this.outcome(applicationSnapshot(entity)),
        );
      },
    );
  }

  private outcome(snapshot: ReturnType<typeof applicationSnapshot>): Outcome {
    return {
      reply: { ok: true, status: 201, resource: snapshot.resource },
      events: [{ type: 'ApplicationCreated', ...snapshot.event }],
      cache: [[this.ctx.cache.keys.application(snapshot.resource.token), snapshot.resource]],
    };
  }
}
