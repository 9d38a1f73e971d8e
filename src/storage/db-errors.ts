/**
 * MySQL driver errors as they may be logged: MikroORM puts the whole statement (bodies included, megabytes
 * for a big group commit) into `message`, so logs get the server's error code and text instead, bounded.
 */
export interface SqlFailure {
  code?: string;
  errno?: number;
  sqlState?: string;
  reason: string;
}

const REASON_MAX = 300;

function sqlFailure(err: unknown): SqlFailure {
  const e = (err ?? {}) as { code?: unknown; errno?: unknown; sqlState?: unknown; sqlMessage?: unknown; name?: unknown; message?: unknown };
  const text = typeof e.sqlMessage === 'string' ? e.sqlMessage : typeof e.name === 'string' ? e.name : 'unknown error';
  return {
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.errno === 'number' ? { errno: e.errno } : {}),
    ...(typeof e.sqlState === 'string' ? { sqlState: e.sqlState } : {}),
    reason: text.length > REASON_MAX ? `${text.slice(0, REASON_MAX)}…` : text,
  };
}

/** A group commit that MySQL refused or could not finish; carries no statement text. */
export class CommitFailedError extends Error {
  override name = 'CommitFailedError';
  readonly failure: SqlFailure;

  constructor(err: unknown) {
    const failure = sqlFailure(err);
    super(`group commit failed: ${failure.code ?? ''}${failure.code ? ' ' : ''}${failure.reason}`);
    this.failure = failure;
  }
}
