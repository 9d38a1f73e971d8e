import type { Orm } from './orm.js';

/** Versions are `incarnation · 2^40 + sequence`: 2^40 commands per incarnation of the stream, 2^13 incarnations. */
const SEQ_BITS = 2 ** 40;

/**
 * The service-owned incarnation number of the commands stream (see migration 0002): one row per JetStream
 * stream creation time, numbered by AUTO_INCREMENT, so a recreated stream gets a higher number.
 */
export async function commandStreamIncarnation(orm: Orm, stream: string, created: string): Promise<number> {
  const conn = orm.em.getConnection();
  await conn.execute('INSERT IGNORE INTO command_streams (stream, created, first_seen_at) VALUES (?, ?, ?)', [stream, created, new Date()]);
  const rows = (await conn.execute('SELECT id FROM command_streams WHERE stream = ? AND created = ?', [stream, created], 'all')) as { id: number }[];
  if (!rows[0]) throw new Error(`no incarnation recorded for stream ${stream} created ${created}`);
  return Number(rows[0].id);
}

/** The version a command at `seq` of stream incarnation `incarnation` writes: monotonic across incarnations. */
export function commandVersion(incarnation: number, seq: number): number {
  if (seq >= SEQ_BITS) throw new Error(`commands-stream sequence ${seq} exceeds 2^40`);
  return incarnation * SEQ_BITS + seq;
}
