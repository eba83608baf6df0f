/**
 * Structured JSON logging: one line per request plus component messages.
 * Values of keys that look like credentials (`authorization`, `token`,
 * `secret`, `password`, `cookie`) are replaced by `"<redacted>"`, and the
 * request log never includes headers or query strings.
 *
 * @module
 */

import type { GatewayContext } from "../types.ts";
import { type QueueWorkerOptions, RetryJobError } from "../../queue/worker.ts";
import { type BufferedSink, bufferedSink } from "./buffered_sink.ts";

export {
  type BufferedSink,
  bufferedSink,
  type BufferedSinkOptions,
  type SinkTarget,
} from "./buffered_sink.ts";

/**
 * Log severity.
 *
 * @example
 * ```ts
 * import type { LogLevel } from "@qmtl/qmtl/gateway";
 * const l: LogLevel = "info";
 * ```
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

/**
 * A structured log record before serialisation.
 *
 * @example
 * ```ts
 * import type { LogRecord } from "@qmtl/qmtl/gateway";
 * const r: LogRecord = { level: "info", msg: "listening", time: new Date().toISOString() };
 * ```
 */
export interface LogRecord {
  /** Severity. */
  level: LogLevel;
  /** Short message. */
  msg: string;
  /** ISO time. */
  time: string;
  /** Any other fields. */
  [field: string]: unknown;
}

/**
 * A JSON logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "@qmtl/qmtl/gateway";
 * const log = createLogger({ level: "info" });
 * log.info("started", { port: 8080 });
 * ```
 */
export interface Logger {
  /** Debug detail. */
  debug(msg: string, fields?: Record<string, unknown>): void;
  /** Normal operation. */
  info(msg: string, fields?: Record<string, unknown>): void;
  /** Something to look at. */
  warn(msg: string, fields?: Record<string, unknown>): void;
  /** A failure. */
  error(msg: string, fields?: Record<string, unknown>): void;
  /**
   * False when records of `level` are dropped, so callers can skip building
   * them (optional; absent means "maybe").
   */
  enabled?(level: LogLevel): boolean;
  /** Write out buffered lines (graceful shutdown); optional. */
  flush?(): Promise<void>;
}

/**
 * Options of {@link createLogger}.
 *
 * @example
 * ```ts
 * import type { LoggerOptions } from "@qmtl/qmtl/gateway";
 * const lines: string[] = [];
 * const o: LoggerOptions = { level: "debug", sink: (line) => lines.push(line) };
 * ```
 */
export interface LoggerOptions {
  /** Minimum level written; default `info`. */
  level?: LogLevel;
  /**
   * Where JSON lines go; default stdout through one process-wide buffered
   * sink (`buffered_sink.ts`): lines are written in chunks off the request
   * path, flushed within 25 ms, by `flush()`, and at exit.
   */
  sink?: (line: string) => void;
  /** Fields added to every record (e.g. `{component: "gateway"}`). */
  base?: Record<string, unknown>;
}

const ORDER: Record<LogLevel, number> = {
  debug: 10,
  info: 20,
  warn: 30,
  error: 40,
};
const SECRET_KEY =
  /authorization|token|secret|password|passwd|cookie|api[-_]?key/i;

/**
 * Replace credential-looking values (by key name, at any depth ≤ 4) with
 * `"<redacted>"`, and turn errors into `{name, message}`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { redact } from "@qmtl/qmtl/gateway";
 * assert.deepEqual(redact({ token: "abc", n: 1 }), { token: "<redacted>", n: 1 });
 * ```
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  if (depth > 4 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const k in value) {
    if (!Object.hasOwn(value, k)) continue;
    const v = (value as Record<string, unknown>)[k];
    out[k] = isSecretKey(k) ? "<redacted>" : redact(v, depth + 1);
  }
  return out;
}

// Field names are code-defined and few: remember the verdict per name
// (bounded, in case a caller logs data-derived keys).
const SECRET_VERDICT = new Map<string, boolean>();
function isSecretKey(k: string): boolean {
  let v = SECRET_VERDICT.get(k);
  if (v === undefined) {
    v = SECRET_KEY.test(k);
    if (SECRET_VERDICT.size < 1024) SECRET_VERDICT.set(k, v);
  }
  return v;
}

// `,"key":` per field name, or null for a credential-looking name.
const KEY_PREFIX = new Map<string, string | null>();
function keyPrefix(k: string): string | null {
  let p = KEY_PREFIX.get(k);
  if (p === undefined) {
    p = isSecretKey(k) ? null : `,${JSON.stringify(k)}:`;
    if (KEY_PREFIX.size < 1024) KEY_PREFIX.set(k, p);
  }
  return p;
}

/**
 * Build a JSON logger.
 *
 * @example
 * ```ts
 * import { createLogger } from "@qmtl/qmtl/gateway";
 * const log = createLogger({ sink: () => {} });
 * log.warn("slow", { ms: 1200 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = ORDER[options.level ?? "info"];
  const buffered = options.sink ? undefined : stdoutSink();
  const sink = options.sink ?? ((line: string) => buffered!.write(line));
  const base = options.base ?? {};
  // The base fields never change: serialise them once and append them to
  // every line (unless a record's own field has the same name).
  const baseKeys = new Set(Object.keys(base));
  const baseJson = baseKeys.size === 0
    ? ""
    : "," + JSON.stringify(redact(base)).slice(1, -1);
  // Many records share a millisecond under load: format the time once per ms.
  let lastMs = -1;
  let lastIso = "";
  const write = (
    level: LogLevel,
    msg: string,
    fields?: Record<string, unknown>,
  ) => {
    if (ORDER[level] < min) return;
    const now = Date.now();
    if (now !== lastMs) {
      lastMs = now;
      lastIso = new Date(now).toISOString();
    }
    // The line is written out directly (no intermediate record object):
    // strings and nested values go through JSON.stringify, numbers and
    // booleans are inlined, undefined fields are left out.
    let line = `{"time":"${lastIso}","level":"${level}","msg":${
      JSON.stringify(msg)
    }`;
    let clash = false;
    if (fields) {
      for (const k in fields) {
        if (!Object.hasOwn(fields, k)) continue;
        const v = fields[k];
        if (v === undefined || typeof v === "function") continue;
        if (baseKeys.has(k) || k === "time" || k === "level" || k === "msg") {
          clash = true;
        }
        const key = keyPrefix(k);
        if (key === null) {
          line += `,${JSON.stringify(k)}:"<redacted>"`;
        } else if (typeof v === "string") {
          line += key + JSON.stringify(v);
        } else if (typeof v === "number") {
          line += key + (Number.isFinite(v) ? String(v) : "null");
        } else if (typeof v === "boolean") {
          line += key + (v ? "true" : "false");
        } else {
          line += key + (JSON.stringify(redact(v, 1)) ?? "null");
        }
      }
    }
    if (!clash) {
      sink(line + baseJson + "}");
    } else {
      // A field shadows a base or record field: rebuild through an object
      // so the field wins and no key appears twice.
      const rec = JSON.parse(line + "}") as Record<string, unknown>;
      sink(JSON.stringify({ ...base, ...rec }));
    }
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    enabled: (level) => ORDER[level] >= min,
    flush: () => buffered?.flush() ?? Promise.resolve(),
  };
}

let sharedSink: BufferedSink | undefined;

/**
 * Log lines the process-wide stdout sink of the default loggers dropped
 * because stdout could not keep up (its buffer was full); 0 before the
 * first default logger writes.
 *
 * @example
 * ```ts
 * import { droppedLogLines } from "@qmtl/qmtl/gateway";
 * import assert from "node:assert/strict";
 * assert.ok(droppedLogLines() >= 0);
 * ```
 */
export function droppedLogLines(): number {
  return sharedSink?.dropped ?? 0;
}

/** The process-wide buffered stdout sink of the default loggers (lazily made). */
function stdoutSink(): BufferedSink {
  return sharedSink ??= bufferedSink();
}

/**
 * Called once per finished request with its route, status and duration
 * (the metrics hook).
 *
 * @example
 * ```ts
 * import type { RequestObserver } from "./mod.ts";
 * const o: RequestObserver = (route, method, status, seconds) => console.log(route, status, seconds);
 * ```
 */
export type RequestObserver = (
  route: string,
  method: string,
  status: number,
  seconds: number,
) => void;

/**
 * The request log: given the context, the final status and the
 * `performance.now()` at which the request started, calls `observe` and
 * writes one `request` record (method, path without query string, route,
 * status, duration, subject, request id; 2xx/3xx at `debug` unless
 * `logSuccess`). The last step of the gateway's per-route pipeline.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import type { GatewayEnv } from "@qmtl/qmtl/gateway";
 * import { createLogger, requestLogWriter } from "./mod.ts";
 * const done = requestLogWriter({ logger: createLogger() });
 * const app = new Hono<GatewayEnv>();
 * app.get("/", (c) => {
 *   const res = c.text("ok");
 *   done(c, res.status, performance.now());
 *   return res;
 * });
 * ```
 */
export function requestLogWriter(options: {
  logger: Logger;
  observe?: RequestObserver;
  logSuccess?: boolean;
}): (c: GatewayContext, status: number, start: number) => void {
  const { logger, observe } = options;
  const logSuccess = options.logSuccess ?? true;
  return (c, status, start) => {
    const seconds = (performance.now() - start) / 1000;
    const route = c.get("routeId") ?? "unmatched";
    observe?.(route, c.req.method, status, seconds);
    // Successful probes and scrapes (`/healthz`, `/readyz`, `/metrics`,
    // `/openapi.json`: the operational routes) are routine: logged at
    // debug, like every success when `logSuccess` is false.
    const level: LogLevel = status >= 500
      ? "error"
      : status >= 400
      ? "warn"
      : logSuccess && c.get("apiKind") !== "ops"
      ? "info"
      : "debug";
    if (logger.enabled?.(level) === false) return;
    logger[level]("request", {
      requestId: c.get("requestId"),
      method: c.req.method,
      path: c.req.path,
      route,
      status,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      subject: c.get("principal")?.subject,
    });
  };
}

/**
 * The `onError` / `onFailed` callbacks of one of the gateway's queue workers
 * (the diff worker, webhook delivery): a failed lease is logged at `warn`
 * (the first and every 20th, as the worker retries with backoff), a failed
 * lease extension or settle at `warn` (`job settle failed`: another worker
 * may run the job again), a handler's unexpected error at `error` (a
 * {@link RetryJobError} is an expected outcome and is not logged), and a
 * dead-lettered job at `warn`.
 *
 * @example
 * ```ts
 * import { QueueWorker } from "@qmtl/qmtl/queue";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * import { createLogger } from "@qmtl/qmtl/gateway";
 * import { workerLogging } from "./mod.ts";
 * const w = new QueueWorker(new MemoryQueue(), () => {}, {
 *   ...workerLogging(createLogger({ sink: () => {} }), "demo"),
 * });
 * w.start();
 * await w.stop();
 * ```
 */
export function workerLogging(
  logger: Logger | undefined,
  worker: string,
): Required<Pick<QueueWorkerOptions, "onError" | "onFailed">> {
  let leaseErrors = 0;
  return {
    onError(error, job) {
      if (job === undefined) {
        leaseErrors++;
        if (leaseErrors === 1 || leaseErrors % 20 === 0) {
          logger?.warn("queue lease failed", { worker, error });
        }
        return;
      }
      logger?.warn("job settle failed", { worker, jobId: job.id, error });
    },
    onFailed(job, error, result) {
      if (!(error instanceof RetryJobError)) {
        logger?.error("job handler failed", { worker, jobId: job.id, error });
      }
      if (result.state === "dead") {
        logger?.warn("job dead-lettered", {
          worker,
          jobId: job.id,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    },
  };
}
