import type { ConsumerConfig, ConsumerUpdateConfig, JetStreamManager, StreamConfig } from 'nats';
import { isConsumerExists, isConsumerNotFound, isStreamNameInUse, isStreamNotFound } from './jetstream-errors.js';

/**
 * The one way streams and durable consumers are set up: every process calls these on start, so they create
 * what is missing, bring what exists up to the wanted settings, and tolerate another process doing the same
 * at the same moment. Failures are told apart by the server's error codes (`jetstream-errors.ts`), never by text.
 */

/** Creates the stream, or updates it to `config`. */
export async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.info(config.name);
  } catch (err) {
    if (!isStreamNotFound(err)) throw err;
    try {
      await jsm.streams.add(config);
      return;
    } catch (addErr) {
      if (!isStreamNameInUse(addErr)) throw addErr; // another process created it meanwhile: update it below
    }
  }
  await jsm.streams.update(config.name, config);
}

/** The settings of a durable consumer that can change after its creation (applied to an existing one). */
const UPDATABLE = ['ack_wait', 'max_ack_pending', 'max_deliver'] as const satisfies readonly (keyof ConsumerUpdateConfig)[];

/**
 * Creates the durable consumer, or, when it exists, applies the updatable settings (`ack_wait`,
 * `max_ack_pending`, `max_deliver`) that differ from `config`. The others (filter, policies) are fixed at
 * creation.
 */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, config: Partial<ConsumerConfig> & { durable_name: string }): Promise<void> {
  let current: Partial<ConsumerConfig>;
  try {
    current = (await jsm.consumers.info(stream, config.durable_name)).config;
  } catch (err) {
    if (!isConsumerNotFound(err)) throw err;
    try {
      await jsm.consumers.add(stream, config);
      return;
    } catch (addErr) {
      if (!isConsumerExists(addErr)) throw addErr; // another process created it meanwhile
      current = (await jsm.consumers.info(stream, config.durable_name)).config;
    }
  }
  const changes: Partial<ConsumerUpdateConfig> = {};
  for (const key of UPDATABLE) if (config[key] !== undefined && config[key] !== current[key]) changes[key] = config[key];
  if (Object.keys(changes).length > 0) await jsm.consumers.update(stream, config.durable_name, changes);
}
