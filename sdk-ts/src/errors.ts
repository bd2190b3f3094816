/**
 * Typed errors: every failed call rejects with a `ParleyError` subclass named after its gRPC status
 * (`NotFound`, `InvalidArgument`, ...), carrying the server's message in `rawMessage`. They extend
 * Connect's `ConnectError`, so code written against Connect keeps working.
 */
import { Code, ConnectError } from "@connectrpc/connect";

export { Code };

/** A call failed; `code` is its gRPC status, `rawMessage` the server's explanation. */
export class ParleyError extends ConnectError {
  constructor(message: string, code: Code = Code.Unknown, metadata?: HeadersInit, cause?: unknown) {
    super(message, code, metadata, undefined, cause);
  }

  /** `instanceof NotFound` by the prototype chain: `ConnectError`'s own check (kept for it, as
   *  these keep its `name`) takes any error of its shape for an instance. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

/** The request is malformed (HTTP 400), e.g. a bad filter or a missing field. */
export class InvalidArgument extends ParleyError {}
/** The request is well-formed but cannot be taken now (HTTP 400). */
export class FailedPrecondition extends ParleyError {}
/** A position that is gone, e.g. a resume token older than the events kept (HTTP 400). */
export class OutOfRange extends ParleyError {}
/** The resource does not exist (HTTP 404). */
export class NotFound extends ParleyError {}
/** The resource exists already, or is not in a state for this (HTTP 409). */
export class Conflict extends ParleyError {}
/** No token, or a bad or expired one (HTTP 401). */
export class Unauthenticated extends ParleyError {}
/** The token may not do this, or the channel is disconnected (HTTP 403). */
export class PermissionDenied extends ParleyError {}
/** Too many requests, or a request too large (HTTP 429). */
export class ResourceExhausted extends ParleyError {}
/** Parley, or what it depends on, cannot be reached now; try again (HTTP 503). */
export class Unavailable extends ParleyError {}
/** No answer within the call's deadline. */
export class DeadlineExceeded extends ParleyError {}

const BY_CODE: Partial<Record<Code, typeof ParleyError>> = {
  [Code.InvalidArgument]: InvalidArgument,
  [Code.FailedPrecondition]: FailedPrecondition,
  [Code.OutOfRange]: OutOfRange,
  [Code.NotFound]: NotFound,
  [Code.Aborted]: Conflict,
  [Code.AlreadyExists]: Conflict,
  [Code.Unauthenticated]: Unauthenticated,
  [Code.PermissionDenied]: PermissionDenied,
  [Code.ResourceExhausted]: ResourceExhausted,
  [Code.Unavailable]: Unavailable,
  [Code.DeadlineExceeded]: DeadlineExceeded,
};

/** The typed error of a failed call (whatever it threw: a `ConnectError`, a network error). */
export function typedError(reason: unknown): ParleyError {
  if (reason instanceof ParleyError) {
    return reason;
  }
  const error = ConnectError.from(reason);
  const Type = BY_CODE[error.code] ?? ParleyError;
  return new Type(error.rawMessage, error.code, error.metadata, error.cause ?? reason);
}
