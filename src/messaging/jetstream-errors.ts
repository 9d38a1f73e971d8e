import { ErrorCode, NatsError } from 'nats';

/**
 * JetStream API error codes (`api_error.err_code` of a failed `$JS.API` request), from the server's
 * `server/errors.json`. nats.js 2.x does not export them; v3 keeps the same numbers in `JetStreamApiCodes`.
 */
const JetStreamApiCodes = {
  ConsumerNotFound: 10014,
  ConsumerNameExists: 10013,
  ConsumerExistingActive: 10105,
  ConsumerAlreadyExists: 10148,
  StreamNotFound: 10059,
  StreamNameInUse: 10058,
} as const;

/** The server's description of the 409 status a pull receives when its consumer is deleted (nats.js `Js409Errors.ConsumerDeleted`). */
const CONSUMER_DELETED = 'consumer deleted';

const apiCode = (err: unknown): number | undefined => (err instanceof NatsError ? err.api_error?.err_code : undefined);

export function isStreamNotFound(err: unknown): boolean {
  return apiCode(err) === JetStreamApiCodes.StreamNotFound;
}

export function isConsumerNotFound(err: unknown): boolean {
  return apiCode(err) === JetStreamApiCodes.ConsumerNotFound;
}

/** Another process created the stream meanwhile. */
export function isStreamNameInUse(err: unknown): boolean {
  return apiCode(err) === JetStreamApiCodes.StreamNameInUse;
}

/** Another process created the durable consumer meanwhile (the code depends on the server version). */
export function isConsumerExists(err: unknown): boolean {
  const code = apiCode(err);
  return code === JetStreamApiCodes.ConsumerNameExists || code === JetStreamApiCodes.ConsumerExistingActive || code === JetStreamApiCodes.ConsumerAlreadyExists;
}

/**
 * A pull subscription's consumer (or its stream) is gone, e.g. the stream was recreated: the subscription
 * will never deliver again. The 409 status carries no API code; its description is what the client itself
 * matches (nats.js `isTerminal409`).
 */
export function isConsumerGone(err: unknown): boolean {
  if (!(err instanceof NatsError)) return false;
  if (err.code === ErrorCode.JetStream409 && err.message.toLowerCase().includes(CONSUMER_DELETED)) return true;
  return isConsumerNotFound(err) || isStreamNotFound(err);
}

/** Statuses a pull subscription sees in normal operation: no messages (404), request expired (408), limits reached (409), client timeout. */
export function isRoutinePullStatus(err: unknown): boolean {
  if (!(err instanceof NatsError)) return false;
  const routine: string[] = [ErrorCode.JetStream404NoMessages, ErrorCode.JetStream408RequestTimeout, ErrorCode.JetStream409, ErrorCode.Timeout];
  return routine.includes(err.code);
}
