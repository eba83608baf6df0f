/**
 * `GET /v1/events`: lifecycle events as server-sent events. One strategy
 * (`?strategy=ID`) or every strategy the caller may see; each SSE `id` is the
 * event-log entry id, so a client resumes with `Last-Event-ID`. Heartbeat
 * comments keep idle connections open; each stream ends after a bounded time
 * (the client reconnects and resumes) and the number of streams is capped.
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import { pause } from "../../queue/pause.ts";
import type { EventLog } from "../../queue/types.ts";
import { seesAllStrategies } from "../acl/mod.ts";
import type { StrategyService } from "../service.ts";
import type { GatewayContext } from "../types.ts";
import { queryValues } from "../rest/query.ts";
import { cloudEventJson, GLOBAL_STREAM, strategyStream } from "./emitter.ts";

/**
 * Limits of the SSE endpoint.
 *
 * @example
 * ```ts
 * import type { SseOptions } from "@qmtl/qmtl/gateway";
 * const o: SseOptions = { heartbeatMs: 15_000, maxDurationMs: 300_000, maxConnections: 100 };
 * ```
 */
export interface SseOptions {
  /** Heartbeat comment interval, ms; default 15000. */
  heartbeatMs?: number;
  /** A stream closes after this long, ms; default 300000. */
  maxDurationMs?: number;
  /** Concurrent streams; default 100 (more → 503). */
  maxConnections?: number;
  /** Poll wait of one read, ms; default 1000. */
  pollMs?: number;
}

const ENTRY_ID = /^\d{1,20}-\d{1,20}$/;

/**
 * Build the SSE handler and a `close()` that ends every open stream.
 *
 * @example
 * ```ts
 * import { sseHandler } from "./sse.ts";
 * import type { StrategyService } from "@qmtl/qmtl/gateway";
 * import type { EventLog } from "@qmtl/qmtl/queue";
 * function sseFor(log: EventLog, service: StrategyService) {
 *   const sse = sseHandler({ log, service, options: {} });
 *   return sse.handler;
 * }
 * ```
 */
export function sseHandler(
  args: { log: EventLog; service: StrategyService; options?: SseOptions },
): {
  handler: (c: GatewayContext) => Promise<Response>;
  close: () => void;
  open: () => number;
} {
  const o = args.options ?? {};
  const heartbeatMs = o.heartbeatMs ?? 15_000;
  const maxDurationMs = o.maxDurationMs ?? 300_000;
  const maxConnections = o.maxConnections ?? 100;
  const pollMs = o.pollMs ?? 1000;
  const closing = new AbortController();
  let open = 0;

  const handler = async (c: GatewayContext): Promise<Response> => {
    const principal = c.get("principal");
    const q = queryValues(c, "rest.events");
    const strategy = q.strategy as string | undefined;
    let stream = GLOBAL_STREAM;
    if (strategy) {
      await args.service.visible(principal, strategy);
      stream = strategyStream(strategy);
    }
    const lastId = c.req.header("last-event-id") ??
      (q.last_event_id as string | undefined);
    if (lastId !== undefined && lastId !== "" && !ENTRY_ID.test(lastId)) {
      throw new QmtlError("E_INVALID", "Last-Event-ID is not an event id", {
        field: "Last-Event-ID",
      });
    }
    if (open >= maxConnections) {
      throw new QmtlError(
        "E_UNAVAILABLE",
        `too many event streams (${maxConnections})`,
      );
    }
    const all = seesAllStrategies(principal);
    const subject = principal?.subject;
    const enc = new TextEncoder();
    // Cancellation comes from the stream itself: `cancel()` runs when the
    // client goes away (the request's own signal is not used: Deno aborts
    // it on successful responses too), and `close()` ends every stream.
    const local = new AbortController();
    const signal = AbortSignal.any([local.signal, closing.signal]);
    open++;
    let released = false;
    const release = () => {
      if (!released) {
        released = true;
        open--;
      }
    };
    const body = new ReadableStream<Uint8Array>({
      async start(ctl) {
        const send = (s: string) => ctl.enqueue(enc.encode(s));
        try {
          send(`retry: 2000\n: qmtl event stream ${stream}\n\n`);
          let after = lastId || undefined;
          const end = Date.now() + maxDurationMs;
          let lastBeat = Date.now();
          while (!signal.aborted && Date.now() < end) {
            const wait = Math.max(0, Math.min(pollMs, end - Date.now()));
            const t0 = Date.now();
            const entries = await args.log.read(stream, {
              after,
              count: 100,
              blockMs: wait,
            });
            if (signal.aborted) break;
            for (const e of entries) {
              after = e.id;
              const ce = cloudEventJson(e.event);
              if (
                !strategy && !all &&
                (ce.data as { owner?: string } | undefined)?.owner !== subject
              ) continue;
              send(
                `id: ${e.id}\nevent: ${e.event.type}\ndata: ${
                  JSON.stringify(ce)
                }\n\n`,
              );
            }
            if (entries.length === 0 && Date.now() - t0 < wait / 2) {
              // The log answered without blocking: pace the polling (the
              // pause ends as soon as the stream does).
              await pause(Math.min(wait, 250), signal);
            }
            if (Date.now() - lastBeat >= heartbeatMs) {
              send(`: heartbeat ${new Date().toISOString()}\n\n`);
              lastBeat = Date.now();
            }
          }
          if (!local.signal.aborted) ctl.close();
        } catch (e) {
          if (!signal.aborted) ctl.error(e);
        } finally {
          release();
        }
      },
      cancel() {
        local.abort();
        release();
      },
    });
    return new Response(body, {
      headers: {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      },
    });
  };
  return { handler, close: () => closing.abort(), open: () => open };
}
