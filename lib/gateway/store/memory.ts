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
import {
  applyTransition,
  claimPendingEvents,
  initialRecord,
  withoutPendingEvents,
} from "../lifecycle/records.ts";
import { stateName } from "../../contracts/states.ts";
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
