/**
 * Commands: what the API asks the actors to do. Imperative names, discriminated on `type`.
 * Every command travels in an envelope over the commands stream of its partition.
 */
/** The actor generates the token, so a retried creation (same command id) cannot mint a second one. */
export interface CreateApplication { type: 'CreateApplication'; name: string }
export interface UpdateApplication { type: 'UpdateApplication'; token: string; name: string }
export interface CreateChat { type: 'CreateChat'; token: string; name: string | null }
export interface UpdateChat { type: 'UpdateChat'; token: string; chat_number: number; name: string | null }
export interface CreateMessage { type: 'CreateMessage'; token: string; chat_number: number; body: string }
export interface UpdateMessage { type: 'UpdateMessage'; token: string; chat_number: number; message_number: number; body: string }

export type Command = CreateApplication | UpdateApplication | CreateChat | UpdateChat | CreateMessage | UpdateMessage;
export type CommandType = Command['type'];

export interface CommandEnvelope {
  /** Command id: derived from the Idempotency-Key when there is one, random otherwise. Stored with created rows. */
  id: string;
  /** True when `id` comes from an Idempotency-Key: the actor must look for an earlier attempt. */
  idempotent?: boolean;
  /**
   * Commands-stream sequence of the first attempt of the same keyed request, on a retry whose first attempt's
   * outcome is unknown: an update whose target was written at or after it is not applied again.
   */
  first_seq?: number;
  /** Core NATS subject the actor answers on once the command is committed (absent: nobody waits). */
  reply_to?: string;
  /** Request id of the originating HTTP/NATS request, for log correlation. */
  request_id?: string;
  command: Command;
}

export interface RegistrarAddress { kind: 'registrar'; commandId: string }
export interface ApplicationAddress { kind: 'application'; token: string }
export interface ChatAddress { kind: 'chat'; token: string; chatNumber: number }
/** The actor (and so the partition) that owns a command, by routing key. */
export type ActorAddress = RegistrarAddress | ApplicationAddress | ChatAddress;

/** A command with the address of the actor that owns it; the kind says which actor and which commands it takes. */
export type Routed =
  | { kind: 'registrar'; address: RegistrarAddress; command: CreateApplication }
  | { kind: 'application'; address: ApplicationAddress; command: UpdateApplication | CreateChat }
  | { kind: 'chat'; address: ChatAddress; command: UpdateChat | CreateMessage | UpdateMessage };

/** Where a command goes. Application creation is keyed by its command id (any partition may mint a token). */
export function routeOf(envelope: Pick<CommandEnvelope, 'id' | 'command'>): Routed {
  const command = envelope.command;
  switch (command.type) {
    case 'CreateApplication':
      return { kind: 'registrar', address: { kind: 'registrar', commandId: envelope.id }, command };
    case 'UpdateApplication':
    case 'CreateChat':
      return { kind: 'application', address: { kind: 'application', token: command.token }, command };
    case 'UpdateChat':
    case 'CreateMessage':
    case 'UpdateMessage':
      return { kind: 'chat', address: { kind: 'chat', token: command.token, chatNumber: command.chat_number }, command };
    default: {
      const never: never = command;
      throw new Error(`unknown command ${(never as { type: string }).type}`);
    }
  }
}

/** The actor (and so the partition) that owns a command. */
export function actorOf(envelope: Pick<CommandEnvelope, 'id' | 'command'>): ActorAddress {
  return routeOf(envelope).address;
}

/** Structural check of a decoded envelope (commands cross process boundaries and may come from old versions). */
export function isCommandEnvelope(value: unknown): value is CommandEnvelope {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const c = v['command'] as Record<string, unknown> | undefined;
  if (typeof v['id'] !== 'string' || typeof c !== 'object' || c === null) return false;
  if (c['type'] !== 'CreateApplication' && typeof c['token'] !== 'string') return false;
  const isInt = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) > 0;
  switch (c['type']) {
    case 'CreateApplication':
    case 'UpdateApplication':
      return typeof c['name'] === 'string';
    case 'CreateChat':
      return c['name'] === null || typeof c['name'] === 'string';
    case 'UpdateChat':
      return isInt(c['chat_number']) && (c['name'] === null || typeof c['name'] === 'string');
    case 'CreateMessage':
      return isInt(c['chat_number']) && typeof c['body'] === 'string';
    case 'UpdateMessage':
      return isInt(c['chat_number']) && isInt(c['message_number']) && typeof c['body'] === 'string';
    default:
      return false;
  }
}
