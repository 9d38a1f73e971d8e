/**
 * The frame of the engine-level benchmarks (index-cost.ts, nats-commands.ts): the CPU of one shared server,
 * read from /proc, while variants of one workload run in turn, alternated within each round so that the host's
 * drift touches them alike; the median of each is printed.
 */
import { pidListeningOn } from './cpu.js';
import { median } from './summary.js';

/** The pid of the server at `url` (a process of this machine listening on its port); throws when there is none. */
export function serverPid(url: string, defaultPort: number, what: string): number {
  const pid = pidListeningOn(Number(new URL(url).port || defaultPort));
  if (pid === null) throw new Error(`no process of this machine listens on ${url}: ${what}'s CPU cannot be read`);
  return pid;
}

/** Runs every variant once per round, in order; prints and returns each one's median (in `unit`). */
export async function alternateRounds<V>(
  rounds: number,
  variants: Record<string, V>,
  measure: (name: string, variant: V, round: number) => Promise<number>,
  unit: string,
): Promise<Map<string, number>> {
  const results = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [name, variant] of Object.entries(variants)) results.set(name, [...(results.get(name) ?? []), await measure(name, variant, round)]);
  }
  const medians = new Map<string, number>();
  for (const [name, runs] of results) {
    const m = median(runs);
    medians.set(name, m);
    console.log(`median ${m.toFixed(1)} ${unit}  ${name}`);
  }
  return medians;
}
