/**
 * Interfaces of the queue module: the durable {@link WorkQueue}, the
 * CloudEvents {@link EventLog} and the node-output {@link TopicStore}.
 *
 * Every interface has an in-process backend (`Memory*`) and a Redis backend
 * (`Redis*`) that pass one conformance suite. Payloads are opaque bytes: the
 * queue never decodes them.
 *
 * @module
 */

import type { Event, QueueJob } from "../contracts/messages.ts";

export type { Event, QueueJob };

/**
 * How many of a stream's last entries {@link EventLog.append} searches for
 * the event's id before appending (see there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { APPEND_DEDUP_WINDOW } from "@qmtl/qmtl/queue";
 * assert.equal(APPEND_DEDUP_WINDOW, 16);
 * ```
 */
export const APPEND_DEDUP_WINDOW = 16;

/**
 * How many of the first stream's last entries
 * {@link EventLog.appendLinked} searches for the event's id. Larger than
 * {@link APPEND_DEDUP_WINDOW}: the first stream is a strategy's own stream,
 * short, and a lifecycle event retried after a crash may have a few of its
 * strategy's later events after it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { LINKED_DEDUP_WINDOW } from "@qmtl/qmtl/queue";
 * assert.equal(LINKED_DEDUP_WINDOW, 256);
 * ```
 */
export const LINKED_DEDUP_WINDOW = 256;

/**
 * Where a job is in its life.
 *
 * - `ready`: may be leased now.
 * - `delayed`: waiting for `notBeforeMs` (a delayed enqueue or a retry).
 * - `leased`: held by one worker until `leaseExpiresAtMs`.
 * - `done`: acknowledged; kept for a bounded time (`retainDoneMs`).
 * - `dead`: failed `maxAttempts` times; kept until requeued.
 *
 * @example
 * ```ts
 * import type { JobState } from "@qmtl/qmtl/queue";
 * const s: JobState = "ready";
 * ```
 */
export type JobState = "ready" | "delayed" | "leased" | "done" | "dead";

/**
 * A job as the queue reports it: the `QueueJob` contract message plus its
 * current state. `attempts` counts the leases taken so far.
 *
 * @example
 * ```ts
 * import type { Job } from "@qmtl/qmtl/queue";
 * function show(j: Job): void {
 *   console.log(j.id, j.state, j.attempts, "/", j.maxAttempts);
 * }
 * ```
 */
export interface Job extends QueueJob {
  /** Current state. */
  state: JobState;
}

/**
 * A job handed to one worker by {@link WorkQueue.lease}. Only the holder of
 * `leaseToken` may {@link WorkQueue.ack}, {@link WorkQueue.nack} or
 * {@link WorkQueue.extendLease} it, and only before `leaseExpiresAtMs`.
 *
 * @example
 * ```ts
 * import type { LeasedJob } from "@qmtl/qmtl/queue";
 * function show(j: LeasedJob): void {
 *   console.log(j.id, j.leaseToken, new Date(j.leaseExpiresAtMs));
 * }
 * ```
 */
export interface LeasedJob extends Job {
  /** Opaque token proving this lease; a new one for every lease. */
  leaseToken: string;
  /** Lease expiry, ms since epoch (queue clock). */
  leaseExpiresAtMs: number;
}

/**
 * Options of {@link WorkQueue.enqueue}.
 *
 * @example
 * ```ts
 * import type { EnqueueOptions } from "@qmtl/qmtl/queue";
 * const o: EnqueueOptions = { idempotencyKey: "diff:st_1:v1", delayMs: 0, maxAttempts: 5 };
 * ```
 */
export interface EnqueueOptions {
  /**
   * Enqueue at most once per key: a second enqueue with the same key returns
   * the existing job with `created: false` (while the job, or its `done`
   * record, is retained).
   */
  idempotencyKey?: string;
  /** Not leasable for this many milliseconds (default 0). */
  delayMs?: number;
  /** Dead-letter after this many attempts (default: the queue's, 5). */
  maxAttempts?: number;
}

/**
 * Result of {@link WorkQueue.enqueue}.
 *
 * @example
 * ```ts
 * import type { EnqueueResult } from "@qmtl/qmtl/queue";
 * function show(r: EnqueueResult): void {
 *   if (!r.created) console.log("duplicate of", r.job.id);
 * }
 * ```
 */
export interface EnqueueResult {
  /** The new job, or the existing one with the same idempotency key. */
  job: Job;
  /** False when an existing job was returned. */
  created: boolean;
}

/**
 * One job of {@link WorkQueue.enqueueMany}: what {@link WorkQueue.enqueue}
 * takes, as one object.
 *
 * @example
 * ```ts
 * import type { EnqueueRequest } from "@qmtl/qmtl/queue";
 * const r: EnqueueRequest = { kind: "diff", payload: new Uint8Array([1]), idempotencyKey: "st_1" };
 * ```
 */
export interface EnqueueRequest extends EnqueueOptions {
  /** Job kind (non-empty). */
  kind: string;
  /** Opaque payload. */
  payload: Uint8Array;
}

/**
 * Options of {@link WorkQueue.lease}.
 *
 * @example
 * ```ts
 * import type { LeaseOptions } from "@qmtl/qmtl/queue";
 * const o: LeaseOptions = { leaseMs: 30_000, blockMs: 1_000 };
 * ```
 */
export interface LeaseOptions {
  /** Lease duration in milliseconds (> 0). */
  leaseMs: number;
  /**
   * When nothing is ready, wait up to this long for a job (default 0: return
   * at once). Always bounded; an empty array means "nothing yet".
   */
  blockMs?: number;
}

/**
 * Options of {@link WorkQueue.nack}.
 *
 * @example
 * ```ts
 * import type { NackOptions } from "@qmtl/qmtl/queue";
 * const o: NackOptions = { error: "neo4j unavailable", retryAfterMs: 5_000 };
 * ```
 */
export interface NackOptions {
  /**
   * Retry after this many milliseconds. Omitted: exponential backoff with
   * jitter from the queue's {@link BackoffOptions}.
   */
  retryAfterMs?: number;
  /** Failure message, kept as `lastError` (also on the dead letter). */
  error?: string;
}

/**
 * What {@link WorkQueue.nack} did with the job.
 *
 * @example
 * ```ts
 * import type { NackResult } from "@qmtl/qmtl/queue";
 * function show(r: NackResult): void {
 *   console.log(r.state === "dead" ? "dead-lettered" : `retry at ${r.notBeforeMs}`);
 * }
 * ```
 */
export interface NackResult {
  /** `delayed` / `ready` (will be retried) or `dead`. */
  state: JobState;
  /** Attempts so far. */
  attempts: number;
  /** When the retry becomes leasable (ms since epoch); 0 when dead. */
  notBeforeMs: number;
}

/**
 * Exponential backoff used by {@link WorkQueue.nack} when no `retryAfterMs`
 * is given: `min(maxMs, baseMs * 2^(attempts-1))`, then "equal jitter" (a
 * uniform value between half and all of it).
 *
 * @example
 * ```ts
 * import type { BackoffOptions } from "@qmtl/qmtl/queue";
 * const b: BackoffOptions = { baseMs: 1_000, maxMs: 300_000 };
 * ```
 */
export interface BackoffOptions {
  /** Delay after the first failed attempt, before jitter (default 1000). */
  baseMs: number;
  /** Upper bound of any delay (default 300000). */
  maxMs: number;
}

/**
 * Job counts per state, from {@link WorkQueue.stats}.
 *
 * @example
 * ```ts
 * import type { QueueStats } from "@qmtl/qmtl/queue";
 * function show(s: QueueStats): void {
 *   console.log(s.ready + s.delayed + s.leased, "in flight;", s.dead, "dead");
 * }
 * ```
 */
export interface QueueStats {
  /** Leasable now (including expired leases and due delayed jobs not yet moved). */
  ready: number;
  /** Waiting for their `notBeforeMs`. */
  delayed: number;
  /** Held by a worker (some may have expired and await reclaim). */
  leased: number;
  /** Acknowledged since the queue was created (a counter, not a retained set). */
  done: number;
  /** Dead-lettered and not requeued. */
  dead: number;
}

/**
 * A durable at-least-once work queue with leases.
 *
 * Semantics shared by every backend:
 * - `enqueue` with an `idempotencyKey` returns the existing job for that key.
 * - `lease` hands each ready job to exactly one caller and takes one attempt;
 *   an expired lease is reclaimed by a later `lease` (back to ready, or dead
 *   when attempts are used up, with `lastError` "lease expired").
 * - `ack`/`nack`/`extendLease` need the current lease token and an unexpired
 *   lease, otherwise they throw `LeaseLostError`. An `ack` repeated with the
 *   same token after it succeeded is a no-op.
 * - `nack` retries with backoff, or dead-letters once `attempts >=
 *   maxAttempts`, keeping `lastError`; `release` gives an untouched job back
 *   without using an attempt.
 *
 * @example
 * ```ts
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * const q = new MemoryQueue();
 * await q.enqueue("diff", new Uint8Array([1]), { idempotencyKey: "st_1" });
 * const [job] = await q.lease(1, { leaseMs: 10_000 });
 * await q.ack(job.id, job.leaseToken);
 * await q.close();
 * ```
 */
export interface WorkQueue {
  /** Adds a job (or returns the existing one for the idempotency key). */
  enqueue(
    kind: string,
    payload: Uint8Array,
    opts?: EnqueueOptions,
  ): Promise<EnqueueResult>;
  /**
   * Adds jobs in order, as `enqueue` would one by one (an idempotency key
   * used earlier in the same call returns that job). Every request is
   * checked before anything is written: a bad one throws `E_INVALID` naming
   * its index and enqueues nothing.
   */
  enqueueMany(jobs: readonly EnqueueRequest[]): Promise<EnqueueResult[]>;
  /** Leases up to `count` ready jobs, oldest first. */
  lease(count: number, opts: LeaseOptions): Promise<LeasedJob[]>;
  /** Marks a leased job done. */
  ack(id: string, leaseToken: string): Promise<void>;
  /** Gives a leased job back for a retry, or dead-letters it. */
  nack(
    id: string,
    leaseToken: string,
    opts?: NackOptions,
  ): Promise<NackResult>;
  /**
   * Gives back a leased job that was not worked on (e.g. prefetched by a
   * worker that stops): ready again at the head of the queue, the attempt its
   * lease took returned. Throws `LeaseLostError` like `ack`.
   */
  release(id: string, leaseToken: string): Promise<void>;
  /** Pushes the lease expiry to now + `leaseMs`; returns the new expiry. */
  extendLease(id: string, leaseToken: string, leaseMs: number): Promise<number>;
  /** The job with this id, or `null` (unknown, or a `done` record past retention). */
  get(id: string): Promise<Job | null>;
  /** Counts per state. */
  stats(): Promise<QueueStats>;
  /** Dead-lettered jobs, oldest first (at most `limit`, default 100). */
  listDead(limit?: number): Promise<Job[]>;
  /** Moves a dead job back to ready with attempts reset; false if not dead. */
  requeueDead(id: string): Promise<boolean>;
  /** Stops timers and closes connections the queue owns. */
  close(): Promise<void>;
}

/**
 * One entry of an {@link EventLog} stream.
 *
 * @example
 * ```ts
 * import type { EventLogEntry } from "@qmtl/qmtl/queue";
 * function show(e: EventLogEntry): void {
 *   console.log(e.id, e.event.type); // e.id is the SSE id / Last-Event-ID
 * }
 * ```
 */
export interface EventLogEntry {
  /** Stream entry id (`<ms>-<seq>`), increasing within a stream. */
  id: string;
  /** The CloudEvent. */
  event: Event;
}

/**
 * What {@link EventLog.appendLinked} did.
 *
 * @example
 * ```ts
 * import type { LinkedAppend } from "@qmtl/qmtl/queue";
 * function describe(r: LinkedAppend): string {
 *   return r.appended ? `appended as ${r.id} and ${r.alsoId}` : `already there as ${r.id}`;
 * }
 * ```
 */
export interface LinkedAppend {
  /**
   * False when the first stream already carried the event's id (nothing
   * was appended to either stream).
   */
  appended: boolean;
  /** The event's entry id in the first stream. */
  id: string;
  /** Its entry id in the second stream; `""` when nothing was appended. */
  alsoId: string;
}

/**
 * Options of {@link EventLog.read}.
 *
 * @example
 * ```ts
 * import type { ReadOptions } from "@qmtl/qmtl/queue";
 * const o: ReadOptions = { after: "1700000000000-0", count: 100, blockMs: 5_000 };
 * ```
 */
export interface ReadOptions {
  /** Return entries strictly after this id (default: from the start). */
  after?: string;
  /** At most this many entries (default 100). */
  count?: number;
  /** When there is nothing yet, wait up to this long (default 0). */
  blockMs?: number;
}

/**
 * Options of {@link EventLog.readGroup}.
 *
 * @example
 * ```ts
 * import type { GroupReadOptions } from "@qmtl/qmtl/queue";
 * const o: GroupReadOptions = { count: 10, blockMs: 1_000 };
 * ```
 */
export interface GroupReadOptions {
  /** At most this many entries (default 100). */
  count?: number;
  /** When there is nothing new, wait up to this long (default 0). */
  blockMs?: number;
  /**
   * Also claim entries delivered to another consumer and not acknowledged
   * for at least this long (crash recovery of a consumer). Default: off.
   */
  claimIdleMs?: number;
}

/**
 * An append-only log of CloudEvents per stream (e.g. per strategy) with
 * bounded retention, resumable reads and consumer groups.
 *
 * @example
 * ```ts
 * import { create } from "@bufbuild/protobuf";
 * import { EventSchema } from "@qmtl/qmtl/contracts";
 * import { MemoryEventLog } from "@qmtl/qmtl/queue";
 * const log = new MemoryEventLog({ maxLen: 1000 });
 * const id = await log.append("st_1", create(EventSchema, {
 *   id: "e1", source: "/qmtl/gateway", specVersion: "1.0", type: "qmtl.strategy.queued",
 *   subject: "st_1", time: new Date().toISOString(), dataContentType: "application/json",
 * }));
 * const later = await log.read("st_1", { after: id });
 * await log.close();
 * ```
 */
export interface EventLog {
  /**
   * Appends an event; returns its entry id. Idempotent per event id: when
   * one of the stream's last {@link APPEND_DEDUP_WINDOW} entries already
   * carries `event.id` (a retried append whose first attempt landed, e.g.
   * its reply was lost in a failover), nothing is appended and that entry's
   * id is returned.
   */
  append(stream: string, event: Event): Promise<string>;
  /**
   * Appends an event to `stream` and to `also` in one step: both streams
   * carry it or neither does (a strategy's own stream and the global one).
   * Idempotent per event id by `stream`: when one of its last
   * {@link LINKED_DEDUP_WINDOW} entries already carries `event.id`, nothing
   * is appended to either stream and `appended` is false. With one step
   * instead of two appends, a retry never finds the event in one stream
   * and not in the other (unless an earlier release appended them apart).
   *
   * @throws {QueueError} `E_INVALID` when `also` names `stream` itself or a
   *   name is invalid (nothing is appended)
   */
  appendLinked(
    stream: string,
    also: string,
    event: Event,
  ): Promise<LinkedAppend>;
  /** Reads entries after `opts.after`, oldest first. */
  read(stream: string, opts?: ReadOptions): Promise<EventLogEntry[]>;
  /** Number of entries currently retained. */
  length(stream: string): Promise<number>;
  /**
   * Creates a consumer group if missing (idempotent). `startId` `"0"` (the
   * default) delivers retained history, `"$"` only new entries.
   */
  ensureGroup(
    stream: string,
    group: string,
    opts?: { startId?: string },
  ): Promise<void>;
  /** Reads entries not yet delivered to the group, for `consumer`. */
  readGroup(
    stream: string,
    group: string,
    consumer: string,
    opts?: GroupReadOptions,
  ): Promise<EventLogEntry[]>;
  /** Acknowledges delivered entries; returns how many were pending. */
  ackGroup(stream: string, group: string, ids: string[]): Promise<number>;
  /** Stops timers and closes connections the log owns. */
  close(): Promise<void>;
}

/**
 * Options of {@link TopicStore.create}.
 *
 * @example
 * ```ts
 * import type { TopicOptions } from "@qmtl/qmtl/queue";
 * const o: TopicOptions = { retentionMs: 86_400_000, maxLen: 100_000 };
 * ```
 */
export interface TopicOptions {
  /** Drop records older than this (default: the store's, 7 days). */
  retentionMs?: number;
  /** Keep at most about this many records (default: the store's, 100000). */
  maxLen?: number;
}

/**
 * Metadata of a topic.
 *
 * @example
 * ```ts
 * import type { TopicInfo } from "@qmtl/qmtl/queue";
 * function show(t: TopicInfo): void {
 *   console.log(t.name, t.retentionMs, t.maxLen, new Date(t.createdAtMs));
 * }
 * ```
 */
export interface TopicInfo {
  /** Topic name. */
  name: string;
  /** Retention in milliseconds. */
  retentionMs: number;
  /** Maximum (approximate for Redis) number of records. */
  maxLen: number;
  /** Creation time, ms since epoch. */
  createdAtMs: number;
}

/**
 * One bar of a topic: a node's output (or a stream's input) for the bar
 * starting at `barTs`.
 *
 * @example
 * ```ts
 * import type { BarEntry } from "@qmtl/qmtl/queue";
 * const b: BarEntry = { barTs: 1_700_000_040, data: new Uint8Array([1]) };
 * ```
 */
export interface BarEntry {
  /**
   * Bar time, seconds since the epoch, ≥ 0, at most millisecond precision
   * (the stream entry id is `barTs × 1000`). Strictly increasing per topic.
   */
  barTs: number;
  /** The encoded record (a `qmtl.v1.BarRecord`). */
  data: Uint8Array;
}

/**
 * A producer lease on a topic: who may append to it.
 *
 * @example
 * ```ts
 * import type { LeaseFence } from "@qmtl/qmtl/queue";
 * const f: LeaseFence = { token: "lease-token-from-acquire" };
 * ```
 */
export interface LeaseFence {
  /** The token of the caller's grant; the append is refused unless it is current. */
  token: string;
}

/**
 * Options of {@link TopicStore.append}.
 *
 * @example
 * ```ts
 * import type { AppendOptions } from "@qmtl/qmtl/queue";
 * const o: AppendOptions = { fence: { token: "t" } };
 * ```
 */
export interface AppendOptions {
  /** Refuse the append (`TopicLeaseError`) unless this grant holds the topic's lease. */
  fence?: LeaseFence;
}

/**
 * Result of {@link TopicStore.append}.
 *
 * @example
 * ```ts
 * import type { AppendResult } from "@qmtl/qmtl/queue";
 * const r: AppendResult = { accepted: 2, dropped: 0, lastBarTs: 120 };
 * ```
 */
export interface AppendResult {
  /** Bars appended. */
  accepted: number;
  /** Bars not appended: at or before the topic's last bar. */
  dropped: number;
  /** The topic's last bar time after the append, or `null` when empty. */
  lastBarTs: number | null;
}

/**
 * Options of {@link TopicStore.read}.
 *
 * @example
 * ```ts
 * import type { BarReadOptions } from "@qmtl/qmtl/queue";
 * const o: BarReadOptions = { afterBarTs: 1_700_000_000, limit: 500 };
 * ```
 */
export interface BarReadOptions {
  /** Bars strictly after this bar time (default: from the oldest). */
  afterBarTs?: number;
  /** At most this many bars (default 1000, at most 10000). */
  limit?: number;
  /** The newest `tail` bars instead (after `afterBarTs` if given), oldest first. */
  tail?: number;
}

/**
 * Where a reader is in one topic.
 *
 * @example
 * ```ts
 * import type { BarCursor } from "@qmtl/qmtl/queue";
 * const c: BarCursor = { topic: "btc_Processing_ab12cd34_v1", afterBarTs: 120 };
 * ```
 */
export interface BarCursor {
  /** Topic name. */
  topic: string;
  /** Bars strictly after this bar time (default: from the oldest). */
  afterBarTs?: number;
}

/**
 * Options of {@link TopicStore.readMany}.
 *
 * @example
 * ```ts
 * import type { ReadManyOptions } from "@qmtl/qmtl/queue";
 * const o: ReadManyOptions = { limit: 1000, waitMs: 25_000 };
 * ```
 */
export interface ReadManyOptions {
  /** At most this many bars per topic (default 1000, at most 10000). */
  limit?: number;
  /** When no topic has a new bar, wait up to this long for one (default 0). */
  waitMs?: number;
  /** Abort the wait. */
  signal?: AbortSignal;
}

/**
 * New bars of one topic, as {@link TopicStore.readMany} returns them.
 *
 * @example
 * ```ts
 * import type { BarBatch } from "@qmtl/qmtl/queue";
 * const count = (t: BarBatch) => t.bars.length;
 * ```
 */
export interface BarBatch {
  /** Topic name. */
  topic: string;
  /** New bars, oldest first. */
  bars: BarEntry[];
}

/**
 * A producer-lease grant (or refusal), from {@link TopicStore.acquireLease}.
 *
 * @example
 * ```ts
 * import type { ProducerLease } from "@qmtl/qmtl/queue";
 * const mine = (g: ProducerLease) => g.granted ? g.token : null;
 * ```
 */
export interface ProducerLease {
  /** True when the caller holds the lease (new grant or renewal). */
  granted: boolean;
  /** The current holder (the caller's name when granted). */
  holder: string;
  /** The caller's token when granted; `""` otherwise (never another's). */
  token: string;
  /** Milliseconds until the lease expires unless renewed. */
  ttlMs: number;
  /**
   * True when this grant replaces an earlier holder's grant that expired
   * without being released (the earlier producer died or stalled).
   */
  takeover: boolean;
  /** The earlier holder on a takeover, else `""`. */
  previousHolder: string;
}

/**
 * Result of {@link TopicStore.create}.
 *
 * @example
 * ```ts
 * import type { CreateTopicResult } from "@qmtl/qmtl/queue";
 * function show(r: CreateTopicResult): void {
 *   console.log(r.created ? "new" : "existing", r.info.name);
 * }
 * ```
 */
export interface CreateTopicResult {
  /** The topic's metadata (the existing one's when not created). */
  info: TopicInfo;
  /** False when the topic already existed. */
  created: boolean;
}

/**
 * Node output topics: one stream of bars per topic, created idempotently,
 * keyed by bar time (strictly increasing: a bar at or before the last one is
 * dropped, so no bar is ever stored twice), with producer leases that fence
 * appends so only the lease holder's bars are stored. `append`/`read` on a
 * topic that does not exist throw `TopicNotFoundError`.
 *
 * @example
 * ```ts
 * import { MemoryTopicStore } from "@qmtl/qmtl/queue";
 * import assert from "node:assert/strict";
 * const topics = new MemoryTopicStore();
 * const t = "btc_Processing_ab12cd34_v1";
 * await topics.create(t, { maxLen: 1000 });
 * const lease = await topics.acquireLease(t, "runner-a", 5_000);
 * const r = await topics.append(t, [{ barTs: 60, data: new Uint8Array([42]) }], {
 *   fence: { token: lease.token },
 * });
 * assert.equal(r.accepted, 1);
 * assert.equal((await topics.read(t))[0].barTs, 60);
 * await topics.close();
 * ```
 */
export interface TopicStore {
  /** Creates the topic if missing (idempotent: existing metadata wins). */
  create(name: string, opts?: TopicOptions): Promise<CreateTopicResult>;
  /**
   * Appends bars (in increasing bar time); bars at or before the topic's
   * last bar are dropped and counted. With a fence, refused with
   * `TopicLeaseError` unless the fence's grant holds the topic's lease.
   */
  append(
    name: string,
    bars: readonly BarEntry[],
    opts?: AppendOptions,
  ): Promise<AppendResult>;
  /** Reads bars, oldest first. */
  read(name: string, opts?: BarReadOptions): Promise<BarEntry[]>;
  /**
   * Reads new bars of several topics; when none has any, waits up to
   * `waitMs` for one. Topics with nothing new are left out. A topic that
   * does not exist throws `TopicNotFoundError`.
   */
  readMany(
    cursors: readonly BarCursor[],
    opts?: ReadManyOptions,
  ): Promise<BarBatch[]>;
  /** The newest bar time of the topic, or `null` when it has none. */
  lastBarTs(name: string): Promise<number | null>;
  /**
   * Acquire or renew the producer lease of a topic for `ttlMs`. Renewal:
   * pass the token of the current grant. Never throws for a held lease:
   * the result says who holds it.
   */
  acquireLease(
    name: string,
    holder: string,
    ttlMs: number,
    token?: string,
  ): Promise<ProducerLease>;
  /** Release a lease held with `token`; false when it was not held with it. */
  releaseLease(name: string, token: string): Promise<boolean>;
  /** Deletes the topic, its bars and its lease; false if it did not exist. */
  delete(name: string): Promise<boolean>;
  /** True when the topic exists. */
  exists(name: string): Promise<boolean>;
  /** The topic's metadata, or `null`. */
  info(name: string): Promise<TopicInfo | null>;
  /** Names of all topics, sorted. */
  list(): Promise<string[]>;
  /** Stops timers, wakes waiting readers, closes connections the store owns. */
  close(): Promise<void>;
}

/**
 * Components of a topic name, see `topicName`.
 *
 * @example
 * ```ts
 * import type { TopicNameParts } from "@qmtl/qmtl/queue";
 * const p: TopicNameParts = { asset: "btc", nodeType: "Processing", nodeId: "sha256:ab12cd34…", version: 1 };
 * ```
 */
export interface TopicNameParts {
  /** Asset or market, e.g. `btc`. */
  asset: string;
  /** Node type, e.g. `Processing`. */
  nodeType: string;
  /** `sha256:` + hex node id; its first 8 hex digits name the topic. */
  nodeId: string;
  /** Topic version, an integer ≥ 1. */
  version: number;
}
