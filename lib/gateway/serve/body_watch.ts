/**
 * Request-body deadlines: a request's body is handed to the handler through
 * a stream that records when the handler waits for bytes, so that the
 * connection sweeper can fail a body that arrives too slowly (a total
 * deadline from the first read, and a silence deadline while a read waits).
 * A failed body errors the handler's read with {@linkcode BodyTimeoutError}
 * and cancels the client's stream.
 *
 * @module
 */

/**
 * A request body was not received in time. `kind` says which deadline:
 * `total` (the whole body took longer than the body timeout) or `idle` (no
 * byte arrived for the idle timeout while the handler was waiting).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { BodyTimeoutError } from "@qmtl/qmtl/gateway";
 * const e = new BodyTimeoutError("idle", 5000);
 * assert.equal(e.status, 408);
 * assert.match(e.message, /no body bytes for 5000 ms/);
 * ```
 */
export class BodyTimeoutError extends Error {
  /** Which deadline passed. */
  readonly kind: "total" | "idle";
  /** The deadline, ms. */
  readonly limitMs: number;
  /** HTTP status the transport answers with. */
  readonly status: 408;
  /**
   * Build the error for a passed deadline.
   *
   * @param kind which deadline passed
   * @param limitMs the deadline, ms
   */
  constructor(kind: "total" | "idle", limitMs: number) {
    super(
      kind === "total"
        ? `request body not received within ${limitMs} ms`
        : `no body bytes for ${limitMs} ms`,
    );
    this.name = "BodyTimeoutError";
    this.kind = kind;
    this.limitMs = limitMs;
    this.status = 408;
  }
}

/** Deadline state of one request body. */
export interface BodyWatch {
  /** Time of the handler's first read, ms since the epoch (0: not yet). */
  startedAt: number;
  /** Since when a read has been waiting for bytes (0: none waiting). */
  waitingSince: number;
  /** True once the body ended, was cancelled or failed. */
  done: boolean;
  /** Set when a deadline passed. */
  timedOut?: BodyTimeoutError;
  /** The deadline that passed at `now`, if any. */
  expired(
    now: number,
    totalMs: number,
    idleMs: number,
  ): BodyTimeoutError | undefined;
  /** Fail the body: the handler's read rejects with `error`. */
  fail(error: BodyTimeoutError): void;
}

/**
 * Wrap a request's body. The returned request has the same method, URL and
 * headers and a body read through the watch; its `signal` aborts when
 * `abort` is called (the caller does it when the response could not be
 * sent).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { watchBody } from "./body_watch.ts";
 * const { request, watch } = watchBody(
 *   new Request("http://x/", { method: "POST", body: "hi" }),
 * );
 * assert.equal(await request.text(), "hi");
 * assert.equal(watch.done, true);
 * ```
 */
export function watchBody(
  req: Request,
): { request: Request; watch: BodyWatch; abort: (reason?: unknown) => void } {
  const reader = req.body!.getReader();
  let ctrl!: ReadableStreamDefaultController<Uint8Array>;
  const watch: BodyWatch = {
    startedAt: 0,
    waitingSince: 0,
    done: false,
    expired(now, totalMs, idleMs) {
      if (this.done || this.startedAt === 0) return undefined;
      if (now - this.startedAt >= totalMs) {
        return new BodyTimeoutError("total", totalMs);
      }
      if (this.waitingSince !== 0 && now - this.waitingSince >= idleMs) {
        return new BodyTimeoutError("idle", idleMs);
      }
      return undefined;
    },
    fail(error) {
      if (this.done) return;
      this.done = true;
      this.timedOut = error;
      try {
        ctrl.error(error);
      } catch {
        // already errored
      }
      reader.cancel(error).catch(() => {});
    },
  };
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      ctrl = c;
    },
    async pull(c) {
      const now = Date.now();
      if (watch.startedAt === 0) watch.startedAt = now;
      watch.waitingSince = now;
      let r: ReadableStreamReadResult<Uint8Array>;
      try {
        r = await reader.read();
      } catch (e) {
        if (!watch.done) {
          watch.done = true;
          c.error(e);
        }
        return;
      }
      watch.waitingSince = 0;
      if (watch.done) return; // failed while waiting
      if (r.done) {
        watch.done = true;
        c.close();
      } else {
        c.enqueue(r.value);
      }
    },
    cancel(reason) {
      watch.done = true;
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
  const ac = new AbortController();
  // `duplex` is required with a stream body (fetch spec); Deno's RequestInit
  // type does not list it.
  const init: RequestInit & { duplex: "half" } = {
    method: req.method,
    headers: req.headers,
    body,
    signal: ac.signal,
    duplex: "half",
  };
  const request = new Request(req.url, init);
  return { request, watch, abort: (reason) => ac.abort(reason) };
}
