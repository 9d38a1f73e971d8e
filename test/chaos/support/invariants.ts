import type { Load } from './load.js';
import type { Topology } from './topology.js';

export interface Violation {
  invariant: string;
  detail: string;
}

const show = (items: string[], max = 8): string => items.slice(0, max).join('; ') + (items.length > max ? `; … (${items.length} in all)` : '');

interface MessageRow {
  token: string;
  chat: number;
  number: number;
  body: string;
}

/**
 * The invariants, checked with the load paused (every request resolved): statuses, requests that never
 * succeeded, exactly-once and gapless numbering in MySQL, idempotent retries, counters and search converging.
 */
export class Invariants {
  constructor(
    private readonly topo: Topology,
    private readonly load: Load,
  ) {}

  /** Only 2xx, 503 and 504 (with Retry-After, retried) are acceptable answers; never a 500, never no answer. */
  statuses(phase: string): Violation[] {
    const out: Violation[] = [];
    const stats = this.load.phases.get(phase);
    if (!stats) return out;
    const bad = [...stats.statuses].filter(([k]) => {
      const status = Number(k.split(' ')[1]);
      return !(status >= 200 && status < 300) && status !== 503 && status !== 504;
    });
    const fivehundreds = bad.filter(([k]) => Number(k.split(' ')[1]) >= 500);
    if (fivehundreds.length > 0) out.push({ invariant: 'no 500', detail: show(fivehundreds.map(([k, n]) => `${k} ×${n}`)) });
    const others = bad.filter(([k]) => Number(k.split(' ')[1]) < 500);
    if (others.length > 0) out.push({ invariant: 'only 2xx/503/504 answers', detail: show(others.map(([k, n]) => `${k === '' ? '?' : k} ×${n}${k.endsWith(' 0') ? ' (no answer)' : ''}`)) });
    if (stats.idempotencyMismatches.length > 0) out.push({ invariant: 'retry with the same Idempotency-Key gets the first outcome', detail: show(stats.idempotencyMismatches, 3) });
    return out;
  }

  /** Writes of this phase that never got a 2xx within the client's deadline. */
  unresolved(phase: string): Violation[] {
    const list = this.load.unresolved.filter((u) => u.phase === phase);
    if (list.length === 0) return [];
    const byPartition = new Map<number, number>();
    for (const u of list) byPartition.set(u.partition, (byPartition.get(u.partition) ?? 0) + 1);
    const parts = [...byPartition].sort((a, b) => a[0] - b[0]).map(([p, n]) => `p${p}×${n}`).join(' ');
    return [{
      invariant: 'every write eventually succeeds (retried with its Idempotency-Key)',
      detail: `${list.length} write(s) never got a 2xx within the deadline; by partition: ${parts}; e.g. ${list[0]!.kind} ${list[0]!.path} statuses ${list[0]!.statuses.join(',')}`,
    }];
  }

  /** Every 2xx exactly once in MySQL, numbers 1..N per parent, nothing that was never requested, edits applied. */
  async storage(): Promise<Violation[]> {
    const out: Violation[] = [];
    const db = await this.topo.db();
    let chats: Array<{ token: string; number: number; name: string | null }>;
    let messages: MessageRow[];
    try {
      const [c] = await db.query('SELECT a.token, c.number, c.name FROM chats c JOIN applications a ON a.id = c.application_id');
      chats = (c as Array<{ token: string; number: number; name: string | null }>).map((r) => ({ ...r, number: Number(r.number) }));
      const [m] = await db.query(
        'SELECT a.token, c.number AS chat, m.number, m.body FROM messages m JOIN chats c ON c.id = m.chat_id JOIN applications a ON a.id = c.application_id',
      );
      messages = (m as MessageRow[]).map((r) => ({ ...r, chat: Number(r.chat), number: Number(r.number) }));
    } finally {
      await db.end();
    }

    // numbering: 1..N per application and per chat
    const gaps: string[] = [];
    const chatNumbers = new Map<string, number[]>();
    for (const c of chats) (chatNumbers.get(c.token) ?? chatNumbers.set(c.token, []).get(c.token)!).push(c.number);
    for (const [token, nums] of chatNumbers) checkRange(nums, `app ${token.slice(0, 8)} chats`, gaps);
    const messageNumbers = new Map<string, number[]>();
    for (const m of messages) {
      const k = `${m.token}/${m.chat}`;
      (messageNumbers.get(k) ?? messageNumbers.set(k, []).get(k)!).push(m.number);
    }
    for (const [k, nums] of messageNumbers) checkRange(nums, `chat ${k.slice(0, 8)}…/${k.split('/')[1]} messages`, gaps);
    if (gaps.length > 0) out.push({ invariant: 'numbers 1..N per parent, no gap, no duplicate', detail: show(gaps) });

    // exactly once: each tag in one row; every confirmed creation at its number; nothing never requested
    const chatByTag = new Map<string, Array<{ token: string; number: number }>>();
    for (const c of chats) {
      const tag = /^chat (n[0-9a-f]{12})$/.exec(c.name ?? '')?.[1];
      if (tag) (chatByTag.get(tag) ?? chatByTag.set(tag, []).get(tag)!).push(c);
    }
    const msgByTag = new Map<string, MessageRow[]>();
    const msgAt = new Map<string, MessageRow>();
    for (const m of messages) {
      msgAt.set(`${m.token}/${m.chat}/${m.number}`, m);
      const tag = /^(m[0-9a-f]{12})\b/.exec(m.body)?.[1];
      if (tag) (msgByTag.get(tag) ?? msgByTag.set(tag, []).get(tag)!).push(m);
    }
    const dupes: string[] = [];
    const missing: string[] = [];
    const phantoms: string[] = [];
    for (const [tag, rows] of [...chatByTag, ...msgByTag] as Array<[string, Array<{ token: string; number: number }>]>) {
      if (rows.length > 1) dupes.push(`${tag} stored ${rows.length}× (numbers ${rows.map((r) => r.number).join(',')})`);
      if (!this.load.attemptedTags.has(tag)) phantoms.push(tag);
    }
    for (const [tag, c] of this.load.chatTags) {
      const rows = chatByTag.get(tag) ?? [];
      if (!rows.some((r) => r.token === c.token && r.number === c.number)) missing.push(`chat ${tag} (201 number ${c.number}, ${c.phase}) not at its number`);
    }
    const edits: string[] = [];
    for (const m of this.load.messages) {
      const row = msgAt.get(`${m.token}/${m.chat}/${m.number}`);
      if (!row || !row.body.startsWith(m.tag)) {
        missing.push(`message ${m.tag} (201 number ${m.number} in chat ${m.chat}, ${m.phase}) not at its number${row ? ` (found ${row.body.slice(0, 14)})` : ''}`);
        continue;
      }
      const allowed = [m.confirmed.length > 0 ? m.confirmed[m.confirmed.length - 1]! : m.createdBody, ...m.unconfirmed];
      if (!m.editing && !allowed.includes(row.body)) edits.push(`message ${m.tag}: stored body is not its last confirmed edit`);
    }
    if (missing.length > 0) out.push({ invariant: 'every 2xx exists in MySQL', detail: show(missing) });
    if (dupes.length > 0) out.push({ invariant: 'every creation exists exactly once', detail: show(dupes) });
    if (phantoms.length > 0) out.push({ invariant: 'nothing stored that was never requested', detail: show(phantoms) });
    if (edits.length > 0) out.push({ invariant: 'confirmed edits are the stored state', detail: show(edits) });
    return out;
  }

  /** chats_count and messages_count equal the rows, within `timeoutMs`. */
  async counters(timeoutMs: number): Promise<{ violations: Violation[]; ms: number }> {
    const started = Date.now();
    let wrong: string[] = [];
    for (;;) {
      const db = await this.topo.db();
      try {
        const [a] = await db.query(
          'SELECT a.token, a.chats_count AS n, (SELECT COUNT(*) FROM chats c WHERE c.application_id = a.id) AS actual FROM applications a',
        );
        const [c] = await db.query(
          'SELECT c.id, c.number, c.messages_count AS n, (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id) AS actual FROM chats c',
        );
        wrong = [
          ...(a as Array<{ token: string; n: number; actual: number }>).filter((r) => Number(r.n) !== Number(r.actual)).map((r) => `app ${r.token.slice(0, 8)} chats_count ${r.n} ≠ ${r.actual}`),
          ...(c as Array<{ id: number; number: number; n: number; actual: number }>).filter((r) => Number(r.n) !== Number(r.actual)).map((r) => `chat #${r.id} messages_count ${r.n} ≠ ${r.actual}`),
        ];
      } finally {
        await db.end();
      }
      if (wrong.length === 0) return { violations: [], ms: Date.now() - started };
      if (Date.now() - started > timeoutMs) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    return { violations: [{ invariant: `counters converge (within ${timeoutMs} ms)`, detail: show(wrong) }], ms: Date.now() - started };
  }

  /** Every sampled message is found by searching its tag in its chat, with its stored body, within `timeoutMs`. */
  async search(phase: string, sample: number, timeoutMs: number): Promise<{ violations: Violation[]; ms: number; checked: number }> {
    const started = Date.now();
    const inPhase = this.load.messages.filter((m) => m.phase === phase);
    const pool = inPhase.length > 0 ? inPhase : this.load.messages;
    const picked = new Set<(typeof pool)[number]>();
    const hotLast = [...this.load.messages].reverse().find((m) => m.token === this.load.hot.token && m.chat === this.load.hot.number);
    if (hotLast) picked.add(hotLast);
    for (let i = 0; i < sample * 3 && picked.size < Math.min(sample, pool.length); i++) picked.add(pool[Math.floor(Math.random() * pool.length)]!);
    let pending = [...picked];
    const urls = this.topo.apiUrls();
    let lastStatus = new Map<string, string>();
    while (pending.length > 0) {
      const next: typeof pending = [];
      lastStatus = new Map();
      await Promise.all(pending.map(async (m, i) => {
        const expected = m.confirmed.length > 0 ? m.confirmed[m.confirmed.length - 1]! : m.createdBody;
        try {
          const res = await fetch(`${urls[i % urls.length]}/applications/${m.token}/chats/${m.chat}/messages/search?query=${encodeURIComponent(m.tag)}`, { signal: AbortSignal.timeout(5000) });
          const body = (await res.json()) as Array<{ number: number; body: string }>;
          const hit = res.status === 200 ? body.find((h) => h.number === m.number) : undefined;
          if (!hit || (hit.body !== expected && !m.unconfirmed.includes(hit.body))) {
            next.push(m);
            lastStatus.set(m.tag, res.status === 200 ? (hit ? 'old body' : 'not found') : `status ${res.status}`);
          }
        } catch (err) {
          next.push(m);
          lastStatus.set(m.tag, String(err));
        }
      }));
      pending = next;
      if (pending.length === 0 || Date.now() - started > timeoutMs) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    const violations = pending.length === 0 ? [] : [{
      invariant: `search converges (within ${timeoutMs} ms)`,
      detail: `${pending.length} of ${picked.size} sampled messages not searchable: ${show(pending.map((m) => `${m.tag} (${lastStatus.get(m.tag)})`), 5)}`,
    }];
    return { violations, ms: Date.now() - started, checked: picked.size };
  }
}

function checkRange(nums: number[], what: string, out: string[]): void {
  const sorted = [...nums].sort((a, b) => a - b);
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i] !== i + 1) {
      out.push(`${what}: expected ${i + 1}, found ${sorted[i]} (of ${sorted.length})`);
      return;
    }
  }
}
