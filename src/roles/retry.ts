import type { Logger } from '../log.js';
import { TopologyMismatchError } from '../messaging/topology.js';

/**
 * Retries `attempt` with capped exponential backoff (250 ms doubling to 5 s) until it succeeds, the process
 * is stopping, or it fails for good (a topology mismatch will not go away by waiting).
 */
export async function untilReachable<T>(what: string, log: Logger, attempt: () => Promise<T>, isStopping: () => boolean): Promise<T> {
  for (let delay = 250; ; delay = Math.min(delay * 2, 5000)) {
    try {
      return await attempt();
    } catch (err) {
      if (isStopping() || err instanceof TopologyMismatchError) throw err;
      log.warn({ err, retry_in_ms: delay }, `${what} not reachable yet`);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
