import type { ErrorBody } from '../domain/errors.js';

/** What an actor answers on a command's `reply_to` once it is committed (or refused). */
export type CommandReply =
  | { ok: true; status: 200 | 201; resource: unknown }
  | { ok: false; status: number; error: ErrorBody };
