/**
 * How every call goes out: gRPC-web through Parley's public port (Envoy turns it into gRPC), the
 * token, a deadline for each unary call, typed errors, and retries with backoff while Parley is
 * unavailable for the calls that are safe to repeat.
 */
import type { DescMethodUnary } from "@bufbuild/protobuf";
import type { Interceptor, Transport } from "@connectrpc/connect";
import { createGrpcWebTransport } from "@connectrpc/connect-web";

import { Code, typedError } from "./errors.js";

/** Calls to an unavailable Parley are tried this often at most (idempotent calls only). */
export const ATTEMPTS = 4;
/** Backoff before the second attempt (doubling, with jitter), and its ceiling. */
const BACKOFF_MS = 200;
const MAX_BACKOFF_MS = 5000;

/** Where Parley is and how to call it. */
export interface ParleyOptions {
  /** Parley's public address, e.g. "http://127.0.0.1:8080" or "https://parley.example.com". */
  baseUrl: string;
  /** API token (`Authorization: Bearer`); none for the calls that need none (health). */
  token?: string;
  /** Deadline of each attempt of a unary call, in milliseconds (10 s by default). */
  timeoutMs?: number;
  /** The fetch to use (a browser's or Node's global one by default). */
  fetch?: typeof globalThis.fetch;
}

/** The pause before attempt `attempt + 1`: exponential with full jitter. */
export function backoffMs(attempt: number): number {
  return Math.random() * Math.min(MAX_BACKOFF_MS, BACKOFF_MS * 2 ** (attempt - 1));
}

/** Resolves after `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", aborted);
      resolve();
    }, ms);
    const aborted = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", aborted, { once: true });
  });
}

/** Calls that change nothing, or that the SDK makes safe to repeat (a send carries an
 *  idempotency key). */
function idempotent(method: DescMethodUnary): boolean {
  return /^(List|Get)/.test(method.name) || method.name === "SendMessage";
}

function bearer(token: string): Interceptor {
  return (next) => (request) => {
    request.header.set("authorization", `Bearer ${token}`);
    return next(request);
  };
}

/** A transport to Parley: every generated client (`createClient(Service, transport)`) made on
 *  it gets the token, deadlines, typed errors and retries. */
export function parleyTransport(options: ParleyOptions): Transport {
  const base = createGrpcWebTransport({
    baseUrl: options.baseUrl,
    fetch: options.fetch,
    interceptors: options.token ? [bearer(options.token)] : [],
  });
  const timeoutMs = options.timeoutMs ?? 10_000;
  return {
    async unary(method, signal, callTimeoutMs, header, input, contextValues) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await base.unary(method, signal, callTimeoutMs ?? timeoutMs, header, input,
                                  contextValues);
        } catch (reason) {
          const error = typedError(reason);
          if (!idempotent(method) || error.code !== Code.Unavailable || attempt === ATTEMPTS) {
            throw error;
          }
        }
        await sleep(backoffMs(attempt), signal);
      }
    },
    async stream(method, signal, callTimeoutMs, header, input, contextValues) {
      try {
        const response = await base.stream(method, signal, callTimeoutMs, header, input,
                                           contextValues);
        return { ...response, message: typedErrors(response.message) };
      } catch (reason) {
        throw typedError(reason);
      }
    },
  };
}

/** The messages of a stream, its failure a typed error. */
async function* typedErrors<T>(messages: AsyncIterable<T>): AsyncIterable<T> {
  try {
    yield* messages;
  } catch (reason) {
    throw typedError(reason);
  }
}
