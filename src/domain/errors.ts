/**
 * The error catalogue. `code` is the stable `error` string of the API (clients may branch on it);
 * `message` is for humans and may change. One mapper (`toErrorBody`) serves HTTP and NATS replies.
 */
export type ErrorCode =
  | 'validation_error'
  | 'malformed_json'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'method_not_allowed'
  | 'idempotency_key_reused'
  | 'expectation_failed'
  | 'headers_too_large'
  | 'rate_limited'
  | 'unavailable'
  | 'timeout'
  | 'internal_error';

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    readonly statusCode: number,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** Public, serialisable form. Never echoes the text of 5xx causes. */
  toBody(): ErrorBody {
    return { error: this.code, message: this.message };
  }
}

export interface ErrorBody {
  error: string;
  message: string;
}

export class ValidationError extends AppError {
  override name = 'ValidationError';
  constructor(message: string, code: ErrorCode = 'validation_error', status = 400) {
    super(code, status, message);
  }

  static field(field: string, problem: string): ValidationError {
    return new ValidationError(`${field} ${problem}`);
  }
}

export class NotFoundError extends AppError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super('not_found', 404, message);
  }

  static application(token: string): NotFoundError {
    return new NotFoundError(`application ${JSON.stringify(token)} not found`);
  }

  static chat(token: string, number: number): NotFoundError {
    return new NotFoundError(`chat ${number} of application ${JSON.stringify(token)} not found`);
  }

  static message(token: string, chatNumber: number, number: number): NotFoundError {
    return new NotFoundError(`message ${number} of chat ${chatNumber} of application ${JSON.stringify(token)} not found`);
  }

  static route(method: string, url: string): NotFoundError {
    return new NotFoundError(`no route ${method.slice(0, 20)} ${url.split('?')[0]?.slice(0, 200)}`);
  }
}

/** Too many requests (rate limit, concurrent searches): retry after `retryAfterSeconds`. 429 + Retry-After. */
export class TooManyRequestsError extends AppError {
  override name = 'TooManyRequestsError';
  constructor(message: string, readonly retryAfterSeconds = 1) {
    super('rate_limited', 429, message);
  }

  static searches(bound: number): TooManyRequestsError {
    return new TooManyRequestsError(`too many searches of this application at once (at most ${bound}); retry later`);
  }
}

/** A known path asked with a method it does not serve: 405 with `Allow`. */
export class MethodNotAllowedError extends AppError {
  override name = 'MethodNotAllowedError';
  constructor(method: string, readonly allow: readonly string[]) {
    super('method_not_allowed', 405, `method ${method} is not allowed here (allowed: ${allow.join(', ')})`);
  }
}

/** The operator credential (ADMIN_API_KEY) is missing (401), wrong or not configured (403). */
export class AuthError extends AppError {
  override name = 'AuthError';
  constructor(code: 'unauthorized' | 'forbidden', message: string) {
    super(code, code === 'unauthorized' ? 401 : 403, message);
  }

  static missing(): AuthError {
    return new AuthError('unauthorized', 'this operation is for operators: send Authorization: Bearer <ADMIN_API_KEY>');
  }

  static wrong(): AuthError {
    return new AuthError('forbidden', 'the operator credential is not valid');
  }

  static disabled(): AuthError {
    return new AuthError('forbidden', 'this operation is disabled: the service has no ADMIN_API_KEY configured');
  }
}

/** An Idempotency-Key sent again with a different request than the one it was first used for (IETF draft: 422). */
export class IdempotencyKeyReusedError extends AppError {
  override name = 'IdempotencyKeyReusedError';
  constructor() {
    super('idempotency_key_reused', 422, 'this Idempotency-Key was already used for a different request (method, path or body); use a new key for a new request');
  }
}

/** A dependency is down or a write could not be confirmed in time; the client should retry (same Idempotency-Key). */
export class UnavailableError extends AppError {
  override name = 'UnavailableError';
  constructor(
    message: string,
    readonly retryAfterSeconds = 1,
    code: 'unavailable' | 'timeout' = 'unavailable',
    options?: { cause?: unknown },
  ) {
    super(code, 503, message, options);
  }

  static dependency(what: string, cause?: unknown): UnavailableError {
    return new UnavailableError(`${what} is unavailable, retry later`, 1, 'unavailable', { cause });
  }

  static notConfirmed(cause?: unknown): UnavailableError {
    return new UnavailableError(
      'the write was not confirmed in time; retry with the same Idempotency-Key to learn its outcome',
      1,
      'timeout',
      { cause },
    );
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}

/** Rebuilds an AppError from its serialised form (actor replies cross process boundaries). */
export function fromBody(status: number, body: ErrorBody): AppError {
  const code = body.error as ErrorCode;
  if (status === 404) return new NotFoundError(body.message);
  if (status === 429) return new TooManyRequestsError(body.message);
  if (status === 503) return new UnavailableError(body.message, 1, code === 'timeout' ? 'timeout' : 'unavailable');
  if (status >= 400 && status < 500) return new ValidationError(body.message, code, status);
  return new AppError(code, status, body.message);
}

export const internalError = (): AppError => new AppError('internal_error', 500, 'internal error');
