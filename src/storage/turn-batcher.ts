/**
 * Calls made in the same turn of the event loop, answered together: `load(key)` queues the key, and once the
 * turn's callbacks have run (setImmediate), or when `max` keys are waiting, `run` gets every queued key and
 * answers each with the value at the same index. A failed run fails each of its calls with its error.
 *
 * Used for MySQL reads: on this 2-core machine a query's socket write and the server's wake-up cost more than
 * reading a row or a page, and were the largest items of a GET; the GETs of many clients whose requests arrived
 * together now share one query.
 */
export class TurnBatcher<K, V> {
  private waiting: Array<{ key: K; resolve(value: V): void; reject(err: unknown): void }> = [];

  constructor(
    private readonly run: (keys: K[]) => Promise<V[]>,
    private readonly max: number,
  ) {}

  load(key: K): Promise<V> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ key, resolve, reject });
      if (this.waiting.length >= this.max) this.flush();
      else if (this.waiting.length === 1) setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    const calls = this.waiting;
    if (calls.length === 0) return;
    this.waiting = [];
    this.run(calls.map((c) => c.key)).then(
      (values) => calls.forEach((c, i) => c.resolve(values[i]!)),
      (err: unknown) => calls.forEach((c) => c.reject(err)),
    );
  }
}
