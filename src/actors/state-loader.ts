import type { ApplicationState, ChatState, Queries } from '../storage/queries.js';

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (err: unknown) => void;
}

/** Most keys in one activation query. */
const BATCH_MAX = 500;

/**
 * Collects the keys asked for during one turn of the event loop and loads them with one query per group
 * (DataLoader-style). `group` names the query a key belongs to; `load` reads one group's keys.
 */
class Coalescer<K, V> {
  private pending = new Map<string, Map<K, Array<Waiter<V>>>>();

  constructor(private readonly load: (group: string, keys: K[]) => Promise<Map<K, V>>) {}

  get(group: string, key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      let keys = this.pending.get(group);
      if (!keys) this.pending.set(group, (keys = new Map()));
      const waiters = keys.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else keys.set(key, [{ resolve, reject }]);
    });
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    for (const [group, keys] of pending) {
      const all = [...keys.keys()];
      for (let i = 0; i < all.length; i += BATCH_MAX) {
        const chunk = all.slice(i, i + BATCH_MAX);
        this.load(group, chunk).then(
          (found) => {
            for (const key of chunk) for (const w of keys.get(key)!) w.resolve(found.get(key));
          },
          (err: unknown) => {
            for (const key of chunk) for (const w of keys.get(key)!) w.reject(err);
          },
        );
      }
    }
  }
}

/**
 * What actors read when they activate (their parent's id and highest number), batched: many chats waking at
 * once — the first message into each of thousands of cold chats — cost one query per application and turn of
 * the event loop instead of two queries each.
 */
export class StateLoader {
  private readonly applications: Coalescer<string, ApplicationState>;
  private readonly chats: Coalescer<number, ChatState>;

  constructor(queries: Queries) {
    this.applications = new Coalescer((_, tokens) => queries.applicationStates(tokens));
    this.chats = new Coalescer((token, numbers) => queries.chatStates(token, numbers));
  }

  application(token: string): Promise<ApplicationState | undefined> {
    return this.applications.get('', token);
  }

  chat(token: string, chatNumber: number): Promise<ChatState | undefined> {
    return this.chats.get(token, chatNumber);
  }
}
