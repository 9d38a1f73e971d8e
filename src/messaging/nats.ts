import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from 'nats';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';

export type NatsAuth = Pick<ConnectionOptions, 'user' | 'pass' | 'token' | 'authenticator'>;

/**
 * How the service authenticates to NATS (config.ts allows one way at most): user + password, a token, an NKEY
 * seed file or a credentials file (JWT + seed). Files are read at every (re)connection, so they can be rotated.
 */
export function natsAuthOf(config: Pick<Config, 'natsUser' | 'natsPassword' | 'natsToken' | 'natsNkeySeedFile' | 'natsCredsFile'>): NatsAuth {
  if (config.natsUser !== '') return { user: config.natsUser, pass: config.natsPassword };
  if (config.natsToken !== '') return { token: config.natsToken };
  const seedFile = config.natsNkeySeedFile;
  if (seedFile !== '') return { authenticator: nkeyAuthenticator(() => new TextEncoder().encode(readFileSync(seedFile, 'utf8').trim())) };
  const credsFile = config.natsCredsFile;
  if (credsFile !== '') return { authenticator: credsAuthenticator(() => readFileSync(credsFile)) };
  return {};
}

/** Connects to NATS (comma list of servers), reconnecting for ever; connection state changes are logged. */
export async function connectNats(url: string, name: string, log: Logger, auth: NatsAuth = {}): Promise<NatsConnection> {
  const nc = await connect({
    servers: url.split(',').map((s) => s.trim()).filter(Boolean),
    name,
    ...auth,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
    noAsyncTraces: true, // no Error (and stack) captured per request: a measurable share of CPU at load
  });
  void (async () => {
    for await (const status of nc.status()) {
      if (status.type === 'pingTimer') continue;
      log.info({ nats: status.type, data: typeof status.data === 'string' ? status.data : undefined }, 'nats status');
    }
  })();
  return nc;
}

export const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson(data: Uint8Array): unknown {
  return JSON.parse(decoder.decode(data));
}

/** Drains the connection (flushes what was published, lets subscriptions finish), bounded; then closes it. */
export async function closeNats(nc: NatsConnection, timeoutMs = 5000): Promise<void> {
  if (nc.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    nc.drain().catch(() => undefined),
    new Promise((resolve) => (timer = setTimeout(resolve, timeoutMs))),
  ]);
  clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}
