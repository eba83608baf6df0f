/**
 * {@link QueueWorker}: runs a handler over the jobs of any {@link WorkQueue}
 * with bounded concurrency, leasing ahead (prefetch) and acknowledging in the
 * background, so a slot starts its next job while the previous acknowledgement
 * is on its way and a Redis queue carries many leases and acks per round trip.
 * It is the one lease loop of the package: the gateway's diff worker and
 * webhook delivery run on it too (no prefetch, a readiness gate, a grace
 * period at shutdown).
 *
 * @module
 */

import { setTimeout as delay } from "node:timers/promises";
import { LeaseLostError, QueueError } from "./errors.ts";
import type { LeasedJob, NackResult, WorkQueue } from "./types.ts";
import { checkInt, checkOptionalInt } from "./validate.ts";

/**
 * Handles one job. Returning (or resolving) acknowledges it; throwing (or
 * rejecting) gives it back for a retry (`nack` with the error's message, after
 * the error's `retryAfterMs` when it is a {@link RetryJobError}), or
 * dead-letters it on its last attempt.
 *
 * @example
 * ```ts
 * import type { JobHandler } from "@qmtl/qmtl/queue";
 * const handle: JobHandler = (job) => {
 *   if (job.payload.length === 0) throw new Error("empty payload");
 * };
 * ```
 */
export type JobHandler = (job: LeasedJob) => void | Promise<void>;

/**
 * Thrown by a {@link JobHandler} to give its job back for a retry after
 * `retryAfterMs` (for example what a webhook's `Retry-After` asked for): an
 * expected outcome, not a fault.
 *
 * @example
 * ```ts
 * import { RetryJobError } from "@qmtl/qmtl/queue";
 * const handle = () => {
 *   throw new RetryJobError("HTTP 503", 30_000);
 * };
 * ```
 */
export class RetryJobError extends Error {
  /** Delay before the retry, ms; undefined: the worker's or queue's. */
  readonly retryAfterMs: number | undefined;

  /**
   * Creates a retry request.
   *
   * @param message Why (stored as the job's last error).
   * @param retryAfterMs Delay before the retry, ms.
   */
  constructor(message: string, retryAfterMs?: number) {
    super(message);
    this.name = "RetryJobError";
    this.retryAfterMs = retryAfterMs;
  }
}

/**
 * Options of {@link QueueWorker}.
 *
 * @example
 * ```ts
 * import type { QueueWorkerOptions } from "@qmtl/qmtl/queue";
 * const o: QueueWorkerOptions = { concurrency: 8, leaseMs: 30_000, prefetch: 16 };
 * ```
 */
export interface QueueWorkerOptions {
  /** Handlers running at once (default 1). */
  concurrency?: number;
  /** Lease length, ms (default 30000); renewed while a handler runs. */
  leaseMs?: number;
  /**
   * Most jobs leased ahead, beyond the running ones (default
   * `max(64, concurrency)`). The worker holds fewer while handlers are slow:
   * at most what the slots get through in a quarter of `leaseMs`, measured,
   * so that no prefetched job waits long on its lease. 0 turns it off.
   */
  prefetch?: number;
  /** Longest wait of one `lease` call when the queue is empty (default 1000). */
  blockMs?: number;
  /** Retry delay after a handler failure (default: the queue's backoff). */
  retryAfterMs?: number;
  /**
   * Checked before each lease: while it answers false (say the database the
   * handler needs is down) no job is leased, so none is tried and counted in
   * vain, and it is asked again after `blockMs` (at least 50 ms). Throwing
   * counts as false (the error goes to `onError`).
   */
  ready?: () => boolean | Promise<boolean>;
  /** Called once a job's acknowledgement is stored (and confirmed). */
  onCompleted?: (job: LeasedJob) => void;
  /** Called once a failed job was given back (or dead-lettered). */
  onFailed?: (job: LeasedJob, error: unknown, result: NackResult) => void;
  /**
   * Called on a problem the worker worked around: a lease, extension or
   * settle that failed (with the job when there is one). A
   * {@link LeaseLostError} on a job means another worker may run it again.
   */
  onError?: (error: unknown, job?: LeasedJob) => void;
}

/** How long `alive` tolerates no lease round and no finished job. */
const aliveWindowMs = (blockMs: number): number => blockMs * 10 + 5_000;

interface Held {
  job: LeasedJob;
  /** When the lease was taken or last extended (performance.now()). */
  since: number;
}

/**
 * Runs a handler over a queue's jobs: at most `concurrency` at once, with up
 * to `prefetch` more leased ahead, acknowledgements sent without holding a
 * slot (a slot starts its next job while the last ack is on its way; Redis
 * queues coalesce them), leases renewed while a handler runs. Guarantees
 * are the queue's: at-least-once, never two holders of a job at once; a job
 * is reported completed only once its ack is stored (and confirmed by
 * replicas when the queue waits for them). `stop()` gives prefetched jobs
 * back with `release` (their attempt returned).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { MemoryQueue } from "@qmtl/qmtl/queue";
 * import { QueueWorker } from "@qmtl/qmtl/queue";
 * const q = new MemoryQueue();
 * await q.enqueueMany([1, 2, 3].map((n) => ({ kind: "n", payload: new Uint8Array([n]) })));
 * const seen: number[] = [];
 * const { promise: allDone, resolve } = Promise.withResolvers<void>();
 * const w = new QueueWorker(q, (job) => {
 *   seen.push(job.payload[0]);
 * }, { concurrency: 2, onCompleted: () => seen.length === 3 && resolve() });
 * w.start();
 * await allDone;
 * await w.stop();
 * assert.deepEqual(seen.sort(), [1, 2, 3]);
 * await q.close();
 * ```
 */
export class QueueWorker {
  #q: WorkQueue;
  #handle: JobHandler;
  #o: QueueWorkerOptions;
  #concurrency: number;
  #leaseMs: number;
  #prefetch: number;
  #blockMs: number;
  #buffer: Held[] = [];
  #active = new Map<string, Held>();
  #settling = 0;
  #maxSettling: number;
  #fetching = false;
  #started = false;
  #stopping = false;
  #avgMs = -1;
  #fetchErrors = 0;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #idle: (() => void)[] = [];
  #completed = 0;
  #failed = 0;
  #lastTick = 0;

  /**
   * Builds the worker (call {@link QueueWorker.start} to run it).
   *
   * @param queue The queue.
   * @param handler Runs one job.
   * @param opts Concurrency, lease, prefetch, callbacks.
   */
  constructor(
    queue: WorkQueue,
    handler: JobHandler,
    opts: QueueWorkerOptions = {},
  ) {
    this.#q = queue;
    this.#handle = handler;
    this.#o = opts;
    this.#concurrency = checkInt("concurrency", opts.concurrency ?? 1, 1);
    this.#leaseMs = checkInt("leaseMs", opts.leaseMs ?? 30_000, 1);
    this.#prefetch = checkInt(
      "prefetch",
      opts.prefetch ?? Math.max(64, this.#concurrency),
      0,
    );
    this.#blockMs = checkInt("blockMs", opts.blockMs ?? 1_000, 0);
    checkOptionalInt("retryAfterMs", opts.retryAfterMs, 0);
    this.#maxSettling = 4 * (this.#concurrency + this.#prefetch);
  }

  /** Jobs acknowledged so far. */
  get completed(): number {
    return this.#completed;
  }

  /** Jobs whose handler failed so far. */
  get failed(): number {
    return this.#failed;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#active.size;
  }

  /**
   * When the worker last leased (or tried to, or waited on its readiness
   * gate) or saw a handler finish: ms since epoch; 0 before start.
   */
  get lastTick(): number {
    return this.#lastTick;
  }

  /**
   * True while started, not stopping, and ticking: a lease round or a
   * finished handler within `10 × blockMs + 5 s` (a worker whose handlers
   * all hang, or whose lease calls never return, is not alive).
   */
  get alive(): boolean {
    return this.#started && !this.#stopping &&
      Date.now() - this.#lastTick < aliveWindowMs(this.#blockMs);
  }

  /** Starts leasing and running jobs. Idempotent. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#lastTick = Date.now();
    this.#sweep = setInterval(
      () => this.#renew(),
      Math.max(Math.floor(this.#leaseMs / 3), 10),
    );
    this.#fill();
  }

  /**
   * Stops: no new leases; prefetched jobs are released, running handlers
   * finish, and pending acknowledgements are awaited. With `graceMs`, the
   * jobs of handlers still running after it are released (their attempt
   * returned, ready again at once) and `stop` returns without them; their
   * late settle then fails with `LeaseLostError` (to `onError`).
   *
   * @param graceMs Longest wait for running handlers, ms (default: no limit).
   */
  async stop(graceMs?: number): Promise<void> {
    if (!this.#started) return;
    this.#stopping = true;
    const idle = this.#whenIdle();
    if (graceMs === undefined) {
      await idle;
    } else {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = await Promise.race([
        idle.then(() => false),
        new Promise<boolean>((r) => timer = setTimeout(() => r(true), graceMs)),
      ]);
      clearTimeout(timer);
      if (late) {
        await Promise.all(
          [...this.#active.values()].map(({ job }) =>
            this.#q.release(job.id, job.leaseToken).catch((e) => {
              if (!(e instanceof LeaseLostError)) this.#o.onError?.(e, job);
            })
          ),
        );
      }
    }
    clearInterval(this.#sweep);
    this.#started = false;
    this.#stopping = false;
  }

  /** Prefetched jobs the slots will run without waiting on a lease. */
  #want(): number {
    if (this.#prefetch === 0) return this.#concurrency;
    // Hold no more than the slots get through in a quarter of the lease.
    const ahead = this.#avgMs < 0
      ? Math.min(this.#prefetch, this.#concurrency)
      : Math.min(
        this.#prefetch,
        Math.floor(
          this.#concurrency * (this.#leaseMs / 4) / Math.max(this.#avgMs, 1e-3),
        ),
      );
    return this.#concurrency + ahead;
  }

  #fill(): void {
    if (!this.#started || this.#stopping || this.#fetching) return;
    const capacity = this.#want();
    const want = capacity - this.#buffer.length - this.#active.size;
    // Refill in halves, so one lease call brings many jobs; but never leave
    // a free slot idle with nothing in the buffer.
    if (
      want <= 0 ||
      (want < Math.ceil(capacity / 2) && this.#buffer.length > 0)
    ) return;
    this.#fetching = true;
    this.#lastTick = Date.now();
    const ready = this.#o.ready;
    if (ready !== undefined) {
      Promise.resolve().then(ready).catch((e) => {
        this.#o.onError?.(e);
        return false;
      }).then(async (ok) => {
        if (ok) return this.#lease(want);
        await delay(Math.max(this.#blockMs, 50));
        this.#fetching = false;
        this.#fill();
        this.#checkIdle();
      });
      return;
    }
    this.#lease(want);
  }

  #lease(want: number): void {
    if (this.#stopping) {
      this.#fetching = false;
      this.#checkIdle();
      return;
    }
    this.#q.lease(want, { leaseMs: this.#leaseMs, blockMs: this.#blockMs })
      .then((jobs) => {
        this.#fetchErrors = 0;
        this.#lastTick = Date.now();
        const now = performance.now();
        for (const job of jobs) this.#buffer.push({ job, since: now });
        this.#fetching = false;
        if (this.#stopping) this.#releaseBuffer();
        else this.#dispatch();
        this.#fill();
        this.#checkIdle();
      }, async (e) => {
        this.#fetchErrors++;
        this.#lastTick = Date.now();
        this.#o.onError?.(e);
        await delay(Math.min(100 * 2 ** Math.min(this.#fetchErrors, 6), 5_000));
        this.#fetching = false;
        this.#fill();
        this.#checkIdle();
      });
  }

  #dispatch(): void {
    while (
      this.#active.size < this.#concurrency && this.#buffer.length > 0 &&
      this.#settling < this.#maxSettling && !this.#stopping
    ) {
      const held = this.#buffer.shift()!;
      this.#active.set(held.job.id, held);
      this.#run(held);
    }
  }

  async #run(held: Held): Promise<void> {
    const job = held.job;
    try {
      // A prefetched job that waited half its lease is renewed first.
      if (performance.now() - held.since > this.#leaseMs / 2) {
        try {
          job.leaseExpiresAtMs = await this.#q.extendLease(
            job.id,
            job.leaseToken,
            this.#leaseMs,
          );
          held.since = performance.now();
        } catch (e) {
          this.#o.onError?.(e, job);
          return;
        }
      }
      const t = performance.now();
      let error: unknown = undefined;
      let ok = true;
      try {
        await this.#handle(job);
      } catch (e) {
        ok = false;
        error = e;
      }
      const ms = performance.now() - t;
      this.#lastTick = Date.now();
      this.#avgMs = this.#avgMs < 0 ? ms : this.#avgMs * 0.9 + ms * 0.1;
      this.#settling++;
      (ok ? this.#ack(job) : this.#nack(job, error)).finally(() => {
        this.#settling--;
        this.#dispatch();
        this.#checkIdle();
      });
    } finally {
      this.#active.delete(job.id);
      this.#dispatch();
      this.#fill();
      this.#checkIdle();
    }
  }

  async #ack(job: LeasedJob): Promise<void> {
    await this.#settle(job, async () => {
      await this.#q.ack(job.id, job.leaseToken);
      this.#completed++;
      this.#o.onCompleted?.(job);
    });
  }

  async #nack(job: LeasedJob, error: unknown): Promise<void> {
    this.#failed++;
    const message = error instanceof Error ? error.message : String(error);
    await this.#settle(job, async () => {
      const r = await this.#q.nack(job.id, job.leaseToken, {
        error: message,
        retryAfterMs:
          (error instanceof RetryJobError ? error.retryAfterMs : undefined) ??
            this.#o.retryAfterMs,
      });
      this.#o.onFailed?.(job, error, r);
    });
  }

  /**
   * Runs an ack or nack of `job`, repeated with the same token while it
   * fails in a way that may pass (an unconfirmed write, an unreachable
   * queue: a Sentinel failover lasts seconds) for up to half a lease (at
   * least 1 s). Repeating is safe: a repeated ack is a no-op, and a nack
   * that went through makes the next try fail with `LeaseLostError`, which
   * is final. A final failure goes to `onError`; so does any failure once
   * the worker is stopping.
   */
  async #settle(job: LeasedJob, step: () => Promise<void>): Promise<void> {
    const until = Date.now() + Math.max(this.#leaseMs / 2, 1_000);
    for (let attempt = 0;; attempt++) {
      try {
        await step();
        return;
      } catch (e) {
        // Final, out of time, or shutting down (a stop is bounded): the
        // lease expires and the job comes back.
        const final = e instanceof QueueError && !e.retryable;
        if (final || Date.now() >= until || this.#stopping) {
          this.#o.onError?.(e, job);
          return;
        }
        await delay(Math.min(50 * 2 ** attempt, 2_000));
      }
    }
  }

  /** Renews the leases of handlers running for a third of a lease. */
  #renew(): void {
    const now = performance.now();
    for (const held of this.#active.values()) {
      if (now - held.since < this.#leaseMs / 3) continue;
      held.since = now;
      this.#q.extendLease(held.job.id, held.job.leaseToken, this.#leaseMs)
        .then((exp) => {
          held.job.leaseExpiresAtMs = exp;
        }, (e) => this.#o.onError?.(e, held.job));
    }
  }

  #releaseBuffer(): void {
    const jobs = this.#buffer.splice(0);
    if (jobs.length === 0) return;
    this.#settling++;
    Promise.all(
      jobs.map(({ job }) =>
        this.#q.release(job.id, job.leaseToken).catch((e) => {
          // Lost or unconfirmed: the lease expires and the job comes back.
          if (!(e instanceof LeaseLostError)) this.#o.onError?.(e, job);
        })
      ),
    ).finally(() => {
      this.#settling--;
      this.#checkIdle();
    });
  }

  #whenIdle(): Promise<void> {
    if (this.#stopping) this.#releaseBuffer();
    return new Promise((resolve) => {
      this.#idle.push(resolve);
      this.#checkIdle();
    });
  }

  #checkIdle(): void {
    if (
      !this.#stopping || this.#fetching || this.#active.size > 0 ||
      this.#settling > 0 || this.#buffer.length > 0
    ) return;
    for (const r of this.#idle.splice(0)) r();
  }
}
