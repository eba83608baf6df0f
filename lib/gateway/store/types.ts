/**
 * The strategy store: one record per submitted strategy holding its
 * {@link StrategyStatus}, the encoded DAG, and the id of the diff job that
 * currently carries it. Every state change is a compare-and-set.
 *
 * @module
 */

import type {
  StrategyState,
  StrategyStatus,
} from "../../contracts/messages.ts";

/**
 * A stored strategy.
 *
 * @example
 * ```ts
 * import type { StrategyRecord } from "@qmtl/qmtl/gateway";
 * function show(r: StrategyRecord): void {
 *   console.log(r.status.state, r.jobId, r.generation);
 * }
 * ```
 */
export interface StrategyRecord {
  /** Current status. */
  status: StrategyStatus;
  /**
   * Id of the work-queue job that took the current attempt ("" until a
   * worker leases it). Set by the worker's own QUEUED → PROCESSING
   * compare-and-set, never by the submission.
   */
  jobId: string;
  /**
   * The current diff generation: its job has the idempotency key
   * `diff:{strategyId}:{generation}` (see `diffJobKey`), so enqueueing it
   * again is a no-op. Bumped (in the same compare-and-set as the state)
   * when a FAILED strategy is queued again.
   */
  generation: number;
  /**
   * Attempts of the current generation that counted toward the attempt
   * bound: transient failures while the registry answered its health
   * check, failures of unknown kind, and attempts that never finished (the
   * worker died or lost its lease). Absent = 0.
   */
  strikes?: number;
  /**
   * Who publishes the record's pending events right now: one process at a
   * time, so that events reach the log exactly once and in order. Taken by
   * the compare-and-set that records an event (or by
   * {@link StrategyStore.claimEvents}), renewed while publishing, released
   * when nothing is pending; another process takes over once `untilMs` is
   * past (the publisher died).
   */
  publisher?: EventPublisherClaim;
  /**
   * Lifecycle events recorded by a transition (in the same compare-and-set)
   * and not yet confirmed as appended to the event log. Absent or empty when
   * every event is out.
   */
  pendingEvents?: PendingEvent[];
  /** Number of lifecycle events recorded so far (the last event's sequence). */
  eventSeq?: number;
}

/**
 * A claim on publishing a strategy's pending events (see
 * {@link StrategyRecord.publisher}).
 *
 * @example
 * ```ts
 * import type { EventPublisherClaim } from "@qmtl/qmtl/gateway";
 * const c: EventPublisherClaim = { token: crypto.randomUUID(), untilMs: Date.now() + 10_000 };
 * ```
 */
export interface EventPublisherClaim {
  /** The publishing process's token. */
  token: string;
  /** The claim lapses after this time (ms since the epoch, the holder's clock). */
  untilMs: number;
}

/**
 * A lifecycle event as stored in its strategy's record until it is in the
 * event log. Its `id` is derived from the strategy id and the event's
 * sequence number (`{strategyId}-e{seq}`), so appending it again after a
 * crash yields the same CloudEvent id (consumers dedup by id).
 *
 * @example
 * ```ts
 * import type { PendingEvent } from "@qmtl/qmtl/gateway";
 * const e: PendingEvent = {
 *   id: "st_0123456789abcdef01234567-e1", type: "qmtl.strategy.queued",
 *   subject: "st_0123456789abcdef01234567", time: new Date().toISOString(),
 *   data: "{}",
 * };
 * ```
 */
export interface PendingEvent {
  /** CloudEvent id. */
  id: string;
  /** CloudEvent type. */
  type: string;
  /** CloudEvent subject (the strategy id). */
  subject: string;
  /** Time of the transition (ISO 8601). */
  time: string;
  /** JSON text of the event data. */
  data: string;
}

/**
 * Builds the event of a transition: called inside the compare-and-set with
 * the state before, the status after and the event's sequence number.
 *
 * @example
 * ```ts
 * import type { PendingEventBuilder } from "@qmtl/qmtl/gateway";
 * const b: PendingEventBuilder = (status, _from, seq) => ({
 *   id: `${status.strategyId}-e${seq}`, type: "qmtl.strategy.queued",
 *   subject: status.strategyId, time: new Date().toISOString(), data: "{}",
 * });
 * ```
 */
export type PendingEventBuilder = (
  status: StrategyStatus,
  from: StrategyState | undefined,
  seq: number,
) => PendingEvent;

/**
 * Result of {@link StrategyStore.create}.
 *
 * @example
 * ```ts
 * import type { CreateStrategyResult } from "@qmtl/qmtl/gateway";
 * function show(r: CreateStrategyResult): void {
 *   console.log(r.created ? "new" : "duplicate", r.record.status.strategyId);
 * }
 * ```
 */
export interface CreateStrategyResult {
  /** False when a strategy with this id already existed (it is returned). */
  created: boolean;
  /** The stored record. */
  record: StrategyRecord;
}

/**
 * A compare-and-set transition request.
 *
 * @example
 * ```ts
 * import type { TransitionRequest } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * const t: TransitionRequest = { from: [StrategyState.QUEUED], to: StrategyState.PROCESSING, patch: { attempts: 1 } };
 * ```
 */
export interface TransitionRequest {
  /** The transition happens only while the state is one of these. */
  from: readonly StrategyState[];
  /** New state (may equal the current one to update fields in place). */
  to: StrategyState;
  /** Fields to change (`strategyId`, `owner`, `createdAtMs` are ignored). */
  patch?: Partial<StrategyStatus>;
  /** Remove the `error` field. */
  clearError?: boolean;
  /** Only while the record's job id is this one. */
  expectJobId?: string;
  /** Only while the record's generation is this one. */
  expectGeneration?: number;
  /** New job id. */
  jobId?: string;
  /** New generation. */
  generation?: number;
  /** New strike count ({@link StrategyRecord.strikes}). */
  strikes?: number;
  /**
   * Take (or renew) the claim on publishing the record's pending events,
   * unless another live claim holds them; released when nothing is pending.
   */
  claim?: EventPublisherClaim;
  /**
   * When the state changes, record the transition's event in the record's
   * `pendingEvents`, atomically with the change.
   */
  event?: PendingEventBuilder;
}

/**
 * Result of a successful {@link StrategyStore.transition}.
 *
 * @example
 * ```ts
 * import type { TransitionResult } from "@qmtl/qmtl/gateway";
 * function show(t: TransitionResult): void {
 *   console.log(t.from, "→", t.record.status.state);
 * }
 * ```
 */
export interface TransitionResult {
  /** State before. */
  from: StrategyState;
  /** The record after. */
  record: StrategyRecord;
}

/**
 * Options of {@link StrategyStore.list}.
 *
 * @example
 * ```ts
 * import type { ListStrategiesOptions } from "@qmtl/qmtl/gateway";
 * const o: ListStrategiesOptions = { owner: "alice", pageSize: 50 };
 * ```
 */
export interface ListStrategiesOptions {
  /** Only this owner's strategies. */
  owner?: string;
  /** Only strategies in this state. */
  state?: StrategyState;
  /** 1‥1000, default 100. */
  pageSize?: number;
  /** `nextPageToken` of the previous page. */
  pageToken?: string;
}

/**
 * One page of strategies, newest first.
 *
 * @example
 * ```ts
 * import type { StrategyPage } from "@qmtl/qmtl/gateway";
 * const p: StrategyPage = { strategies: [], nextPageToken: "" };
 * ```
 */
export interface StrategyPage {
  /** Strategies of this page. */
  strategies: StrategyStatus[];
  /** `""` at the end. */
  nextPageToken: string;
}

/**
 * Persistence of strategies. `transition` throws a `QmtlError` `E_CONFLICT`
 * when the compare fails and `E_NOT_FOUND` for an unknown id. Records handed
 * out are read-only (the memory store returns frozen objects).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryStrategyStore } from "@qmtl/qmtl/gateway";
 * const store = new MemoryStrategyStore();
 * assert.equal(await store.get("st_1"), null);
 * ```
 */
export interface StrategyStore {
  /**
   * Insert if absent (same id → existing record, `created: false`). With
   * `event`, the new record carries the creation's event as pending.
   */
  create(
    status: StrategyStatus,
    dag: Uint8Array,
    event?: PendingEventBuilder,
    claim?: EventPublisherClaim,
  ): Promise<CreateStrategyResult>;
  /** A record, or `null`. */
  get(id: string): Promise<StrategyRecord | null>;
  /** The encoded `StrategyDag`, or `null`. */
  getDag(id: string): Promise<Uint8Array | null>;
  /** Compare-and-set state change. */
  transition(id: string, req: TransitionRequest): Promise<TransitionResult>;
  /** Strategies newest first, filtered, paged. */
  list(options?: ListStrategiesOptions): Promise<StrategyPage>;
  /** Ids of strategies in any of `states` (at most `limit`, default 1000). */
  idsInStates(
    states: readonly StrategyState[],
    limit?: number,
  ): Promise<string[]>;
  /**
   * Remove these events from the record's pending events (they are out).
   * With `claim` (the caller's): renew it while events stay pending, release
   * it when none do. Returns the record after, or `null` for an unknown id.
   */
  clearPendingEvents(
    id: string,
    eventIds: readonly string[],
    claim?: EventPublisherClaim,
  ): Promise<StrategyRecord | null>;
  /**
   * Take (or renew) the claim on publishing the record's pending events:
   * the record when the caller holds it afterwards, `null` when another
   * live claim holds them, nothing is pending or the id is unknown.
   */
  claimEvents(
    id: string,
    claim: EventPublisherClaim,
  ): Promise<StrategyRecord | null>;
  /** Ids of strategies with pending events (at most `limit`, default 1000). */
  idsWithPendingEvents(limit?: number): Promise<string[]>;
  /** Number of strategies per state name. */
  counts(): Promise<Record<string, number>>;
  /** Whether the backend answers. */
  health(): Promise<{ ok: boolean; detail: string }>;
  /** Release resources the store owns. */
  close(): Promise<void>;
}
