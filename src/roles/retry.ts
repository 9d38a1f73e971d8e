import { retry } from '../domain/backoff.js';
import type { Logger } from '../log.js';
import { TopologyMismatchError } from '../messaging/topology.js';

/**
 * Retries `attempt` with the service's backoff (250 ms doubling to 5 s, see domain/backoff.ts) until it
 * succeeds, the process is stopping, or it fails for good (a topology mismatch will not go away by waiting).
 */
export function untilReachable<T>(what: string, log: Logger, attempt: () => Promise<T>, isStopping: () => boolean): Promise<T> {
  return retry(attempt, {
    minMs: 250,
    maxMs: 5000,
    shouldRetry: (err) => !isStopping() && !(err instanceof TopologyMismatchError),
    onRetry: (err) => log.warn({ err }, `${what} not reachable yet`),
  });
}
