/**
 * The record-level half of the lifecycle, shared by every strategy store:
 * a transition applied to a record (compare-and-set checks, the pending
 * CloudEvent it adds, the publisher claim), the pending events' claim and
 * removal, and a new strategy's first record. The stores only persist what
 * these return.
 *
 * @module
 */

import { QmtlError } from "../../contracts/errors.ts";
import type { StrategyStatus } from "../../contracts/messages.ts";
import { stateName } from "../../contracts/states.ts";
import type {
  EventPublisherClaim,
  PendingEventBuilder,
  StrategyRecord,
  TransitionRequest,
} from "../store/types.ts";

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
