/**
 * In-process strategy store (the embedded default). Records are immutable
 * (deep-frozen): every write stores a new frozen record, reads return it
 * without copying.
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import type {
  StrategyState,
  StrategyStatus,
} from "../../contracts/messages.ts";
import { stateName } from "../lifecycle/mod.ts";
import {
  decodePageToken,
  encodePageToken,
  newerFirst,
  pageSizeOf,
} from "./page.ts";
import type {
  CreateStrategyResult,
  EventPublisherClaim,
  ListStrategiesOptions,
  PendingEventBuilder,
  StrategyPage,
  StrategyRecord,
  StrategyStore,
  TransitionRequest,
  TransitionResult,
} from "./types.ts";

/**
 * Stored records are deep-frozen copies: a write copies once, and reads hand
 * out the frozen record itself (no copy per read; a caller cannot change the
 * store's state through it).
 */
function frozenCopy<T>(v: T): T {
  return deepFreeze(structuredClone(v));
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object" && !Object.isFrozen(v)) {
    Object.freeze(v);
    if (!ArrayBuffer.isView(v)) {
      for (const k of Object.keys(v)) {
        deepFreeze((v as Record<string, unknown>)[k]);
      }
    }
  }
  return v;
}

/**
 * Applies a transition request to a record (shared by both backends);
 * throws `E_CONFLICT` when the compare fails.
 *
 * @example
 * ```ts
 * import { applyTransition, type StrategyRecord } from "@qmtl/qmtl/gateway";
 * import { StrategyState } from "@qmtl/qmtl/contracts";
 * function startProcessing(id: string, record: StrategyRecord): StrategyRecord {
 *   return applyTransition(id, record, {
 *     from: [StrategyState.QUEUED],
 *     to: StrategyState.PROCESSING,
 *   }, Date.now());
 * }
 * ```
 */
export function applyTransition(
  id: string,
  rec: StrategyRecord,
  req: TransitionRequest,
  now: number,
): StrategyRecord {
  const cur = rec.status.state;
  if (!req.from.includes(cur)) {
    throw new QmtlError(
      "E_CONFLICT",
      `strategy ${id} is ${stateName(cur)}, expected ${
        req.from.map(stateName).join(" or ")
      }`,
      { details: { state: stateName(cur) } },
    );
  }
  if (req.expectJobId !== undefined && rec.jobId !== req.expectJobId) {
    throw new QmtlError(
      "E_CONFLICT",
      `strategy ${id} is carried by another job`,
      {
        details: { jobId: rec.jobId },
      },
    );
  }
  if (
    req.expectGeneration !== undefined &&
    rec.generation !== req.expectGeneration
  ) {
    throw new QmtlError(
      "E_CONFLICT",
      `strategy ${id} is in diff generation ${rec.generation}, expected ${req.expectGeneration}`,
      { details: { generation: String(rec.generation) } },
    );
  }
  const { strategyId: _a, owner: _b, createdAtMs: _c, ...patch } = req.patch ??
    {};
  const status: StrategyStatus = {
    ...rec.status,
    ...patch,
    state: req.to,
    updatedAtMs: now,
  };
  if (req.clearError) delete status.error;
  const next: StrategyRecord = {
    status,
    jobId: req.jobId ?? rec.jobId,
    generation: req.generation ?? rec.generation,
  };
  const strikes = req.strikes ?? rec.strikes ?? 0;
  if (strikes > 0) next.strikes = strikes;
  let pending = rec.pendingEvents ?? [];
  let seq = rec.eventSeq ?? 0;
  if (req.event && cur !== req.to) {
    seq++;
    pending = [...pending, req.event(status, cur, seq)];
  }
  if (pending.length) next.pendingEvents = pending;
  if (seq) next.eventSeq = seq;
  setPublisher(next, rec.publisher, req.claim, now);
  return next;
}

/**
 * `next.publisher`: `claim` when it may take the events (no live claim, or
 * its own), else the current claim; none when nothing is pending.
 */
function setPublisher(
  next: StrategyRecord,
  current: EventPublisherClaim | undefined,
  claim: EventPublisherClaim | undefined,
  now: number,
): void {
  delete next.publisher;
  if (!next.pendingEvents?.length) return;
  if (claim && mayClaim(current, claim, now)) next.publisher = { ...claim };
  else if (current) next.publisher = { ...current };
}

function mayClaim(
  current: EventPublisherClaim | undefined,
  claim: EventPublisherClaim,
  now: number,
): boolean {
  return current === undefined || current.untilMs <= now ||
    current.token === claim.token;
}

/**
 * The record without the given pending events (shared by both backends).
 * With `claim` (the caller's): renewed to it while events stay pending and
 * the caller holds the claim; the claim is released when nothing is
 * pending.
 *
 * @example
 * ```ts
 * import { type StrategyRecord, withoutPendingEvents } from "@qmtl/qmtl/gateway";
 * function published(record: StrategyRecord): StrategyRecord {
 *   return withoutPendingEvents(record, ["st_1-e1"]);
 * }
 * ```
 */
export function withoutPendingEvents(
  rec: StrategyRecord,
  eventIds: readonly string[],
  claim?: EventPublisherClaim,
): StrategyRecord {
  const left = (rec.pendingEvents ?? []).filter((e) =>
    !eventIds.includes(e.id)
  );
  const next: StrategyRecord = { ...rec };
  if (left.length) next.pendingEvents = left;
  else delete next.pendingEvents;
  delete next.publisher;
  if (left.length && rec.publisher) {
    next.publisher = claim && rec.publisher.token === claim.token
      ? { ...claim }
      : { ...rec.publisher };
  }
  return next;
}

/**
 * The record with the publishing claim taken (or renewed) by `claim`, or
 * `null` when nothing is pending or another live claim holds the events
 * (shared by both backends).
 *
 * @example
 * ```ts
 * import { claimPendingEvents, type StrategyRecord } from "@qmtl/qmtl/gateway";
 * function take(record: StrategyRecord): StrategyRecord | null {
 *   return claimPendingEvents(record, { token: "me", untilMs: Date.now() + 10_000 }, Date.now());
 * }
 * ```
 */
export function claimPendingEvents(
  rec: StrategyRecord,
  claim: EventPublisherClaim,
  now: number,
): StrategyRecord | null {
  if (!rec.pendingEvents?.length) return null;
  if (!mayClaim(rec.publisher, claim, now)) return null;
  return { ...rec, publisher: { ...claim } };
}

/**
 * The initial record of a new strategy (shared by both backends); with
 * `event` and `claim`, its creation event is pending and claimed by the
 * caller.
 *
 * @example
 * ```ts
 * import {
 *   initialRecord,
 *   type PendingEventBuilder,
 *   type StrategyRecord,
 *   type StrategyStatus,
 * } from "@qmtl/qmtl/gateway";
 * function fresh(status: StrategyStatus, builder: PendingEventBuilder): StrategyRecord {
 *   return initialRecord(status, builder);
 * }
 * ```
 */
export function initialRecord(
  status: StrategyStatus,
  event?: PendingEventBuilder,
  claim?: EventPublisherClaim,
): StrategyRecord {
  const rec: StrategyRecord = { status, jobId: "", generation: 0 };
  if (event) {
    rec.pendingEvents = [event(status, undefined, 1)];
    rec.eventSeq = 1;
    if (claim) rec.publisher = { ...claim };
  }
  return rec;
}

/**
 * A {@link StrategyStore} in memory.
 *
 * @example
 * ```ts
 * import { MemoryStrategyStore } from "@qmtl/qmtl/gateway";
 * const store = new MemoryStrategyStore();
 * console.log(await store.counts());
 * ```
 */
export class MemoryStrategyStore implements StrategyStore {
  #records = new Map<string, StrategyRecord>();
  #dags = new Map<string, Uint8Array>();

  /** Insert if absent. */
  create(
    status: StrategyStatus,
    dag: Uint8Array,
    event?: PendingEventBuilder,
    claim?: EventPublisherClaim,
  ): Promise<CreateStrategyResult> {
    const existing = this.#records.get(status.strategyId);
    if (existing) {
      return Promise.resolve({ created: false, record: existing });
    }
    const rec: StrategyRecord = frozenCopy(
      initialRecord(status, event, claim),
    );
    this.#records.set(status.strategyId, rec);
    this.#dags.set(status.strategyId, dag.slice());
    return Promise.resolve({ created: true, record: rec });
  }

  /** A record, or `null`. */
  get(id: string): Promise<StrategyRecord | null> {
    return Promise.resolve(this.#records.get(id) ?? null);
  }

  /** The encoded DAG, or `null`. */
  getDag(id: string): Promise<Uint8Array | null> {
    return Promise.resolve(this.#dags.get(id)?.slice() ?? null);
  }

  /** Compare-and-set. */
  transition(id: string, req: TransitionRequest): Promise<TransitionResult> {
    const rec = this.#records.get(id);
    if (!rec) {
      return Promise.reject(new QmtlError("E_NOT_FOUND", `no strategy ${id}`));
    }
    try {
      const next = frozenCopy(applyTransition(id, rec, req, Date.now()));
      this.#records.set(id, next);
      return Promise.resolve({ from: rec.status.state, record: next });
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Newest first. */
  list(options: ListStrategiesOptions = {}): Promise<StrategyPage> {
    const size = pageSizeOf(options.pageSize);
    let after: ReturnType<typeof decodePageToken>;
    try {
      after = decodePageToken(options.pageToken);
    } catch (e) {
      return Promise.reject(e);
    }
    const all = [...this.#records.values()]
      .map((r) => r.status)
      .filter((s) =>
        (options.owner === undefined || s.owner === options.owner) &&
        (options.state === undefined || s.state === options.state)
      )
      .map((s) => ({ s, p: { createdAtMs: s.createdAtMs, id: s.strategyId } }))
      .sort((a, b) => newerFirst(a.p, b.p))
      .filter((x) => !after || newerFirst(after, x.p) < 0);
    const page = all.slice(0, size);
    const last = page.at(-1);
    return Promise.resolve({
      strategies: page.map((x) => x.s),
      nextPageToken: all.length > size && last ? encodePageToken(last.p) : "",
    });
  }

  /** Ids by state. */
  idsInStates(
    states: readonly StrategyState[],
    limit = 1000,
  ): Promise<string[]> {
    const out: string[] = [];
    for (const [id, r] of this.#records) {
      if (states.includes(r.status.state)) out.push(id);
      if (out.length >= limit) break;
    }
    return Promise.resolve(out);
  }

  /** Drop delivered pending events (renewing or releasing `claim`). */
  clearPendingEvents(
    id: string,
    eventIds: readonly string[],
    claim?: EventPublisherClaim,
  ): Promise<StrategyRecord | null> {
    const rec = this.#records.get(id);
    if (!rec) return Promise.resolve(null);
    if (!rec.pendingEvents?.length && !rec.publisher) {
      return Promise.resolve(rec);
    }
    const next = frozenCopy(withoutPendingEvents(rec, eventIds, claim));
    this.#records.set(id, next);
    return Promise.resolve(next);
  }

  /** Take or renew the claim on the pending events. */
  claimEvents(
    id: string,
    claim: EventPublisherClaim,
  ): Promise<StrategyRecord | null> {
    const rec = this.#records.get(id);
    const next = rec ? claimPendingEvents(rec, claim, Date.now()) : null;
    if (!next) return Promise.resolve(null);
    const frozen = frozenCopy(next);
    this.#records.set(id, frozen);
    return Promise.resolve(frozen);
  }

  /** Ids of records with pending events. */
  idsWithPendingEvents(limit = 1000): Promise<string[]> {
    const out: string[] = [];
    for (const [id, r] of this.#records) {
      if (out.length >= limit) break;
      if (r.pendingEvents?.length) out.push(id);
    }
    return Promise.resolve(out);
  }

  /** Counts per state name. */
  counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const s of [1, 2, 3, 4, 5] as StrategyState[]) out[stateName(s)] = 0;
    for (const r of this.#records.values()) out[stateName(r.status.state)]++;
    return Promise.resolve(out);
  }

  /** Always ok. */
  health(): Promise<{ ok: boolean; detail: string }> {
    return Promise.resolve({ ok: true, detail: "memory" });
  }

  /** Nothing to release. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
