/**
 * Lifecycle events: every transition becomes a CloudEvents 1.0 event,
 * appended to the strategy's stream and to the global stream of the event
 * log, then handed to webhook delivery (through the work queue).
 *
 * @module
 */

import type {
  Event,
  StrategyState,
  StrategyStatus,
} from "../../contracts/messages.ts";
import type { EventLog } from "../../queue/types.ts";
import type { PendingEvent } from "../store/types.ts";
import { eventTypeOf, stateName } from "../lifecycle/mod.ts";

/** Name of the global event stream. */
export const GLOBAL_STREAM = "qmtl.strategies";

/**
 * Name of a strategy's own event stream.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { strategyStream } from "@qmtl/qmtl/gateway";
 * assert.equal(strategyStream("st_1"), "qmtl.strategy.st_1");
 * ```
 */
export function strategyStream(strategyId: string): string {
  return `qmtl.strategy.${strategyId}`;
}

/**
 * The JSON `data` of a lifecycle event.
 *
 * @example
 * ```ts
 * import type { LifecycleEventData } from "@qmtl/qmtl/gateway";
 * function show(d: LifecycleEventData): void {
 *   console.log(d.strategyId, d.from, "→", d.state);
 * }
 * ```
 */
export interface LifecycleEventData {
  /** Strategy id. */
  strategyId: string;
  /** Owner subject (used to filter what a caller may see). */
  owner: string;
  /** Version label. */
  version: string;
  /** State before (`""` for the first event). */
  from: string;
  /** State after. */
  state: string;
  /** Diff attempts so far. */
  attempts: number;
  /** DAG hash. */
  dagHash: string;
  /** node ID → topic (COMPLETED only). */
  queueMap?: Record<string, string>;
  /** Reused node IDs (COMPLETED only). */
  reused?: string[];
  /** Created node IDs (COMPLETED only). */
  created?: string[];
  /** Last error (FAILED / retrying). */
  error?: { code: string; message: string };
}

/**
 * Called after an event is stored (webhooks, metrics).
 *
 * @example
 * ```ts
 * import type { EventListener } from "@qmtl/qmtl/gateway";
 * const l: EventListener = (event, status) => console.log(event.type, status.strategyId);
 * ```
 */
export type EventListener = (
  event: Event,
  status: StrategyStatus,
) => Promise<void> | void;

/**
 * Builds and stores lifecycle events.
 *
 * @example
 * ```ts
 * import { createEventEmitter } from "@qmtl/qmtl/gateway";
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const events = createEventEmitter({ log: new MemoryEventLog() });
 * ```
 */
export interface EventEmitter {
  /** Build, store (strategy stream, then global stream) and announce an event. */
  emit(status: StrategyStatus, from: StrategyState | undefined): Promise<Event>;
  /**
   * Build the event of a transition with a derived id
   * (`{strategyId}-e{seq}`), to be recorded in the strategy record by the
   * transition's compare-and-set.
   */
  build(
    status: StrategyStatus,
    from: StrategyState | undefined,
    seq: number,
  ): PendingEvent;
  /**
   * Store a recorded event (strategy stream, then global stream), skipping a
   * stream that already holds its id, then announce it. Safe to repeat.
   */
  publish(pending: PendingEvent, status: StrategyStatus): Promise<Event>;
}

/**
 * The CloudEvent id of a strategy's `seq`-th lifecycle event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lifecycleEventId } from "./emitter.ts";
 * assert.equal(lifecycleEventId("st_1", 3), "st_1-e3");
 * ```
 */
export function lifecycleEventId(strategyId: string, seq: number): string {
  return `${strategyId}-e${seq}`;
}

/**
 * Options of {@link createEventEmitter}.
 *
 * @example
 * ```ts
 * import type { EventEmitterOptions } from "@qmtl/qmtl/gateway";
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const o: EventEmitterOptions = { log: new MemoryEventLog(), source: "/qmtl/gateway" };
 * ```
 */
export interface EventEmitterOptions {
  /** Where events are stored. */
  log: EventLog;
  /** CloudEvents `source`; default `/qmtl/gateway`. */
  source?: string;
  /** Called after storing. Errors are the listener's own business. */
  listeners?: EventListener[];
}

/**
 * Build an {@link EventEmitter}.
 *
 * @example
 * ```ts
 * import { createEventEmitter } from "@qmtl/qmtl/gateway";
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const e = createEventEmitter({ log: new MemoryEventLog() });
 * ```
 */
export function createEventEmitter(options: EventEmitterOptions): EventEmitter {
  const source = options.source ?? "/qmtl/gateway";
  const listeners = options.listeners ?? [];
  const log = options.log;
  const enc = new TextEncoder();

  const dataOf = (
    status: StrategyStatus,
    from: StrategyState | undefined,
  ): LifecycleEventData => {
    const data: LifecycleEventData = {
      strategyId: status.strategyId,
      owner: status.owner,
      version: status.version,
      from: from === undefined ? "" : stateName(from),
      state: stateName(status.state),
      attempts: status.attempts,
      dagHash: status.dagHash,
    };
    if (stateName(status.state) === "COMPLETED") {
      data.queueMap = status.queueMap;
      data.reused = status.reused;
      data.created = status.created;
    }
    if (status.error) {
      data.error = { code: status.error.code, message: status.error.message };
    }
    return data;
  };

  const build = (
    status: StrategyStatus,
    from: StrategyState | undefined,
    seq: number,
  ): PendingEvent => ({
    id: lifecycleEventId(status.strategyId, seq),
    type: from === undefined
      ? "qmtl.strategy.queued"
      : eventTypeOf(from, status.state),
    subject: status.strategyId,
    time: new Date().toISOString(),
    data: JSON.stringify(dataOf(status, from)),
  });

  const toEvent = (p: PendingEvent): Event => ({
    $typeName: "qmtl.v1.Event",
    id: p.id,
    source,
    specVersion: "1.0",
    type: p.type,
    subject: p.subject,
    time: p.time,
    dataContentType: "application/json",
    data: enc.encode(p.data),
  });

  /** Entry id of `eventId` in `stream`, scanning at most `pages` pages. */
  const find = async (
    stream: string,
    eventId: string,
    after: string | undefined,
    untilMs: number,
    pages: number,
  ): Promise<string | undefined> => {
    let cursor = after;
    for (let i = 0; i < pages; i++) {
      const batch = await log.read(stream, { after: cursor, count: 200 });
      for (const e of batch) {
        if (e.event.id === eventId) return e.id;
        if (Number(e.id.split("-")[0]) > untilMs) return undefined;
      }
      if (batch.length < 200) return undefined;
      cursor = batch[batch.length - 1].id;
    }
    return undefined;
  };

  const publish = async (
    pending: PendingEvent,
    status: StrategyStatus,
  ): Promise<Event> => {
    const event = toEvent(pending);
    const own = strategyStream(pending.subject);
    // Both streams in one step (one round trip, one replica wait); a retry
    // finds the event in its own stream and appends nothing.
    const linked = await log.appendLinked(own, GLOBAL_STREAM, event);
    if (!linked.appended) {
      // Already in its own stream. Appended by this release, it is in the
      // global stream too; an earlier release appended the two apart, and a
      // crash between them left it out of the global one: look for it near
      // that entry's time only.
      const ms = Number(linked.id.split("-")[0]);
      const globalEntry = await find(
        GLOBAL_STREAM,
        pending.id,
        `${Math.max(0, ms - 5_000)}-0`,
        ms + 60_000,
        50,
      );
      if (globalEntry === undefined) await log.append(GLOBAL_STREAM, event);
    }
    for (const l of listeners) await l(event, status);
    return event;
  };

  return {
    build,
    publish,
    async emit(status, from) {
      const p = build(status, from, 0);
      p.id = crypto.randomUUID();
      const event = toEvent(p);
      await log.appendLinked(
        strategyStream(status.strategyId),
        GLOBAL_STREAM,
        event,
      );
      for (const l of listeners) await l(event, status);
      return event;
    },
  };
}

/**
 * The CloudEvents JSON form of an event (structured mode; `data` parsed when
 * JSON).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { create } from "@bufbuild/protobuf";
 * import { cloudEventJson } from "./emitter.ts";
 * import { type Event, EventSchema } from "@qmtl/qmtl/contracts";
 * const e: Event = create(EventSchema, {
 *   id: "st_1-e1", source: "/qmtl/gateway", specVersion: "1.0", type: "qmtl.strategy.queued",
 *   subject: "st_1", time: "2026-01-01T00:00:00Z", dataContentType: "application/json",
 *   data: new TextEncoder().encode('{"strategyId":"st_1"}'),
 * });
 * assert.deepEqual(cloudEventJson(e), {
 *   specversion: "1.0", id: "st_1-e1", source: "/qmtl/gateway", type: "qmtl.strategy.queued",
 *   subject: "st_1", time: "2026-01-01T00:00:00Z", datacontenttype: "application/json",
 *   data: { strategyId: "st_1" }, // the JSON payload, parsed
 * });
 * ```
 */
export function cloudEventJson(event: Event): Record<string, unknown> {
  let data: unknown;
  const text = new TextDecoder().decode(event.data);
  try {
    data = JSON.parse(text);
  } catch {
    data = text;
  }
  return {
    specversion: event.specVersion,
    id: event.id,
    source: event.source,
    type: event.type,
    subject: event.subject,
    time: event.time,
    datacontenttype: event.dataContentType,
    data,
  };
}
