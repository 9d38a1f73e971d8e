import pRetry from 'p-retry';

/**
 * The one backoff policy of the service: exponential (factor 2) from `minMs`, capped at `maxMs`, with
 * jitter. Loops that retry an operation use `retry` (p-retry); a scheduler that cannot wait in a loop (the
 * partition restarts of actors/ownership.ts) computes the next delay with `backoffDelay`.
 */
interface Backoff {
  minMs: number;
  maxMs: number;
}

export interface RetryOptions extends Backoff {
  /** Retries after the first attempt (default: no limit). */
  retries?: number;
  /** False stops retrying and rejects with this error (default: retry every error). */
  shouldRetry?: (err: unknown) => boolean;
  /** Called before each wait. */
  onRetry?: (err: unknown, attempt: number) => void;
  /** The wait between attempts does not keep the process alive (a background retry). */
  unref?: boolean;
}

/** Runs `attempt` until it succeeds, `shouldRetry` says no, or the retries run out (then rejects with the last error). */
export function retry<T>(attempt: () => Promise<T>, opts: RetryOptions): Promise<T> {
  return pRetry(attempt, {
    retries: opts.retries ?? Number.POSITIVE_INFINITY,
    factor: 2,
    minTimeout: opts.minMs,
    maxTimeout: opts.maxMs,
    randomize: true,
    unref: opts.unref ?? false,
    shouldRetry: ({ error }) => opts.shouldRetry?.(error) ?? true,
    onFailedAttempt: ({ error, attemptNumber, retriesLeft }) => {
      if (retriesLeft > 0 && (opts.shouldRetry?.(error) ?? true)) opts.onRetry?.(error, attemptNumber);
    },
  });
}

/** The delay before attempt `failures + 1`, uniformly in [d/2, d] with d = min(maxMs, minMs · 2^(failures-1)). */
export function backoffDelay(failures: number, minMs: number, maxMs: number, random = Math.random): number {
  const d = Math.min(maxMs, minMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(d / 2 + random() * (d / 2));
}
