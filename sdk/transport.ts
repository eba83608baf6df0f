/**
 * HTTP plumbing of the client: Connect-protocol unary calls with protobuf
 * bodies, the schema-version headers, bearer auth, per-request timeouts,
 * turning error answers into typed errors, and the retry loop for
 * {@link UnavailableError}.
 *
 * @module
 */

import {
  create,
  type DescMessage,
  type MessageInitShape,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import {
  decode,
  type ErrorDetail,
  ErrorDetailSchema,
  SCHEMA_HASH,
  SCHEMA_HASH_HEADER,
  SCHEMA_VERSION,
  SCHEMA_VERSION_HEADER,
} from "./contracts.ts";
import {
  type ClientErrorOptions,
  errorFromCode,
  InternalError,
  type QmtlClientError,
  UnavailableError,
} from "./errors.ts";
import {
  backoffMs,
  parseRetryAfter,
  type RetryOptions,
  sleep,
} from "./retry.ts";

/**
 * What every request needs: where, who, how to retry.
 *
 * @example
 * ```ts
 * import type { TransportConfig } from "./transport.ts";
 * const t: TransportConfig = {
 *   baseUrl: "http://127.0.0.1:8080", token: () => "jwt", fetch: globalThis.fetch,
 *   retry: { maxAttempts: 3, baseMs: 100, maxMs: 1000 }, requestTimeoutMs: 10000,
 *   schemaVersion: "1.0.0", schemaHash: "sha256:…",
 * };
 * ```
 */
export interface TransportConfig {
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
 * import { CLIENT_SCHEMA } from "./transport.ts";
 * CLIENT_SCHEMA.version; // "1.0.0"
 * ```
 */
export const CLIENT_SCHEMA: {
  readonly version: string;
  readonly hash: string;
} = Object.freeze({
  version: SCHEMA_VERSION,
  hash: SCHEMA_HASH,
});

/** Connect error code → QMTL error code, for answers without a QMTL detail. */
const CONNECT_TO_QMTL: Record<string, string> = {
  invalid_argument: "E_INVALID",
  not_found: "E_NOT_FOUND",
  already_exists: "E_CONFLICT",
  aborted: "E_CONFLICT",
  permission_denied: "E_FORBIDDEN",
  unauthenticated: "E_UNAUTHENTICATED",
  resource_exhausted: "E_RATE_LIMITED",
  unavailable: "E_UNAVAILABLE",
  deadline_exceeded: "E_UNAVAILABLE",
  internal: "E_INTERNAL",
  unknown: "E_INTERNAL",
  unimplemented: "E_INTERNAL",
  data_loss: "E_INTERNAL",
};

/** HTTP status → QMTL error code, for answers that are not QMTL errors. */
const STATUS_TO_QMTL: Record<number, string> = {
  400: "E_INVALID",
  401: "E_UNAUTHENTICATED",
  403: "E_FORBIDDEN",
  404: "E_NOT_FOUND",
  409: "E_CONFLICT",
  412: "E_SCHEMA_INCOMPATIBLE",
  413: "E_PAYLOAD_TOO_LARGE",
  422: "E_UNKNOWN_INPUT",
  429: "E_RATE_LIMITED",
  502: "E_UNAVAILABLE",
  503: "E_UNAVAILABLE",
  504: "E_UNAVAILABLE",
};

function b64decode(s: string): Uint8Array {
  const std = s.replace(/-/g, "+").replace(/_/g, "/");
  const padded = std + "=".repeat((4 - (std.length % 4)) % 4);
  const bin = atob(padded);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function detailFrom(raw: unknown): ErrorDetail | undefined {
  if (typeof raw !== "object" || raw === null) return undefined;
  const d = raw as Record<string, unknown>;
  const type = typeof d.type === "string" ? d.type : "";
  if (!type.endsWith("ErrorDetail")) return undefined;
  const dbg = d.debug as Record<string, unknown> | undefined;
  if (dbg && typeof dbg.code === "string") {
    return create(ErrorDetailSchema, {
      code: dbg.code,
      message: typeof dbg.message === "string" ? dbg.message : "",
      field: typeof dbg.field === "string" ? dbg.field : "",
      nodeId: typeof dbg.nodeId === "string"
        ? dbg.nodeId
        : typeof dbg.node_id === "string"
        ? dbg.node_id
        : "",
      details: typeof dbg.details === "object" && dbg.details !== null
        ? Object.fromEntries(
          Object.entries(dbg.details).map(([k, v]) => [k, String(v)]),
        )
        : {},
    });
  }
  if (typeof d.value === "string") {
    try {
      return decode(ErrorDetailSchema, b64decode(d.value));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

function splitList(s: string | undefined): string[] {
  return (s ?? "").split(",").map((x) => x.trim()).filter((x) => x !== "");
}

/**
 * Turn a non-2xx response (a Connect error object, an RFC 9457 problem, or
 * anything else) into the typed error for its QMTL code. Reads the body.
 *
 * @example
 * ```ts
 * import { errorFromResponse } from "./transport.ts";
 * const res = new Response(JSON.stringify({ code: "not_found", message: "[E_NOT_FOUND] no strategy st_1" }), { status: 404 });
 * const e = await errorFromResponse(res);
 * e.name; // "NotFoundError"
 * ```
 */
export async function errorFromResponse(
  res: Response,
): Promise<QmtlClientError> {
  let text = "";
  try {
    text = await res.text();
  } catch {
    // body lost: the status decides
  }
  let body: Record<string, unknown> = {};
  try {
    const parsed = JSON.parse(text);
    if (typeof parsed === "object" && parsed !== null) body = parsed;
  } catch {
    // not JSON
  }
  let detail: ErrorDetail | undefined;
  if (Array.isArray(body.details)) {
    for (const d of body.details) {
      detail = detailFrom(d);
      if (detail) break;
    }
  }
  let message = detail?.message ??
    (typeof body.message === "string"
      ? body.message
      : typeof body.detail === "string"
      ? body.detail
      : typeof body.title === "string"
      ? body.title
      : text.slice(0, 200) || res.statusText || `HTTP ${res.status}`);
  let code = detail?.code;
  if (
    code === undefined && typeof body.code === "string" &&
    /^E_[A-Z_]+$/.test(body.code)
  ) {
    code = body.code; // problem+json carries the QMTL code directly
  }
  const bracket = /^\[(E_[A-Z_]+)\]\s*/.exec(message);
  if (bracket) {
    code ??= bracket[1];
    message = message.slice(bracket[0].length);
  }
  if (code === undefined && typeof body.code === "string") {
    code = CONNECT_TO_QMTL[body.code];
  }
  if (code === undefined || res.status === 412) {
    code = res.status === 412
      ? "E_SCHEMA_INCOMPATIBLE"
      : STATUS_TO_QMTL[res.status] ?? "E_INTERNAL";
  }
  const details: Record<string, string> = { ...(detail?.details ?? {}) };
  if (
    typeof body.details === "object" && body.details !== null &&
    !Array.isArray(body.details)
  ) {
    for (const [k, v] of Object.entries(body.details)) details[k] ??= String(v);
  }
  const options: ClientErrorOptions & {
    accepted?: string[];
    serverVersion?: string;
    retryAfterMs?: number;
  } = { status: res.status };
  const field = detail?.field ||
    (typeof body.field === "string" ? body.field : "");
  const nodeId = detail?.nodeId ||
    (typeof body.nodeId === "string" ? body.nodeId : "");
  if (field) options.field = field;
  if (nodeId) options.nodeId = nodeId;
  if (Object.keys(details).length > 0) options.details = details;
  if (code === "E_SCHEMA_INCOMPATIBLE") {
    options.accepted = splitList(details.accepted);
    if (options.accepted.length === 0) {
      const m = /accepted versions?:\s*(.+)$/i.exec(message);
      if (m) options.accepted = splitList(m[1]);
    }
    const sv = details[SCHEMA_VERSION_HEADER] ??
      res.headers.get(SCHEMA_VERSION_HEADER) ??
      undefined;
    if (sv) options.serverVersion = sv;
  }
  const retryAfter = parseRetryAfter(res.headers.get("retry-after"));
  if (retryAfter !== undefined) options.retryAfterMs = retryAfter;
  return errorFromCode(code, message, options);
}

function isAbort(e: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true ||
    (e instanceof DOMException &&
      (e.name === "AbortError" || e.name === "TimeoutError"));
}

/**
 * Options of {@link request}.
 *
 * @example
 * ```ts
 * import type { RequestOptions } from "./transport.ts";
 * const o: RequestOptions = { method: "GET", headers: { accept: "application/json" } };
 * ```
 */
export interface RequestOptions {
  /** HTTP method; default `GET`. */
  method?: string;
  /** Extra headers. */
  headers?: Record<string, string>;
  /** Request body. */
  body?: Uint8Array<ArrayBuffer>;
  /** Cancels the request (and its retries). */
  signal?: AbortSignal;
  /** Per-attempt timeout; default the config's `requestTimeoutMs`. 0: none. */
  timeoutMs?: number;
}

/**
 * One HTTP request with auth and schema headers. Network failures and
 * per-attempt timeouts become {@link UnavailableError}; error statuses become
 * typed errors. Returns the successful response (body unread). No retry.
 *
 * @example
 * ```ts ignore
 * import { request } from "./transport.ts";
 * declare const config: import("./transport.ts").TransportConfig;
 * const res = await request(config, "/v1/strategies/st_1", { headers: { accept: "application/json" } });
 * ```
 */
export async function request(
  config: TransportConfig,
  path: string,
  options: RequestOptions = {},
): Promise<Response> {
  const headers = new Headers(options.headers);
  headers.set(SCHEMA_VERSION_HEADER, config.schemaVersion);
  headers.set(SCHEMA_HASH_HEADER, config.schemaHash);
  const token = await config.token();
  if (token) headers.set("authorization", `Bearer ${token}`);
  const timeoutMs = options.timeoutMs ?? config.requestTimeoutMs;
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));
  const signal = signals.length === 0 ? undefined : AbortSignal.any(signals);
  let res: Response;
  try {
    res = await config.fetch(config.baseUrl + path, {
      method: options.method ?? "GET",
      headers,
      body: options.body,
      signal,
    });
  } catch (e) {
    if (options.signal?.aborted) throw options.signal.reason;
    if (isAbort(e, signal)) {
      throw new UnavailableError(`${path}: no answer within ${timeoutMs} ms`, {
        cause: e,
      });
    }
    throw new UnavailableError(
      `${path}: cannot reach ${config.baseUrl} (${
        e instanceof Error ? e.message : e
      })`,
      { cause: e },
    );
  }
  if (res.ok) return res;
  throw await errorFromResponse(res);
}

/**
 * Run `attempt` until it succeeds, retrying {@link UnavailableError} with
 * backoff and jitter up to `policy.maxAttempts` attempts in all. The last
 * error gets `attempts` set. Any other error is thrown at once.
 *
 * @param policy the retry policy
 * @param attempt the operation
 * @param signal cancels the waits between attempts
 * @param random jitter source; default `Math.random`
 * @example
 * ```ts
 * import { withRetry } from "./transport.ts";
 * import { UnavailableError } from "./errors.ts";
 * let calls = 0;
 * const v = await withRetry({ maxAttempts: 3, baseMs: 1, maxMs: 5 }, async () => {
 *   if (++calls < 3) throw new UnavailableError("try again");
 *   return "ok";
 * });
 * v; // "ok" after 3 attempts
 * ```
 */
export async function withRetry<T>(
  policy: RetryOptions,
  attempt: (n: number) => Promise<T>,
  signal?: AbortSignal,
  random: () => number = Math.random,
): Promise<T> {
  for (let n = 1;; n++) {
    try {
      return await attempt(n);
    } catch (e) {
      if (!(e instanceof UnavailableError) || n >= policy.maxAttempts) {
        if (e instanceof UnavailableError) e.attempts = n;
        throw e;
      }
      await sleep(backoffMs(n, policy, e.retryAfterMs, random), signal);
    }
  }
}

/**
 * A Connect unary call: POST `/qmtl.v1.GatewayService/<method>` with a
 * binary protobuf body, decoded reply, typed errors, retried while
 * unavailable.
 *
 * @param config transport configuration
 * @param method RPC method name, e.g. `"GetStrategy"`
 * @param requestType request message name
 * @param message the request
 * @param responseType response message name
 * @param signal cancels the call
 * @example
 * ```ts ignore
 * import { unaryCall } from "./transport.ts";
 * declare const config: import("./transport.ts").TransportConfig;
 * const status = await unaryCall(config, "GetStrategy", "GetStrategyRequest", { strategyId: "st_1" }, "StrategyStatus");
 * ```
 */
export function unaryCall<Req extends DescMessage, Res extends DescMessage>(
  config: TransportConfig,
  method: string,
  requestType: Req,
  message: MessageInitShape<Req>,
  responseType: Res,
  signal?: AbortSignal,
): Promise<MessageShape<Res>> {
  const body = new Uint8Array(
    toBinary(requestType, create(requestType, message)),
  );
  return withRetry(config.retry, async () => {
    const res = await request(config, `/qmtl.v1.GatewayService/${method}`, {
      method: "POST",
      headers: {
        "content-type": "application/proto",
        "accept": "application/proto",
        "connect-protocol-version": "1",
      },
      body,
      ...(signal ? { signal } : {}),
    });
    const bytes = new Uint8Array(await res.arrayBuffer());
    const type = res.headers.get("content-type") ?? "";
    if (!type.startsWith("application/proto")) {
      throw new InternalError(
        `${method}: expected application/proto, got ${JSON.stringify(type)}`,
        { status: res.status },
      );
    }
    try {
      return decode(responseType, bytes);
    } catch (e) {
      throw new InternalError(
        `${method}: malformed ${responseType.name}: ${(e as Error).message}`,
        {
          status: res.status,
          cause: e,
        },
      );
    }
  }, signal);
}
