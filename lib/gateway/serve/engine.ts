/**
 * HTTP engines that serve one accepted TCP connection: the part of
 * {@linkcode serveGateway} that parses HTTP. The accept loop, the deadlines
 * and the connection cap live in `mod.ts`; an engine only has to call the
 * handler for each request, report when each response was handed to the
 * socket (`completed`), and close the connection on demand without ever
 * throwing.
 *
 * Deno 2.9 has no public API that serves HTTP on a connection the program
 * accepted itself (`Deno.serve` owns its accept loop; denoland/deno#3515
 * asks for timeouts). Two runtime entry points do it:
 *
 * - `deno-serve` (preferred): `serveHttpOnConnection`, the function behind
 *   `Deno.serve` applied to one connection (reached through
 *   `Deno[Deno.internal]`; Deno's own unit tests use it and its namespace
 *   keeps it reachable from user code). Same HTTP/1.1 and HTTP/2 code as
 *   `Deno.serve`, same speed.
 * - `serve-http` (fallback): the deprecated `Deno.serveHttp(conn)` (the
 *   older hyper-based server; still present at run time, no longer typed).
 *   Slower (see bench/README.md), same protections.
 *
 * `selectEngine("auto")` picks the first one present; a test pins that the
 * preferred one is in use on the supported Deno, so an upgrade that removes
 * it is noticed.
 *
 * @module
 */

/** Name of an HTTP engine. */
export type EngineName = "deno-serve" | "serve-http";

/** What the handler learns about a request besides the request itself. */
export interface ConnRequestInfo {
  /** The client's address. */
  readonly remoteAddr: Deno.NetAddr;
  /**
   * Settles when the response has been handed to the connection (resolves)
   * or could not be sent (rejects). A large static body may still be in
   * flight to the client when it resolves.
   */
  readonly completed: Promise<void>;
}

/** A request handler as the engines call it. */
export type ConnHandler = (
  request: Request,
  info: ConnRequestInfo,
) => Response | Promise<Response>;

/** One connection being served. */
export interface ConnSession {
  /** Settles when the connection is closed (never rejects). */
  readonly finished: Promise<void>;
  /** Close the connection now, in-flight requests included. Idempotent, never throws. */
  close(): void;
}

/** Serves connections with one HTTP implementation. */
export interface Engine {
  /** Which implementation. */
  readonly name: EngineName;
  /** Serve `conn` with `handler` until it closes or `close()` is called. */
  open(
    conn: Deno.TcpConn,
    handler: ConnHandler,
    onError: (error: unknown) => Response | Promise<Response>,
  ): ConnSession;
}

type ServeOnConnection = (
  conn: Deno.Conn,
  signal: unknown,
  handler: ConnHandler,
  onError: (error: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => { finished: Promise<void> };

function internalServeOnConnection(): ServeOnConnection | undefined {
  const ns = Deno as unknown as Record<PropertyKey, unknown>;
  const key = ns.internal;
  if (typeof key !== "symbol") return undefined;
  const internals = ns[key] as Record<string, unknown> | undefined;
  const f = internals?.serveHttpOnConnection;
  return typeof f === "function" && f.length === 5
    ? f as ServeOnConnection
    : undefined;
}

const noop = () => {};

function denoServeEngine(serveOn: ServeOnConnection): Engine {
  return {
    name: "deno-serve",
    open(conn, handler, onError) {
      // The engine registers one "abort" listener on the signal it is given
      // and cancels the connection when it runs. That listener throws if the
      // connection is already gone, and a listener's exception would be an
      // uncaught error if a real AbortSignal dispatched it: so it gets this
      // stand-in, and close() runs the listener itself inside a try.
      let cancel: (() => void) | undefined;
      let done = false;
      const signal = {
        aborted: false,
        addEventListener(type: string, fn: () => void) {
          if (type === "abort") cancel = fn;
        },
        removeEventListener: noop,
      };
      const server = serveOn(conn, signal, handler, onError, noop);
      const finished = server.finished.then(
        () => {
          done = true;
        },
        () => {
          done = true;
        },
      );
      return {
        finished,
        close() {
          const f = cancel;
          cancel = undefined;
          if (done || f === undefined) return;
          try {
            f();
          } catch {
            // already closed
          }
        },
      };
    },
  };
}

interface LegacyRequestEvent {
  readonly request: Request;
  respondWith(r: Response | Promise<Response>): Promise<void>;
}

interface LegacyHttpConn {
  nextRequest(): Promise<LegacyRequestEvent | null>;
  close(): void;
}

type ServeHttp = (conn: Deno.Conn) => LegacyHttpConn;

function legacyServeHttp(): ServeHttp | undefined {
  const f = (Deno as unknown as { serveHttp?: unknown }).serveHttp;
  return typeof f === "function" ? f as ServeHttp : undefined;
}

function serveHttpEngine(serveHttp: ServeHttp): Engine {
  return {
    name: "serve-http",
    open(conn, handler, onError) {
      const http = serveHttp(conn);
      let closed = false;
      let onClose = noop;
      const close = () => {
        if (closed) return;
        closed = true;
        onClose();
        try {
          http.close();
        } catch {
          // already closed
        }
      };
      const respond = async (ev: LegacyRequestEvent) => {
        const { promise, resolve, reject } = Promise.withResolvers<void>();
        promise.catch(noop);
        let res: Response;
        try {
          res = await handler(ev.request, {
            remoteAddr: conn.remoteAddr,
            completed: promise,
          });
        } catch (e) {
          try {
            res = await onError(e);
          } catch {
            res = new Response("internal server error", { status: 500 });
          }
        }
        try {
          await ev.respondWith(res);
          resolve();
        } catch (e) {
          await res.body?.cancel().catch(noop);
          reject(e);
        }
      };
      const finished = (async () => {
        const inflight = new Set<Promise<void>>();
        try {
          while (!closed) {
            const ev = await http.nextRequest();
            if (ev === null) break;
            const p = respond(ev);
            inflight.add(p);
            p.finally(() => inflight.delete(p));
          }
        } catch {
          // a connection error ends the connection
        }
        // The client closed or stopped sending requests: let the responses
        // in flight go out, unless close() was called (then it is now).
        const { promise: closedNow, resolve } = Promise.withResolvers<void>();
        onClose = resolve;
        if (!closed) {
          await Promise.race([Promise.allSettled(inflight), closedNow]);
        }
        close();
      })();
      return { finished, close };
    },
  };
}

/**
 * Pick an HTTP engine: `"auto"` prefers `deno-serve` and falls back to
 * `serve-http`; naming one requires it.
 *
 * @throws {Error} when the requested engine (or, for `"auto"`, every
 *   engine) is missing from this Deno
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { selectEngine } from "./engine.ts";
 * assert.equal(selectEngine("auto").name, "deno-serve");
 * ```
 */
export function selectEngine(name: EngineName | "auto" = "auto"): Engine {
  const serveOn = internalServeOnConnection();
  const serveHttp = legacyServeHttp();
  if ((name === "auto" || name === "deno-serve") && serveOn) {
    return denoServeEngine(serveOn);
  }
  if ((name === "auto" || name === "serve-http") && serveHttp) {
    return serveHttpEngine(serveHttp);
  }
  throw new Error(
    `serveGateway: HTTP engine ${name} is not available in Deno ${Deno.version.deno} ` +
      "(needs Deno[Deno.internal].serveHttpOnConnection or Deno.serveHttp)",
  );
}
