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
} from "../../contracts/types.ts";
import type { EventLog } from "../../queue/types.ts";
import { eventTypeOf, stateName } from "../lifecycle/mod.ts";

/** Name of the global event stream. */
export const GLOBAL_STREAM = "qmtl.strategies";

/**
 * Name of a strategy's own event stream.
 *
 * @example
 * ```ts
 * import { strategyStream } from "@qmtl/qmtl/gateway";
 * strategyStream("st_1"); // "qmtl.strategy.st_1"
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
 * declare const d: LifecycleEventData;
 * console.log(d.strategyId, d.from, "→", d.state);
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
  return {
    async emit(status, from) {
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
      const event: Event = {
        id: crypto.randomUUID(),
        source,
        specVersion: "1.0",
        type: from === undefined
          ? "qmtl.strategy.queued"
          : eventTypeOf(from, status.state),
        subject: status.strategyId,
        time: new Date().toISOString(),
        dataContentType: "application/json",
        data: new TextEncoder().encode(JSON.stringify(data)),
      };
      await options.log.append(strategyStream(status.strategyId), event);
      await options.log.append(GLOBAL_STREAM, event);
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
 * import { cloudEventJson } from "@qmtl/qmtl/gateway";
 * declare const e: import("@qmtl/qmtl/contracts").Event;
 * JSON.stringify(cloudEventJson(e));
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
