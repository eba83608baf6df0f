/**
 * `serveGateway(handler, options)`: an HTTP server for the gateway (or any
 * fetch-style handler) that a misbehaving client cannot stop. `Deno.serve`
 * has no read timeouts, no connection cap, and ends its accept loop (and,
 * with an unhandled `finished`, the process) on `EMFILE`. This server owns
 * the accept loop and hands each accepted connection to Deno's HTTP engine
 * (see `engine.ts`), adding:
 *
 * - **header timeout**: a new connection whose first request head is not
 *   complete within `headerTimeoutMs` is closed (slowloris);
 * - **no draining of unread bodies**: an answer to a request with a body
 *   that carries `Connection: close` (the gateway sets it when it answers
 *   without reading the body, e.g. a 401) closes the connection once the
 *   answer is handed over, so the rest of the body is never read;
 * - **body timeouts**: a request body is failed with
 *   {@linkcode BodyTimeoutError} and answered `408` (then the connection is
 *   closed) when it is not complete `bodyTimeoutMs` after the handler's first
 *   read, or when a read waits `idleTimeoutMs` without a byte;
 * - **idle timeout**: a keep-alive connection with no request in flight for
 *   `idleTimeoutMs` is closed (between requests the next head must be
 *   complete within this time);
 * - **connection cap**: over `maxConnections` open connections a new one is
 *   answered at once with `503` + `Connection: close` + `Retry-After: 1`
 *   without reading its request, and closed — a clear, retryable answer that
 *   costs one write — while the connections already open are served;
 * - **no exit on resource exhaustion**: accept errors (`EMFILE`, `ENFILE`,
 *   …) are logged (rate-limited), counted, and retried with a backoff from
 *   10 ms to 1 s; on `EMFILE`/`ENFILE` the oldest connections that have no
 *   request in flight (waiting for a head, or idle) are closed first to free
 *   descriptors;
 * - **graceful shutdown**: `shutdown()` stops accepting, closes connections
 *   with no request in flight, lets in-flight requests finish and closes
 *   their connections after the response was handed over, and force-closes
 *   whatever is left after `shutdownTimeoutMs`.
 *
 * Deadlines are checked by one sweep timer per server (a quarter of the
 * shortest timeout, between 10 ms and 1 s), not a timer per request: a
 * timeout fires within 1.25× its value.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveGateway } from "@qmtl/qmtl/gateway";
 * const server = serveGateway(() => new Response("ok"), {
 *   hostname: "127.0.0.1",
 *   port: 0,
 *   headerTimeoutMs: 5_000,
 * });
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(await res.text(), "ok");
 * await server.shutdown();
 * ```
 *
 * @module
 */

import type { Logger } from "../logger/mod.ts";
import type { Metrics } from "../metrics/mod.ts";
import { type BodyWatch, watchBody } from "./body_watch.ts";
import {
  type ConnHandler,
  type ConnRequestInfo,
  type ConnSession,
  type EngineName,
  selectEngine,
} from "./engine.ts";
import { refuseConnection } from "./refuse.ts";

export { BodyTimeoutError } from "./body_watch.ts";
export type { ConnRequestInfo, EngineName } from "./engine.ts";

/** Default {@linkcode ServeGatewayOptions.headerTimeoutMs}. */
export const DEFAULT_HEADER_TIMEOUT_MS = 10_000;
/** Default {@linkcode ServeGatewayOptions.bodyTimeoutMs}. */
export const DEFAULT_BODY_TIMEOUT_MS = 60_000;
/** Default {@linkcode ServeGatewayOptions.idleTimeoutMs}. */
export const DEFAULT_IDLE_TIMEOUT_MS = 15_000;
/**
 * Default {@linkcode ServeGatewayOptions.maxConnections}. Deno raises its
 * soft open-file limit to the hard one at start (`ulimit -Hn`, usually far
 * above this); with a lower limit, set the cap below it.
 */
export const DEFAULT_MAX_CONNECTIONS = 1024;
/** Default {@linkcode ServeGatewayOptions.shutdownTimeoutMs}. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/** After its last response was handed over, a closing connection lingers this long (flush). */
const CLOSE_GRACE_MS = 500;
/** A connection whose body timed out is force-closed at the latest this long after. */
const BODY_TIMEOUT_CLOSE_MS = 5_000;
/** Refusals in progress at once; beyond, a connection over the cap is just closed. */
const MAX_REFUSING = 64;
/** Connections closed per `EMFILE`/`ENFILE` accept error. */
const SHED_BATCH = 8;
/** One warning per kind per this period. */
const WARN_EVERY_MS = 5_000;

/**
 * A request handler for {@linkcode serveGateway}: the same shape as
 * `Deno.serve`'s (a Hono app's `fetch` fits).
 *
 * @example
 * ```ts
 * import type { GatewayHandler } from "@qmtl/qmtl/gateway";
 * const h: GatewayHandler = (req) => new Response(new URL(req.url).pathname);
 * ```
 */
export type GatewayHandler = (
  request: Request,
  info: ConnRequestInfo,
) => Response | Promise<Response>;

/**
 * Options of {@linkcode serveGateway}.
 *
 * @example
 * ```ts
 * import type { ServeGatewayOptions } from "@qmtl/qmtl/gateway";
 * const o: ServeGatewayOptions = { port: 8080, maxConnections: 2048 };
 * ```
 */
export interface ServeGatewayOptions {
  /** Interface to bind; default `127.0.0.1`. */
  hostname?: string;
  /** TCP port; default 8080 (0 picks a free one). */
  port?: number;
  /** A new connection's first request head must be complete within this, ms; default 10000. */
  headerTimeoutMs?: number;
  /** A request body must be complete this long after the handler's first read, ms; default 60000. */
  bodyTimeoutMs?: number;
  /**
   * Longest client silence, ms: a body read waiting for bytes, or a
   * keep-alive connection with no request in flight; default 15000.
   */
  idleTimeoutMs?: number;
  /**
   * Open connections above which a new one is refused (503); default 1024.
   * Keep it below the open-file limit (the descriptors left are the
   * backends'); above it the server still survives `EMFILE` (see above).
   */
  maxConnections?: number;
  /** Graceful shutdown waits this long for in-flight requests, ms; default 10000. */
  shutdownTimeoutMs?: number;
  /** Aborting it shuts the server down gracefully. */
  signal?: AbortSignal;
  /** Called once listening. */
  onListen?: (addr: Deno.NetAddr) => void;
  /** Response for a handler that threw; default: log and answer 500. */
  onError?: (error: unknown) => Response | Promise<Response>;
  /** Accept errors, refusals and shedding are logged here (rate-limited). */
  logger?: Pick<Logger, "warn" | "error">;
  /** Counters and gauges `qmtl_http_*` are registered here. */
  metrics?: Metrics;
  /** HTTP engine; default `auto` (see `engine.ts`). */
  engine?: EngineName | "auto";
}

/**
 * Counters and current state of a {@linkcode GatewayServer}.
 *
 * @example
 * ```ts
 * import type { ServeStats } from "@qmtl/qmtl/gateway";
 * const busy = (s: ServeStats) => s.connections > 0.9 * s.maxConnections;
 * ```
 */
export interface ServeStats {
  /** Open connections (counted against the cap). */
  connections: number;
  /** … of which waiting for their first request head. */
  awaitingHead: number;
  /** … of which with a request in flight. */
  active: number;
  /** … of which idle between requests. */
  idle: number;
  /** The cap. */
  maxConnections: number;
  /** Connections accepted and served since start. */
  accepted: number;
  /** Connections refused over the cap. */
  refused: number;
  /** Connections closed to free descriptors on `EMFILE`/`ENFILE`. */
  shed: number;
  /** Connections closed by the header timeout. */
  headerTimeouts: number;
  /** Request bodies failed by a body deadline. */
  bodyTimeouts: number;
  /** Keep-alive connections closed by the idle timeout. */
  idleTimeouts: number;
  /** Failed `accept` calls. */
  acceptErrors: number;
}

/**
 * A running {@linkcode serveGateway} server.
 *
 * @example
 * ```ts
 * import type { GatewayServer } from "@qmtl/qmtl/gateway";
 * const url = (s: GatewayServer) => `http://127.0.0.1:${s.addr.port}`;
 * ```
 */
export interface GatewayServer extends AsyncDisposable {
  /** The bound address. */
  readonly addr: Deno.NetAddr;
  /** The HTTP engine in use. */
  readonly engine: EngineName;
  /** The connection cap in force. */
  readonly maxConnections: number;
  /** Settles when the server has shut down. */
  readonly finished: Promise<void>;
  /** Counters and current state. */
  stats(): ServeStats;
  /** Graceful shutdown (see the module doc); idempotent. */
  shutdown(): Promise<void>;
}

const HEAD = 0;
const ACTIVE = 1;
const IDLE = 2;

class Tracked {
  phase: 0 | 1 | 2 = HEAD;
  /** Accept time (HEAD) or time the last response was handed over (IDLE). */
  since: number;
  active = 0;
  closing = false;
  closed = false;
  hardDeadline = Infinity;
  bodies: Set<BodyWatch> | undefined;
  session!: ConnSession;
  constructor(now: number) {
    this.since = now;
  }
  readonly end = (): void => {
    if (--this.active === 0) {
      this.phase = IDLE;
      this.since = Date.now();
      this.bodies?.clear();
    }
  };
}

function isFdExhaustion(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === "EMFILE" || code === "ENFILE") return true;
  return /os error (23|24)\b/.test(String((e as Error)?.message));
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x <= 0) {
    throw new RangeError(`serveGateway: ${name} must be > 0 (got ${v})`);
  }
  return x;
}

function timeoutResponse(message: string): Response {
  return new Response(message + "\n", {
    status: 408,
    headers: {
      "content-type": "text/plain; charset=utf-8",
      connection: "close",
    },
  });
}

/**
 * Serve `handler` with read timeouts, a connection cap and no exit on
 * resource exhaustion (see the module doc). Throws at once when the address
 * cannot be bound.
 *
 * @param handler the request handler (e.g. `gateway.app.fetch`)
 * @param options address, timeouts, cap, logger, metrics
 * @throws {Deno.errors.AddrInUse} and other `Deno.listen` errors
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveGateway } from "@qmtl/qmtl/gateway";
 * const server = serveGateway(() => new Response("ok"), { port: 0 });
 * assert.equal(server.engine, "deno-serve");
 * const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
 * assert.equal(res.status, 200);
 * await res.body?.cancel();
 * await server.shutdown();
 * ```
 */
export function serveGateway(
  handler: GatewayHandler,
  options: ServeGatewayOptions = {},
): GatewayServer {
  const headerMs = positive(
    "headerTimeoutMs",
    options.headerTimeoutMs,
    DEFAULT_HEADER_TIMEOUT_MS,
  );
  const bodyMs = positive(
    "bodyTimeoutMs",
    options.bodyTimeoutMs,
    DEFAULT_BODY_TIMEOUT_MS,
  );
  const idleMs = positive(
    "idleTimeoutMs",
    options.idleTimeoutMs,
    DEFAULT_IDLE_TIMEOUT_MS,
  );
  const shutdownMs = positive(
    "shutdownTimeoutMs",
    options.shutdownTimeoutMs,
    DEFAULT_SHUTDOWN_TIMEOUT_MS,
  );
  const maxConnections = Math.floor(positive(
    "maxConnections",
    options.maxConnections,
    DEFAULT_MAX_CONNECTIONS,
  ));
  const engine = selectEngine(options.engine ?? "auto");
  const logger = options.logger;
  const onError = options.onError ?? ((error: unknown) => {
    logger?.error("request handler failed", { error });
    return new Response("internal server error\n", { status: 500 });
  });

  const listener = Deno.listen({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 8080,
    transport: "tcp",
  });

  // ---- counters -------------------------------------------------------------
  const stats = {
    accepted: 0,
    refused: 0,
    shed: 0,
    headerTimeouts: 0,
    bodyTimeouts: 0,
    idleTimeouts: 0,
    acceptErrors: 0,
  };
  const m = options.metrics;
  const bump = {
    refused: m?.counterSeries(
      "qmtl_http_connections_refused_total",
      "Connections refused (503) over the connection cap.",
    ),
    shed: m?.counterSeries(
      "qmtl_http_connections_shed_total",
      "Connections without a request in flight closed to free descriptors on EMFILE/ENFILE.",
    ),
    headerTimeouts: m?.counterSeries(
      "qmtl_http_timeouts_total",
      "Connections or request bodies cut by a read deadline.",
      { phase: "header" },
    ),
    bodyTimeouts: m?.counterSeries(
      "qmtl_http_timeouts_total",
      "Connections or request bodies cut by a read deadline.",
      { phase: "body" },
    ),
    idleTimeouts: m?.counterSeries(
      "qmtl_http_timeouts_total",
      "Connections or request bodies cut by a read deadline.",
      { phase: "idle" },
    ),
    acceptErrors: m?.counterSeries(
      "qmtl_http_accept_errors_total",
      "Failed accept calls (retried with backoff).",
    ),
  };
  const count = (k: keyof typeof bump) => {
    stats[k]++;
    bump[k]?.();
  };
  const lastWarn = new Map<string, { at: number; suppressed: number }>();
  const warn = (kind: string, msg: string, fields: Record<string, unknown>) => {
    const now = Date.now();
    const w = lastWarn.get(kind);
    if (w && now - w.at < WARN_EVERY_MS) {
      w.suppressed++;
      return;
    }
    logger?.warn(msg, { ...fields, suppressed: w?.suppressed ?? 0 });
    lastWarn.set(kind, { at: now, suppressed: 0 });
  };

  // ---- connections ----------------------------------------------------------
  const conns = new Set<Tracked>();
  const refusals = new Set<Promise<void>>();

  const closeConn = (t: Tracked) => {
    if (t.closed) return;
    t.closed = true;
    t.session.close();
  };

  const track = (conn: Deno.TcpConn) => {
    const t = new Tracked(Date.now());
    conns.add(t);
    stats.accepted++;
    const onBody = async (
      req: Request,
      info: ConnRequestInfo,
    ): Promise<Response> => {
      const { request, watch, abort } = watchBody(req);
      (t.bodies ??= new Set()).add(watch);
      info.completed.then(undefined, abort);
      let res: Response | undefined;
      try {
        res = await handler(request, info);
      } catch (e) {
        if (!watch.timedOut) throw e;
      }
      if (watch.timedOut) {
        await res?.body?.cancel().catch(() => {});
        t.closing = true;
        t.hardDeadline = Math.min(
          t.hardDeadline,
          Date.now() + BODY_TIMEOUT_CLOSE_MS,
        );
        return timeoutResponse(watch.timedOut.message);
      }
      // An answer that says `Connection: close` (e.g. a refusal given
      // without reading the body): the connection is closed once the answer
      // is handed over, instead of the engine draining the rest of a body
      // nobody reads.
      if (/\bclose\b/i.test(res!.headers.get("connection") ?? "")) {
        t.closing = true;
        t.hardDeadline = Math.min(
          t.hardDeadline,
          Date.now() + BODY_TIMEOUT_CLOSE_MS,
        );
      }
      return res!;
    };
    const serve: ConnHandler = (req, info) => {
      t.active++;
      t.phase = ACTIVE;
      info.completed.then(t.end, t.end);
      const method = req.method;
      if (method !== "GET" && method !== "HEAD" && req.body !== null) {
        return onBody(req, info);
      }
      if (
        req.headers.has("transfer-encoding") ||
        (req.headers.get("content-length") ?? "0") !== "0"
      ) {
        // A GET/HEAD with a body (which the engine hides from the handler):
        // answered, then closed, never drained.
        t.closing = true;
        t.hardDeadline = Math.min(
          t.hardDeadline,
          Date.now() + BODY_TIMEOUT_CLOSE_MS,
        );
      }
      return handler(req, info);
    };
    t.session = engine.open(conn, serve, onError);
    t.session.finished.then(() => {
      t.closed = true;
      conns.delete(t);
    });
  };

  /** Close up to `n` connections without a request in flight, oldest first. */
  const shed = (n: number): number => {
    let closed = 0;
    for (const phase of [HEAD, IDLE]) {
      for (const t of conns) {
        if (closed >= n) return closed;
        if (t.closed || t.phase !== phase) continue;
        closeConn(t);
        count("shed");
        closed++;
      }
    }
    return closed;
  };

  const sweep = () => {
    const now = Date.now();
    for (const t of conns) {
      if (t.closed) continue;
      if (t.closing && now >= t.hardDeadline) {
        closeConn(t);
        continue;
      }
      if (t.phase === HEAD) {
        if (t.closing) closeConn(t);
        else if (now - t.since >= headerMs) {
          count("headerTimeouts");
          closeConn(t);
        }
      } else if (t.phase === IDLE) {
        if (t.closing) {
          if (now - t.since >= CLOSE_GRACE_MS) closeConn(t);
        } else if (now - t.since >= idleMs) {
          count("idleTimeouts");
          closeConn(t);
        }
      } else if (t.bodies !== undefined && t.bodies.size > 0) {
        for (const w of t.bodies) {
          if (w.done) {
            t.bodies.delete(w);
            continue;
          }
          const e = w.expired(now, bodyMs, idleMs);
          if (e) {
            count("bodyTimeouts");
            w.fail(e);
            t.bodies.delete(w);
          }
        }
      }
    }
  };
  const tickMs = Math.max(
    10,
    Math.min(1000, Math.min(headerMs, bodyMs, idleMs) / 4),
  );
  let sweeper = setInterval(sweep, tickMs);

  m?.gauge(
    "qmtl_http_connections",
    "Open HTTP connections by state (waiting for a head, request in flight, idle).",
    () => {
      const s = snapshot();
      return [
        { labels: { state: "head" }, value: s.awaitingHead },
        { labels: { state: "active" }, value: s.active },
        { labels: { state: "idle" }, value: s.idle },
      ];
    },
  );

  // ---- accept loop ----------------------------------------------------------
  let stopping = false;
  let wake: (() => void) | undefined;
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  const acceptLoop = (async () => {
    let backoff = 0;
    while (!stopping) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
        backoff = 0;
      } catch (e) {
        if (
          stopping || e instanceof Deno.errors.BadResource ||
          e instanceof Deno.errors.Interrupted
        ) break;
        count("acceptErrors");
        const freed = isFdExhaustion(e) ? shed(SHED_BATCH) : 0;
        backoff = freed > 0
          ? 10
          : Math.min(1000, backoff === 0 ? 10 : backoff * 2);
        warn("accept", "http accept failed; retrying", {
          error: e,
          code: (e as { code?: unknown })?.code,
          connections: conns.size,
          shed: freed,
          retryInMs: backoff,
        });
        await pause(backoff);
        continue;
      }
      if (conns.size >= maxConnections) {
        count("refused");
        warn("cap", "http connection cap reached; refusing with 503", {
          maxConnections,
        });
        if (refusals.size < MAX_REFUSING) {
          const p = refuseConnection(conn);
          refusals.add(p);
          p.finally(() => refusals.delete(p));
        } else {
          try {
            conn.close();
          } catch {
            // already closed
          }
        }
        continue;
      }
      try {
        track(conn);
      } catch (e) {
        warn("serve", "http connection could not be served", { error: e });
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
    }
  })();

  // ---- shutdown -------------------------------------------------------------
  let stopped: Promise<void> | undefined;
  const { promise: finished, resolve: resolveFinished } = Promise
    .withResolvers<void>();
  const shutdown = (): Promise<void> => {
    stopped ??= (async () => {
      stopping = true;
      try {
        listener.close();
      } catch {
        // already closed
      }
      wake?.();
      await acceptLoop;
      const now = Date.now();
      const deadline = now + shutdownMs;
      for (const t of conns) {
        t.closing = true;
        t.hardDeadline = Math.min(t.hardDeadline, deadline);
        if (
          t.phase === HEAD ||
          (t.phase === IDLE && now - t.since >= CLOSE_GRACE_MS)
        ) closeConn(t);
      }
      clearInterval(sweeper);
      sweeper = setInterval(sweep, 25);
      await Promise.all(
        [...conns].map((t) => t.session.finished),
      );
      await Promise.all([...refusals]);
      clearInterval(sweeper);
      resolveFinished();
    })();
    return stopped;
  };
  if (options.signal?.aborted) shutdown().catch(() => {});
  else {
    options.signal?.addEventListener("abort", () => {
      shutdown().catch(() => {});
    }, { once: true });
  }

  function snapshot(): ServeStats {
    let awaitingHead = 0, active = 0, idle = 0;
    for (const t of conns) {
      if (t.phase === HEAD) awaitingHead++;
      else if (t.phase === ACTIVE) active++;
      else idle++;
    }
    return {
      connections: conns.size,
      awaitingHead,
      active,
      idle,
      maxConnections,
      ...stats,
    };
  }

  const addr = listener.addr;
  options.onListen?.(addr);
  return {
    addr,
    engine: engine.name,
    maxConnections,
    finished,
    stats: snapshot,
    shutdown,
    [Symbol.asyncDispose]: shutdown,
  };
}
