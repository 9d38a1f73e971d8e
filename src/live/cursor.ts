import { ValidationError } from '../domain/errors.js';

/**
 * Where a live stream stands, and what a resume asks for: `number`, the highest message number delivered in
 * order (creations are delivered 1, 2, 3…), and `version`, the highest write version delivered (creations and
 * edits; a chat's writes get growing versions). The SSE `id` of every event is `<number>.<version>`;
 * `Last-Event-ID: <number>` (or `?after=<number>`) resumes the creations only, `<number>.<version>` also replays
 * the edits made meanwhile to messages up to `number` (docs/API.md, "Live updates").
 */
export interface Cursor {
  number: number;
  version?: number;
}

const ID = /^(0|[1-9][0-9]{0,15})(?:\.(0|[1-9][0-9]{0,15}))?$/;

export function formatCursor(cursor: Required<Cursor>): string {
  return `${cursor.number}.${cursor.version}`;
}

/** `Last-Event-ID` wins over `?after=`; neither: the stream starts with the next message created (live only). */
export function parseCursor(lastEventId: string | undefined, after: string | undefined): Cursor | undefined {
  if (lastEventId !== undefined && lastEventId.trim() !== '') return parseOne(lastEventId.trim(), 'Last-Event-ID', true);
  if (after !== undefined) return parseOne(after, 'after', false);
  return undefined;
}

function parseOne(raw: string, what: string, withVersion: boolean): Cursor {
  const match = ID.exec(raw);
  const number = Number(match?.[1]);
  const version = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!match || !Number.isSafeInteger(number) || (version !== undefined && (!withVersion || !Number.isSafeInteger(version)))) {
    throw ValidationError.field(what, withVersion ? 'must be <number> or <number>.<version> (the id of the last event received)' : 'must be a non-negative integer');
  }
  return version === undefined ? { number } : { number, version };
}
