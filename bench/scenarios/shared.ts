/** Small pieces the scenarios share. */

/** The `number` of a created resource, read without parsing the whole body (the load generator's CPU counts). */
export function createdNumber(body: string): number {
  const m = /"number":(\d+)/.exec(body);
  return m ? Number(m[1]) : NaN;
}

const WORDS = ['the', 'quick', 'brown', 'fox', 'jumps', 'over', 'lazy', 'dog', 'hello', 'world', 'chat', 'message', 'meeting',
  'tomorrow', 'lunch', 'deploy', 'release', 'bug', 'fix', 'review', 'café', 'straße', 'привет', 'ok', 'thanks', 'see', 'you',
  'later', 'why', 'not', 'agenda', 'coffee', 'status', 'update', 'ticket', 'merge', 'branch', 'weekend', 'call', 'notes'];

/** The deterministic body of message `i` of the read fixture: 18–24 words, ~140 bytes. */
export function fixtureBody(i: number): string {
  const n = 18 + (i % 7);
  const words: string[] = [];
  let x = (i * 2654435761) >>> 0;
  for (let k = 0; k < n; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    words.push(WORDS[(x >>> 8) % WORDS.length]!);
  }
  return `${words.join(' ')} #${i}`;
}

/** `count` queries of `length` characters cut out of fixture bodies: each matches at least the message it came from. */
export function fixtureQueries(length: number, count: number, messages: number): string[] {
  const out: string[] = [];
  for (let k = 0; out.length < count; k++) {
    const i = 1 + ((k * 7919) % messages);
    const body = fixtureBody(i);
    const at = (k * 31) % Math.max(1, body.length - length);
    const q = body.slice(at, at + length);
    if (q.length === length && q.trim() === q) out.push(q); // no leading/trailing blank
  }
  return out;
}

export function percentiles(samples: number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  const r = (x: number): number => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(at(50)), p90: r(at(90)), p99: r(at(99)), max: r(s[s.length - 1] ?? NaN) };
}
