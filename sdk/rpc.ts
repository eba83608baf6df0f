/**
 * How the client talks to a Gateway: the generated `GatewayService` client
 * of connect-es (`createClient` over `createConnectTransport`, binary
 * protobuf) with two interceptors — one adds the bearer token and the
 * schema-version headers, the other times each attempt out and retries
 * unavailable answers with bounded, jittered backoff honouring
 * `Retry-After` — and a plain `GET` with the same headers for the REST / SSE
 * side. Errors come out as {@link QmtlClientError}.
 *
 * @module
 */

import {
  type Client,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import {
  GatewayService,
  SCHEMA_HASH,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
} from "./contracts.ts";
import { clientErrorOf, errorFromResponse, QmtlClientError } from "./errors.ts";
import {
  backoffMs,
  deadline,
  linkSignal,
  type RetryOptions,
  sleep,
} from "./retry.ts";

/**
 * What every request needs: where, who, how to retry.
 *
 * @example
 * ```ts
 * import type { ClientConfig } from "@qmtl/qmtl/sdk";
 * const t: ClientConfig = {
 *   baseUrl: "http://127.0.0.1:8080", token: () => "jwt", fetch: globalThis.fetch,
 *   retry: { maxAttempts: 3, baseMs: 100, maxMs: 1000 }, requestTimeoutMs: 10000,
 *   schemaVersion: "2.0.0", schemaHash: "sha256:…",
 * };
 * ```
 */
export interface ClientConfig {
  /** Gateway base URL without a trailing slash. */
  baseUrl: string;
  /** Bearer token source; `undefined` or `""` sends no `authorization`. */
  token: () => string | undefined | Promise<string | undefined>;
  /** The fetch implementation. */
  fetch: typeof fetch;
  /** Retry policy for unavailable answers. */
  retry: RetryOptions;
  /** Per-attempt timeout in milliseconds (0: none). */
  requestTimeoutMs: number;
  /** Value of `qmtl-schema-version`. */
  schemaVersion: string;
  /** Value of `qmtl-schema-hash`. */
  schemaHash: string;
}

/**
 * The schema version and hash this SDK speaks (from `lib/contracts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { CLIENT_SCHEMA } from "@qmtl/qmtl/sdk";
 * assert.equal(CLIENT_SCHEMA.version, "2.0.0");
 * ```
 */
export const CLIENT_SCHEMA: {
  readonly version: string;
  readonly hash: string;
} = Object.freeze({ version: SCHEMA_VERSION, hash: SCHEMA_HASH });

async function setHeaders(config: ClientConfig, h: Headers): Promise<void> {
  h.set(SCHEMA_VERSION_HEADER, config.schemaVersion);
  h.set(SCHEMA_HASH_HEADER, config.schemaHash);
  const token = await config.token();
  if (token) h.set("authorization", `Bearer ${token}`);
}

/**
 * Interceptor: bearer token and schema headers on every call.
 *
 * @example
 * ```ts ignore
 * import { headersInterceptor } from "./rpc.ts";
 * declare const config: import("./rpc.ts").ClientConfig;
 * const interceptors = [headersInterceptor(config)];
 * ```
 */
export function headersInterceptor(config: ClientConfig): Interceptor {
  return (next) => async (req) => {
    await setHeaders(config, req.header);
    return await next(req);
  };
}

/**
 * Interceptor: each attempt gets `requestTimeoutMs`; an answer that means
 * "try again later" (`E_UNAVAILABLE`: Connect `unavailable`, HTTP
 * 502/503/504, a refused connection, an attempt timed out) is retried up to
 * `retry.maxAttempts` attempts in all, waiting {@link backoffMs} (full
 * jitter, or the server's `Retry-After` capped at `retry.maxMs`). What it
 * throws is a {@link QmtlClientError} with `attempts` set.
 *
 * @example
 * ```ts ignore
 * import { retryInterceptor } from "./rpc.ts";
 * declare const config: import("./rpc.ts").ClientConfig;
 * const interceptors = [retryInterceptor(config)];
 * ```
 */
export function retryInterceptor(config: ClientConfig): Interceptor {
  const { retry, requestTimeoutMs } = config;
  return (next) => async (req) => {
    for (let n = 1;; n++) {
      const timeout = requestTimeoutMs > 0
        ? deadline(requestTimeoutMs)
        : undefined;
      try {
        return await next({
          ...req,
          signal: timeout
            ? AbortSignal.any([req.signal, timeout.signal])
            : req.signal,
        });
      } catch (e) {
        if (req.signal.aborted) throw e; // the caller gave up
        const err = timeout?.signal.aborted
          ? new QmtlClientError(
            "E_UNAVAILABLE",
            `${req.method.name}: no answer within ${requestTimeoutMs} ms`,
            { connectCode: "deadline_exceeded", cause: e },
          )
          : clientErrorOf(e);
        if (!err.retryable || n >= retry.maxAttempts) {
          err.attempts = n;
          throw err;
        }
        await sleep(backoffMs(n, retry, err.retryAfterMs), req.signal);
      } finally {
        timeout?.clear();
      }
    }
  };
}

/**
 * The generated `GatewayService` client for a configuration.
 *
 * @example
 * ```ts ignore
 * import { gatewayClient } from "@qmtl/qmtl/sdk";
 * declare const config: import("./rpc.ts").ClientConfig;
 * const { status } = await gatewayClient(config).getStrategy({ strategyId: "st_1" });
 * ```
 */
export function gatewayClient(
  config: ClientConfig,
): Client<typeof GatewayService> {
  return createClient(
    GatewayService,
    createConnectTransport({
      baseUrl: config.baseUrl,
      useBinaryFormat: true,
      fetch: config.fetch,
      interceptors: [retryInterceptor(config), headersInterceptor(config)],
    }),
  );
}

/**
 * Run a contract call, turning whatever it throws into a
 * {@link QmtlClientError} (the signal's reason when the caller aborted).
 * `fn` receives a signal that follows `signal` and is detached from it when
 * the call ends.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { call } from "./rpc.ts";
 * const v = await call(() => Promise.resolve(42));
 * assert.equal(v, 42);
 * ```
 */
export async function call<T>(
  fn: (signal: AbortSignal | undefined) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  // `fn` gets a signal linked to the caller's, never the caller's own (see
  // linkSignal): nothing is left listening on it when the call returns.
  const link = signal ? linkSignal(signal) : undefined;
  try {
    return await fn(link?.signal);
  } catch (e) {
    if (signal?.aborted) throw signal.reason;
    throw clientErrorOf(e);
  } finally {
    link?.dispose();
  }
}

/**
 * Options of {@link get}.
 *
 * @example
 * ```ts
 * import type { GetOptions } from "./rpc.ts";
 * const o: GetOptions = { headers: { accept: "text/event-stream" } };
 * ```
 */
export interface GetOptions {
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Cancels the request. */
  signal?: AbortSignal;
  /** Timeout of the answer's head; default the config's. 0: none. */
  timeoutMs?: number;
}

/**
 * `GET` a REST / SSE path with the token and schema headers. A network
 * failure or a timeout is `E_UNAVAILABLE`; an error status the
 * {@link QmtlClientError} of its problem+json body. Returns the response
 * (body unread). No retry.
 *
 * @example
 * ```ts ignore
 * import { get } from "./rpc.ts";
 * declare const config: import("./rpc.ts").ClientConfig;
 * const res = await get(config, "/v1/strategies/st_1");
 * ```
 */
export async function get(
  config: ClientConfig,
  path: string,
  options: GetOptions = {},
): Promise<Response> {
  const headers = new Headers(options.headers);
  await setHeaders(config, headers);
  const timeoutMs = options.timeoutMs ?? config.requestTimeoutMs;
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  const timeout = timeoutMs > 0 ? deadline(timeoutMs) : undefined;
  if (timeout) signals.push(timeout.signal);
  let res: Response;
  try {
    res = await config.fetch(config.baseUrl + path, {
      headers,
      signal: signals.length ? AbortSignal.any(signals) : undefined,
    });
  } catch (e) {
    timeout?.clear();
    if (options.signal?.aborted) throw options.signal.reason;
    throw new QmtlClientError(
      "E_UNAVAILABLE",
      timeout?.signal.aborted
        ? `${path}: no answer within ${timeoutMs} ms`
        : `${path}: cannot reach ${config.baseUrl} (${
          e instanceof Error ? e.message : e
        })`,
      { cause: e },
    );
  }
  timeout?.clear(); // the head arrived: the body may stream as long as it likes
  if (res.ok) return res;
  throw await errorFromResponse(res);
}
