/**
 * A strategy's lifecycle events over SSE (`GET /v1/events?strategy=<id>`),
 * as an async iterator that reconnects after a dropped connection and resumes
 * from the last event ID it saw (`Last-Event-ID`), skipping duplicates. The
 * `text/event-stream` format is parsed by `eventsource-parser`.
 *
 * @module
 */

import { EventSourceParserStream } from "eventsource-parser/stream";
import { QmtlClientError } from "./errors.ts";
import { backoffMs, linkSignal, sleep } from "./retry.ts";
import { type ClientConfig, get } from "./rpc.ts";
import { type StateName, stateName, toState } from "./states.ts";

/** Longest SSE line / event the client buffers (a hostile server is cut off). */
const MAX_SSE_BUFFER = 1 << 20;

/**
 * The JSON payload of a lifecycle event (`qmtl.strategy.*`).
 *
 * @example
 * ```ts
 * import type { LifecycleData } from "@qmtl/qmtl/sdk";
 * const d: LifecycleData = { strategyId: "st_1", from: "PROCESSING", state: "COMPLETED", queueMap: {} };
 * ```
 */
export interface LifecycleData {
  /** The strategy. */
  strategyId?: string;
  /** Owner subject. */
  owner?: string;
  /** Version label. */
  version?: string;
  /** State before the transition (`""` for the first event). */
  from?: string;
  /** State after the transition. */
  state?: string;
  /** Diff attempts so far. */
  attempts?: number;
  /** DAG hash. */
  dagHash?: string;
  /** node ID → topic (on COMPLETED). */
  queueMap?: Record<string, string>;
  /** Reused node IDs (on COMPLETED). */
  reused?: string[];
  /** Created node IDs (on COMPLETED). */
  created?: string[];
  /** The error, on FAILED or a retry. */
  error?: { code: string; message: string };
  /** Anything else the server adds. */
  [key: string]: unknown;
}

/**
 * One CloudEvents 1.0 event about a strategy, as received over SSE.
 *
 * @example
 * ```ts
 * import type { StrategyEvent } from "@qmtl/qmtl/sdk";
 * const e: StrategyEvent = {
 *   id: "9c1…", type: "qmtl.strategy.completed", source: "/qmtl/gateway", subject: "st_1",
 *   time: "2026-01-01T00:00:00Z", specVersion: "1.0", dataContentType: "application/json",
 *   data: { state: "COMPLETED" }, state: "COMPLETED", cursor: "1-0",
 * };
 * ```
 */
export interface StrategyEvent {
  /** CloudEvent `id` (consumers dedup by it). */
  id: string;
  /** Event type, e.g. `qmtl.strategy.completed`. */
  type: string;
  /** Producer URI-reference. */
  source: string;
  /** The strategy ID. */
  subject: string;
  /** RFC 3339 time. */
  time: string;
  /** CloudEvents spec version, `"1.0"`. */
  specVersion: string;
  /** Media type of `data`. */
  dataContentType: string;
  /** The payload (JSON-decoded when it is JSON). */
  data: LifecycleData;
  /** The state after the transition, when the payload names one. */
  state?: StateName;
  /** The SSE event ID: pass it as `lastEventId` to resume after this event. */
  cursor: string;
}

/**
 * Options of `QmtlClient.events`.
 *
 * @example
 * ```ts
 * import type { EventsOptions } from "@qmtl/qmtl/sdk";
 * const o: EventsOptions = { lastEventId: "1712-0", signal: AbortSignal.timeout(30_000) };
 * ```
 */
export interface EventsOptions {
  /** Resume after this SSE event ID (the `cursor` of an event you saw). */
  lastEventId?: string;
  /** Stops the iteration (it then ends without an error). */
  signal?: AbortSignal;
  /**
   * Consecutive failed or empty connections tolerated before giving up with
   * an `E_UNAVAILABLE` {@link QmtlClientError}; default the client's
   * `retry.maxAttempts`.
   * `Infinity` reconnects until `signal` aborts.
   */
  maxReconnects?: number;
}

function str(v: unknown, fallback = ""): string {
  return typeof v === "string" ? v : fallback;
}

function decodeData(raw: unknown): LifecycleData {
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    return raw as LifecycleData;
  }
  if (typeof raw === "string") {
    try {
      const v = JSON.parse(raw);
      if (typeof v === "object" && v !== null && !Array.isArray(v)) return v;
    } catch {
      // not JSON: keep as a value
    }
  }
  return raw === undefined ? {} : { value: raw };
}

/**
 * Turn the JSON of one SSE `data:` payload (a structured-mode CloudEvent)
 * into a {@link StrategyEvent}. `data_base64` payloads are decoded.
 *
 * @param json the parsed `data:` payload
 * @param cursor the SSE event ID it came with
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { toStrategyEvent } from "@qmtl/qmtl/sdk";
 * const e = toStrategyEvent({ id: "a", type: "qmtl.strategy.completed", specversion: "1.0", subject: "st_1", data: { state: "COMPLETED" } }, "7");
 * assert.equal(e.state, "COMPLETED");
 * ```
 */
export function toStrategyEvent(
  json: Record<string, unknown>,
  cursor: string,
): StrategyEvent {
  let raw: unknown = json.data;
  if (raw === undefined && typeof json.data_base64 === "string") {
    raw = new TextDecoder().decode(Uint8Array.fromBase64(json.data_base64));
  }
  const data = decodeData(raw);
  const event: StrategyEvent = {
    id: str(json.id, cursor),
    type: str(json.type),
    source: str(json.source),
    subject: str(json.subject, str(data.strategyId)),
    time: str(json.time),
    specVersion: str(json.specversion, str(json.specVersion, "1.0")),
    dataContentType: str(
      json.datacontenttype,
      str(json.dataContentType, "application/json"),
    ),
    data,
    cursor,
  };
  const named = typeof data.state === "string"
    ? data.state
    : /^qmtl\.strategy\.(\w+)$/.exec(
      event.type,
    )?.[1];
  if (named !== undefined) {
    try {
      event.state = stateName(toState(named));
    } catch {
      // `retrying` / `requeued` and unknown types carry no single state name
    }
  }
  return event;
}

/** A bounded set remembering the most recent event IDs. */
class RecentIds {
  readonly #set = new Set<string>();
  constructor(readonly limit: number) {}
  /** True when `id` was seen already; remembers it otherwise. */
  seen(id: string): boolean {
    if (this.#set.has(id)) return true;
    this.#set.add(id);
    if (this.#set.size > this.limit) {
      this.#set.delete(this.#set.values().next().value!);
    }
    return false;
  }
}

/**
 * Follow a strategy's events: connect to the SSE stream, yield each event,
 * and after a dropped or ended connection reconnect with backoff, sending the
 * last seen event ID as `Last-Event-ID`. Events already yielded are skipped
 * (delivery is at-least-once). Auth, ACL and not-found errors end the
 * iteration with their typed error; too many consecutive failed or empty
 * connections end it with an `E_UNAVAILABLE` {@link QmtlClientError}.
 *
 * @param config transport configuration
 * @param strategyId the strategy to follow
 * @param options resume point, signal, reconnect budget
 * @example
 * ```ts ignore
 * import { followEvents } from "./events.ts";
 * declare const config: import("./rpc.ts").ClientConfig;
 * for await (const e of followEvents(config, "st_1", { signal: AbortSignal.timeout(10_000) })) {
 *   console.log(e.type);
 * }
 * ```
 */
export async function* followEvents(
  config: ClientConfig,
  strategyId: string,
  options: EventsOptions = {},
): AsyncGenerator<StrategyEvent, void, undefined> {
  const stop = new AbortController();
  // The caller's signal through a link detached in `finally` (on break too):
  // a listener left on an AbortSignal.timeout keeps the process alive.
  const caller = linkSignal(options.signal);
  const signal = AbortSignal.any([caller.signal, stop.signal]);
  const maxReconnects = options.maxReconnects ?? config.retry.maxAttempts;
  const recent = new RecentIds(1024);
  let lastId = options.lastEventId;
  let failures = 0;
  let serverRetryMs: number | undefined;
  const path = `/v1/events?strategy=${encodeURIComponent(strategyId)}`;
  try {
    while (!signal.aborted) {
      let lastError: unknown;
      let body: ReadableStream<Uint8Array> | undefined;
      try {
        const headers: Record<string, string> = {
          accept: "text/event-stream",
          "cache-control": "no-cache",
        };
        if (lastId !== undefined) headers["last-event-id"] = lastId;
        // Only the connection attempt is timed; the stream itself is long-lived.
        const res = await get(config, path, { headers, signal, timeoutMs: 0 });
        const type = res.headers.get("content-type") ?? "";
        if (!type.startsWith("text/event-stream") || res.body === null) {
          await res.body?.cancel();
          throw new QmtlClientError(
            "E_INTERNAL",
            `GET ${path}: expected text/event-stream, got ${
              JSON.stringify(type)
            }`,
            { status: res.status },
          );
        }
        body = res.body;
      } catch (e) {
        if (signal.aborted) return;
        // A real answer (401, 403, 404, not an event stream): stop.
        if (!(e instanceof QmtlClientError && e.retryable)) throw e;
        lastError = e;
      }
      if (body !== undefined) {
        const messages = body
          .pipeThrough(new TextDecoderStream())
          .pipeThrough(
            new EventSourceParserStream({
              onRetry: (ms) => serverRetryMs = ms,
              onError: "terminate",
              maxBufferSize: MAX_SSE_BUFFER,
            }),
          );
        try {
          for await (const msg of messages) {
            // Every event of the Gateway carries its id: track it per event
            // (not per parsed block), so a drop never skips a queued event.
            if (msg.id !== undefined) lastId = msg.id;
            if (msg.data === "") continue;
            let json: unknown;
            try {
              json = JSON.parse(msg.data);
            } catch {
              continue; // not a CloudEvent: ignore
            }
            if (typeof json !== "object" || json === null) continue;
            const event = toStrategyEvent(
              json as Record<string, unknown>,
              msg.id ?? "",
            );
            failures = 0;
            if (recent.seen(event.id)) continue;
            yield event;
          }
        } catch (e) {
          // The connection dropped mid-stream: reconnect below.
          if (signal.aborted) return;
          lastError = e;
        }
      }
      failures++;
      if (failures > maxReconnects) {
        throw new QmtlClientError(
          "E_UNAVAILABLE",
          `events of ${strategyId}: gave up after ${failures} connections without an event`,
          { cause: lastError, connectCode: "unavailable" },
        );
      }
      const wait = backoffMs(failures, config.retry, serverRetryMs);
      try {
        await sleep(wait, signal);
      } catch {
        return;
      }
    }
  } finally {
    caller.dispose();
    stop.abort();
  }
}
