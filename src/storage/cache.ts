import { Redis } from 'ioredis';
import type { Logger } from '../log.js';

/**
 * Read-through cache of resources in Redis. Best effort by design: every failure degrades to a miss and
 * the caller reads MySQL. Consistency rule: the single writer (an actor, after its commit) overwrites with
 * `put`; readers only fill a missing key with `fill` (SET NX), so a slow reader can never put back a value
 * older than what the writer stored.
 */
export class ResourceCache {
  private lastWarn = 0;

  constructor(
    private readonly redis: Redis,
    private readonly namespace: string,
    private readonly ttlSeconds: number,
    private readonly log: Logger,
  ) {}

  static connect(url: string, namespace: string, ttlSeconds: number, log: Logger): ResourceCache {
    const redis = new Redis(url, {
      lazyConnect: false,
      enableAutoPipelining: true, // commands of one tick go out in one write
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 250,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    });
    redis.on('error', () => undefined); // state changes are logged through `warn` on use
    return new ResourceCache(redis, namespace, ttlSeconds, log);
  }

  readonly keys = {
    application: (token: string): string => `${this.namespace}:app:${token}`,
    chat: (token: string, chat: number): string => `${this.namespace}:chat:${token}:${chat}`,
    message: (token: string, chat: number, message: number): string => `${this.namespace}:msg:${token}:${chat}:${message}`,
  };

  /** The connection, for other best-effort users of the same Redis (the HTTP rate limits). */
  get client(): Redis {
    return this.redis;
  }

  get ready(): boolean {
    return this.redis.status === 'ready';
  }

  async get<T>(key: string): Promise<T | undefined> {
    if (!this.ready) return undefined;
    try {
      const raw = await this.redis.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    } catch (err) {
      this.warn(err);
      return undefined;
    }
  }

  /** Reader side: store only if nothing is cached. */
  async fill(key: string, value: unknown): Promise<void> {
    if (!this.ready) return;
    try {
      await this.redis.set(key, JSON.stringify(value), 'EX', this.ttlSeconds, 'NX');
    } catch (err) {
      this.warn(err);
    }
  }

  /** Writer side: overwrite with the committed state (pipelined). On failure, try to drop the keys. */
  async put(entries: ReadonlyArray<readonly [string, unknown]>): Promise<void> {
    if (entries.length === 0 || this.redis.status !== 'ready') return;
    try {
      const pipeline = this.redis.pipeline();
      for (const [key, value] of entries) pipeline.set(key, JSON.stringify(value), 'EX', this.ttlSeconds);
      await pipeline.exec();
    } catch (err) {
      this.warn(err);
      await this.redis.del(...entries.map(([key]) => key)).catch(() => undefined);
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.redis.ping()) === 'PONG';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private warn(err: unknown): void {
    const now = Date.now();
    if (now - this.lastWarn > 10_000) {
      this.lastWarn = now;
      this.log.warn({ err }, 'redis cache unavailable; reading from MySQL');
    }
  }
}
