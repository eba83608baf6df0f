/**
 * What a subscriber sees: the Gateway's global event stream
 * (`GET /v1/events`, SSE) followed for the whole drill with an operator
 * token, resuming with `Last-Event-ID` after every dropped connection (a
 * failover drops them), de-duplicated by CloudEvent id as a consumer would.
 * Per strategy it keeps the lifecycle events it received, so a strategy that
 * COMPLETED twice shows up, and so does the first completion after a fault.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import type { Timeline } from "./timeline.ts";
import { sleep } from "./wait.ts";

/** One lifecycle event as received over SSE. */
export interface FeedEvent {
  /** CloudEvent id. */
  id: string;
  /** e.g. `qmtl.strategy.completed`. */
  type: string;
  /** Arrival, ms since the drill started. */
  atMs: number;
  /** The event's own `time`, ms since the drill started (NaN when absent). */
  timeMs: number;
}

/** Type of the COMPLETED lifecycle event. */
export const COMPLETED_EVENT = "qmtl.strategy.completed";

/** A running feed. */
export interface EventFeed {
  /** Events per strategy id, in arrival order. */
  readonly byStrategy: Map<string, FeedEvent[]>;
  /** SSE connections made (1 + reconnects). */
  readonly connections: number;
  /** COMPLETED events received for a strategy (distinct CloudEvent ids). */
  completions(strategyId: string): FeedEvent[];
  /** Stop following. */
  close(): Promise<void>;
}

/**
 * Follow `GET <url>/v1/events` until closed.
 *
 * @example
 * ```ts ignore
 * const feed = followEvents({ url, token, clock });
 * // … later
 * console.log(feed.completions("st_1").length);
 * await feed.close();
 * ```
 */
export function followEvents(
  o: { url: string; token: string; clock: Timeline },
): EventFeed {
  const byStrategy = new Map<string, FeedEvent[]>();
  const seen = new Set<string>();
  const stop = new AbortController();
  let lastId: string | undefined;
  let connections = 0;

  const take = (data: string) => {
    let ce: Record<string, unknown>;
    try {
      ce = JSON.parse(data);
    } catch {
      return;
    }
    const id = typeof ce.id === "string" ? ce.id : "";
    const subject = typeof ce.subject === "string" ? ce.subject : "";
    if (id === "" || subject === "" || seen.has(id)) return;
    seen.add(id);
    const time = typeof ce.time === "string" ? Date.parse(ce.time) : NaN;
    const list = byStrategy.get(subject) ?? [];
    list.push({
      id,
      type: typeof ce.type === "string" ? ce.type : "",
      atMs: o.clock.at(),
      timeMs: o.clock.at(time),
    });
    byStrategy.set(subject, list);
  };

  const loop = (async () => {
    let failures = 0;
    while (!stop.signal.aborted) {
      try {
        const headers: Record<string, string> = {
          authorization: `Bearer ${o.token}`,
          accept: "text/event-stream",
        };
        if (lastId !== undefined) headers["last-event-id"] = lastId;
        connections++;
        const res = await fetch(`${o.url}/v1/events`, {
          headers,
          signal: stop.signal,
        });
        if (
          res.status !== 200 || res.body === null ||
          !(res.headers.get("content-type") ?? "").startsWith(
            "text/event-stream",
          )
        ) {
          await res.body?.cancel();
          throw new Error(`GET /v1/events answered ${res.status}`);
        }
        const messages = res.body
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(
            new EventSourceParserStream({
              onError: "terminate",
              maxBufferSize: 1 << 20,
            }),
          );
        for await (const m of messages) {
          failures = 0;
          if (m.id !== undefined) lastId = m.id;
          if (m.data !== "") take(m.data);
        }
      } catch {
        // dropped or refused (503 during a fault): reconnect below
      }
      if (stop.signal.aborted) break;
      failures++;
      await sleep(
        Math.min(100 * 2 ** Math.min(failures, 4), 1_000),
        stop.signal,
      );
    }
  })();

  return {
    byStrategy,
    get connections() {
      return connections;
    },
    completions: (id) =>
      (byStrategy.get(id) ?? []).filter((e) => e.type === COMPLETED_EVENT),
    async close() {
      stop.abort();
      await loop;
    },
  };
}
