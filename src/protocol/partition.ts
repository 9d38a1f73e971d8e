import type { ActorAddress } from './commands.js';

/**
 * Stable partitioning of routing keys: FNV-1a (32 bit) modulo the partition count, the same function
 * nats-server's subject mapping `partition()` uses, so routing can later move into the server unchanged.
 */
function fnv1a(input: string): number {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(input, 'utf8');
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

export function partitionOf(routingKey: string, partitions: number): number {
  return fnv1a(routingKey) % partitions;
}

/**
 * Routing keys, which are also the subject tail: the application (chat numbering, application writes), the chat
 * (message numbering, chat writes), and for application creation the command id.
 */
export const routingKey = {
  registrar: (commandId: string): string => `new.${commandId}`,
  application: (token: string): string => `app.${token}`,
  chat: (token: string, chatNumber: number): string => `chat.${token}.${chatNumber}`,
};

export function routingKeyOf(address: ActorAddress): string {
  switch (address.kind) {
    case 'registrar':
      return routingKey.registrar(address.commandId);
    case 'application':
      return routingKey.application(address.token);
    case 'chat':
      return routingKey.chat(address.token, address.chatNumber);
    default: {
      const never: never = address;
      throw new Error(`unknown actor kind ${(never as { kind: string }).kind}`);
    }
  }
}
