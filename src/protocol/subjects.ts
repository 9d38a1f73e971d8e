/** Every NATS name the service uses is built here, prefixed by NAMESPACE. */
export function names(namespace: string) {
  const upper = namespace.toUpperCase().replace(/-/g, '_');
  return {
    commandsStream: `${upper}_COMMANDS`,
    eventsStream: `${upper}_EVENTS`,
    ownershipBucket: `${namespace}_ownership`,
    /** Idempotency-Keys and their outcomes (api side). */
    idempotencyBucket: `${namespace}_idempotency`,
    /** KV bucket without expiry: settings fixed for the life of the deployment (PARTITIONS). */
    topologyBucket: `${namespace}_topology`,
    /** `<ns>.cmd.<partition>.app.<token>` or `<ns>.cmd.<partition>.chat.<token>.<number>`: partition index, then the routing key. */
    commandSubject: (partition: number, key: string): string => `${namespace}.cmd.${partition}.${key}`,
    commandFilter: (partition: number): string => `${namespace}.cmd.${partition}.>`,
    commandsAll: `${namespace}.cmd.>`,
    commandConsumer: (partition: number): string => `cmd-p${partition}`,
    eventSubject: (kind: string, partition: number): string => `${namespace}.evt.${kind}.${partition}`,
    eventsAll: `${namespace}.evt.>`,
    eventFilter: (kind: string): string => `${namespace}.evt.${kind}.>`,
    /** Core NATS (not stored): the message events of one chat, `{"events":[…]}`, published after the EVENTS stream stored them (docs/API.md, "Live updates"). */
    liveChatSubject: (token: string, chatNumber: number): string => `${namespace}.live.chat.${token}.${chatNumber}`,
    liveAll: `${namespace}.live.>`,
    replyPrefix: (instance: string): string => `${namespace}.reply.${instance}`,
    apiPrefix: `${namespace}.api.v1`,
    leaseKey: (partition: number): string => `lease.${partition}`,
    memberKey: (member: string): string => `member.${member}`,
  };
}

export type Names = ReturnType<typeof names>;
